package io.jderper.stun.server;

import io.jderper.bench.AbstractMicrobenchmark;
import io.jderper.bench.ThreadAllocationProfiler;
import io.jderper.stun.StunMessages;
import org.agrona.concurrent.UnsafeBuffer;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OperationsPerInvocation;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Threads;

import java.io.IOException;
import java.net.DatagramPacket;
import java.net.DatagramSocket;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.util.concurrent.TimeUnit;

/**
 * The STUN server on loopback: the benchmark thread keeps {@value #WINDOW} Tailscale binding requests in flight from
 * one socket and waits for every reply; each request answered is one operation.
 *
 * <p>Allocation: run with {@code -prof io.jderper.bench.ThreadAllocationProfiler}; its {@code threads.alloc.norm}
 * is the server thread's ({@code jderper-stun}) allocation per request. The Linux engine must show 0 B; the JDK
 * engine allocates the sender's address per datagram. JMH's {@code gc.alloc.rate.norm} counts the client too.
 */
@State(Scope.Benchmark)
@Threads(1)
public class StunServerBenchmark extends AbstractMicrobenchmark
{
    /** Requests in flight per invocation: below the server socket's default receive buffer (about 200 datagrams). */
    static final int WINDOW = 32;
    private static final int REPLY_TIMEOUT_MS = 5_000;

    @Param({"linux", "jdk"})
    public String engine;

    private StunServer server;
    private DatagramSocket client;
    private DatagramPacket[] requests;
    private DatagramPacket reply;

    @Setup
    public void start() throws IOException
    {
        final InetAddress loopback = InetAddress.getLoopbackAddress();
        server = StunServer.start(new InetSocketAddress(loopback, 0), false, engine);
        client = new DatagramSocket(new InetSocketAddress(loopback, 0));
        client.connect(server.localAddress());
        // A lost reply must fail the run, never hang it.
        client.setSoTimeout(REPLY_TIMEOUT_MS);
        requests = new DatagramPacket[WINDOW];
        for (int i = 0; i < WINDOW; i++)
        {
            final UnsafeBuffer transactionId = new UnsafeBuffer(new byte[StunMessages.TRANSACTION_ID_LENGTH]);
            transactionId.putInt(0, i);
            final UnsafeBuffer request = new UnsafeBuffer(new byte[StunMessages.TAILSCALE_REQUEST_LENGTH]);
            StunMessages.writeTailscaleRequest(request, 0, transactionId, 0);
            requests[i] = new DatagramPacket(request.byteArray(), StunMessages.TAILSCALE_REQUEST_LENGTH);
        }
        reply = new DatagramPacket(new byte[StunResponder.MAX_REPLY_LENGTH], StunResponder.MAX_REPLY_LENGTH);
    }

    @TearDown
    public void stop()
    {
        ThreadAllocationProfiler.recordBeforeShutdown();
        client.close();
        server.close();
    }

    /**
     * @return the last reply's length, so that the work cannot be optimised away.
     * @throws IOException if a reply does not come within five seconds.
     */
    @Benchmark
    @BenchmarkMode(Mode.Throughput)
    @OutputTimeUnit(TimeUnit.SECONDS)
    @OperationsPerInvocation(WINDOW)
    public int window() throws IOException
    {
        for (final DatagramPacket request : requests)
        {
            client.send(request);
        }
        for (int i = 0; i < WINDOW; i++)
        {
            reply.setLength(StunResponder.MAX_REPLY_LENGTH);
            client.receive(reply);
        }
        return reply.getLength();
    }
}
