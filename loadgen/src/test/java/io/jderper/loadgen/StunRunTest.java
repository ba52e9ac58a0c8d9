package io.jderper.loadgen;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.jderper.stun.StunMessages;
import org.agrona.concurrent.UnsafeBuffer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.SocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.AsynchronousCloseException;
import java.nio.channels.DatagramChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicLong;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The stun scenario against a small STUN responder in this JVM built on the stun module's codec (jderper's own STUN
 * server comes with the STUN issue; the perf report runs this scenario against Go derper's).
 */
class StunRunTest
{
    @Test
    void shouldGetAnAnswerWithItsOwnAddressForEveryRequest(@TempDir final Path out) throws Exception
    {
        try (Responder responder = new Responder(false, 1))
        {
            // 80 requests in flight: well under what the responder's socket buffer holds.
            final LoadGenRun run = run(responder, out, "--clients", "20", "--window", "4", "--duration", "2s",
                "--server-pid", Long.toString(ProcessHandle.current().pid()));

            assertThat(run.code()).as(run.output()).isZero();
            final JsonNode summary = new ObjectMapper().readTree(out.resolve(Report.SUMMARY_JSON).toFile());
            assertThat(summary.at("/result/ok").asBoolean()).isTrue();
            assertThat(summary.at("/settings/scenario").asText()).isEqualTo("stun");
            assertThat(summary.at("/settings/sockets").asInt()).isEqualTo(20);
            final long sent = summary.at("/stun/sent").asLong();
            assertThat(sent).isPositive();
            assertThat(summary.at("/stun/answered").asLong()).isEqualTo(sent).isEqualTo(responder.answered.get());
            assertThat(summary.at("/stun/lost").asLong()).isZero();
            assertThat(summary.at("/stun/wrongAddress").asLong()).isZero();
            assertThat(summary.at("/stun/malformed").asLong()).isZero();
            assertThat(summary.at("/stun/roundTripUs/count").asLong()).isEqualTo(sent);
            assertThat(summary.at("/stun/roundTripUs/p99").asDouble()).isPositive();
            assertThat(summary.at("/stun/repliesPerSecond").asDouble()).isPositive();
            assertThat(summary.at("/server/cpuSecondsPerMillionReplies").asDouble()).isPositive();
            assertThat(responder.notTailscale.get()).as("every request in Tailscale's form").isZero();
            assertThat(Files.size(out.resolve(Report.LATENCY_PNG))).isPositive();
            assertThat(Files.size(out.resolve(Report.THROUGHPUT_PNG))).isPositive();
            assertThat(run.stdout()).contains("loadgen: OK");
        }
    }

    @Test
    void shouldPaceRequestsAtTheGivenRate(@TempDir final Path out) throws Exception
    {
        try (Responder responder = new Responder(false, 1))
        {
            final LoadGenRun run = run(responder, out, "--clients", "4", "--rate", "50", "--duration", "2s");

            assertThat(run.code()).as(run.output()).isZero();
            final JsonNode summary = new ObjectMapper().readTree(out.resolve(Report.SUMMARY_JSON).toFile());
            // 4 sockets x 50/s x 2 s = 400, give or take the first and last tick.
            assertThat(summary.at("/stun/sent").asLong()).isBetween(360L, 440L);
            assertThat(summary.at("/stun/lost").asLong()).isZero();
        }
    }

    @Test
    void shouldKeepItsWindowFullWhenAnswersComeBackOutOfOrder(@TempDir final Path out) throws Exception
    {
        // The responder holds 4 requests and answers them last first: a window that lost a slot to the reordering
        // would stall at 3 in flight, and every later request would time out. When sending stops, the last 1 to 3
        // requests wait in the responder for a fourth that never comes: those are the only ones lost.
        try (Responder responder = new Responder(false, 4))
        {
            final LoadGenRun run = run(responder, out, "--clients", "1", "--window", "4", "--duration", "1s",
                "--stun-timeout", "200ms", "--max-error-fraction", "0.01");

            assertThat(run.code()).as(run.output()).isZero();
            final JsonNode summary = new ObjectMapper().readTree(out.resolve(Report.SUMMARY_JSON).toFile());
            assertThat(summary.at("/stun/lost").asLong()).isLessThanOrEqualTo(3);
            assertThat(summary.at("/stun/late").asLong()).isZero();
            assertThat(summary.at("/stun/answered").asLong()).isGreaterThan(100);
        }
    }

    @Test
    void shouldFailWhenTheServerMapsASocketToAnotherAddress(@TempDir final Path out) throws Exception
    {
        try (Responder responder = new Responder(true, 1))
        {
            final LoadGenRun run = run(responder, out, "--clients", "2", "--duration", "1s");

            assertThat(run.code()).as(run.output()).isEqualTo(LoadGen.EXIT_FAILED);
            assertThat(run.stderr()).contains("answers mapped a socket to an address other than its own");
        }
    }

    @Test
    void shouldFailClearlyWhenNothingAnswers(@TempDir final Path out) throws Exception
    {
        // A bound socket that never answers: requests go out and time out.
        try (DatagramChannel silent = DatagramChannel.open().bind(new InetSocketAddress("127.0.0.1", 0)))
        {
            final int port = ((InetSocketAddress)silent.getLocalAddress()).getPort();
            final LoadGenRun run = runAt("127.0.0.1:" + port, out, "--clients", "2", "--duration", "1s",
                "--stun-timeout", "100ms");

            assertThat(run.code()).as(run.output()).isEqualTo(LoadGen.EXIT_FAILED);
            assertThat(run.stderr()).contains("no STUN answers from").contains("binding requests");
        }
    }

    private static LoadGenRun run(final Responder responder, final Path out, final String... args) throws IOException
    {
        return runAt("127.0.0.1:" + responder.port(), out, args);
    }

    private static LoadGenRun runAt(final String server, final Path out, final String... args)
    {
        final List<String> all = new ArrayList<>(List.of("--scenario", "stun", "--stun-server", server, "--out",
            out.toString(), "--threads", "2", "--seed", "7"));
        all.addAll(List.of(args));
        return LoadGenRun.of(all);
    }

    /**
     * Answers Tailscale's binding requests on loopback from one thread, as derper would, or with a wrong port; with a
     * batch above 1 it holds that many requests and answers them in reverse order.
     */
    private static final class Responder implements AutoCloseable
    {
        final AtomicLong answered = new AtomicLong();
        final AtomicLong notTailscale = new AtomicLong();
        private final DatagramChannel channel;
        private final Thread thread;
        private final boolean lie;
        private final int batch;

        Responder(final boolean lie, final int batch) throws IOException
        {
            this.lie = lie;
            this.batch = batch;
            channel = DatagramChannel.open().bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0));
            thread = Thread.ofPlatform().name("stun-responder").daemon().start(this::serve);
        }

        int port() throws IOException
        {
            return ((InetSocketAddress)channel.getLocalAddress()).getPort();
        }

        private void serve()
        {
            final ByteBuffer in = ByteBuffer.allocate(1500);
            final UnsafeBuffer request = new UnsafeBuffer(in);
            final ByteBuffer outBytes = ByteBuffer.allocate(64);
            final UnsafeBuffer response = new UnsafeBuffer(outBytes);
            final List<byte[]> heldIds = new ArrayList<>();
            final List<InetSocketAddress> heldFrom = new ArrayList<>();
            try
            {
                while (channel.isOpen())
                {
                    in.clear();
                    final SocketAddress from = channel.receive(in);
                    if (!StunMessages.isTailscaleRequest(request, 0, in.position()))
                    {
                        notTailscale.incrementAndGet();
                        continue;
                    }
                    final byte[] id = new byte[StunMessages.TRANSACTION_ID_LENGTH];
                    request.getBytes(StunMessages.TRANSACTION_ID_OFFSET, id);
                    heldIds.add(id);
                    heldFrom.add((InetSocketAddress)from);
                    if (heldIds.size() < batch)
                    {
                        continue;
                    }
                    for (int i = heldIds.size() - 1; i >= 0; i--)
                    {
                        final InetSocketAddress sender = heldFrom.get(i);
                        final int length = StunMessages.writeSuccessResponse(response, 0,
                            new UnsafeBuffer(heldIds.get(i)), 0, sender.getAddress().getAddress(),
                            lie ? sender.getPort() ^ 1 : sender.getPort());
                        outBytes.clear().limit(length);
                        channel.send(outBytes, sender);
                        answered.incrementAndGet();
                    }
                    heldIds.clear();
                    heldFrom.clear();
                }
            }
            catch (final AsynchronousCloseException ex)
            {
                // close() below: done.
            }
            catch (final IOException ex)
            {
                throw new IllegalStateException(ex);
            }
        }

        @Override
        public void close() throws Exception
        {
            channel.close();
            thread.join(5_000);
        }
    }
}
