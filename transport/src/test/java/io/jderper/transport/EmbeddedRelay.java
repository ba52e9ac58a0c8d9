package io.jderper.transport;

import static org.assertj.core.api.Assertions.assertThat;

import io.jderper.core.admission.AdmissionPolicy;
import io.jderper.core.handshake.ServerHandshake;
import io.jderper.core.key.NodePrivateKey;
import io.jderper.core.protocol.ProtocolLimits;
import io.jderper.core.router.RelayConfig;
import io.jderper.core.router.RelayMetrics;
import io.jderper.core.router.Router;
import io.jderper.transport.derp.DerpUpgrade;
import io.jderper.transport.derp.RelayLoops;
import io.jderper.transport.io.InputLimits;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.embedded.EmbeddedChannel;

import java.io.ByteArrayOutputStream;
import java.security.SecureRandom;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import java.util.function.IntConsumer;

/**
 * One server connection in an {@link EmbeddedChannel}, with the pipeline {@link RelayServer} installs after TLS and a
 * real relay core behind {@code /derp}, for the fuzz targets: bytes go in as reads, what the server writes comes out
 * as bytes, and {@link #closeAndAssertNothingHeld()} checks that every buffer the connection touched was released.
 *
 * <p>The server key is fixed, so that committed seed inputs can carry a ClientInfo sealed to it
 * ({@link #CLIENT_KEY} is the seeds' client).
 */
public final class EmbeddedRelay
{
    /** The server's key: fixed, so that seed inputs can log in. */
    public static final NodePrivateKey SERVER_KEY = NodePrivateKey.fromBytes(sequence(1));
    /** The key of the client in the seed inputs. */
    public static final NodePrivateKey CLIENT_KEY = NodePrivateKey.fromBytes(sequence(101));
    /** The server's ServerKey frame, its first bytes after the {@code /derp} upgrade. */
    public static final byte[] SERVER_KEY_FRAME;

    private static final ServerHandshake HANDSHAKE;
    /** derper's defaults, with a loop inbox and queue pool sized for the one connection. */
    private static final RelayConfig CONFIG = new RelayConfig(ProtocolLimits.DEFAULT_SEND_QUEUE_DEPTH, 2_000,
        ProtocolLimits.HANDSHAKE_TIMEOUT_MS, ProtocolLimits.KEEP_ALIVE_MS, ProtocolLimits.KEEP_ALIVE_JITTER_MS, 64, 4);

    static
    {
        HANDSHAKE = new ServerHandshake(SERVER_KEY, Optional.empty(), new SecureRandom());
        SERVER_KEY_FRAME = HANDSHAKE.serverKeyFrame();
    }

    /** Which listener's pipeline the connection gets. */
    public enum Listener
    {
        /** The main listener after TLS (or a plain-HTTP main listener): endpoints and {@code /derp}. */
        MAIN,
        /** The plain-HTTP port beside a TLS listener: probes, ACME http-01, redirects. */
        PLAIN_HTTP_PORT
    }

    private final TrackingAllocator allocator = new TrackingAllocator();
    private final List<ByteBuf> fed = new ArrayList<>();
    private final ByteArrayOutputStream written = new ByteArrayOutputStream();
    private final EmbeddedChannel channel;
    private final RelayLoops loops;

    /**
     * @param listener which listener accepted the connection.
     */
    public EmbeddedRelay(final Listener listener)
    {
        channel = new EmbeddedChannel();
        channel.config().setAllocator(allocator);
        final RelayMetrics metrics = new RelayMetrics();
        final Router<ByteBuf> router = new Router<>(HANDSHAKE, AdmissionPolicy.ADMIT_ALL, CONFIG, metrics);
        loops = new RelayLoops(channel.eventLoop(), router, allocator);
        if (Listener.MAIN == listener)
        {
            RelayServer.addMainHttpHandlers(channel.pipeline(), new DerpUpgrade(loops, HANDSHAKE), true,
                Optional.empty(), InputLimits.DEFAULTS);
        }
        else
        {
            RelayServer.addPlainHttpPortHandlers(channel.pipeline(),
                token -> "known-token".equals(token) ? Optional.of("known-token.thumbprint") : Optional.empty(),
                InputLimits.DEFAULTS, metrics);
        }
    }

    /**
     * @return the connection.
     */
    public EmbeddedChannel channel()
    {
        return channel;
    }

    /**
     * Delivers {@code bytes[from, to)} as one read, then runs the tasks it queued (admission's answer, for one).
     * Exceptions that reach the end of the pipeline are thrown here.
     */
    public void read(final byte[] bytes, final int from, final int to)
    {
        final ByteBuf in = Unpooled.wrappedBuffer(Arrays.copyOfRange(bytes, from, to));
        fed.add(in);
        channel.writeInbound(in);
        channel.runPendingTasks();
        drainWritten();
    }

    /**
     * Delivers {@code bytes[from, end)} in reads of {@code chunk} bytes (0: one read) while the connection is open.
     *
     * @param afterEachRead called with the offset read up to after each read.
     * @return the offset read up to.
     */
    public int readInChunks(final byte[] bytes, final int from, final int chunk, final IntConsumer afterEachRead)
    {
        int at = from;
        while (at < bytes.length && channel.isOpen())
        {
            final int to = 0 == chunk ? bytes.length : Math.min(bytes.length, at + chunk);
            read(bytes, at, to);
            at = to;
            afterEachRead.accept(at);
        }
        return at;
    }

    /**
     * @return the bytes the server wrote since the last call.
     */
    public byte[] takeWritten()
    {
        drainWritten();
        final byte[] bytes = written.toByteArray();
        written.reset();
        return bytes;
    }

    private void drainWritten()
    {
        for (Object msg; null != (msg = channel.readOutbound()); )
        {
            assertThat(msg).as("only bytes reach the socket").isInstanceOf(ByteBuf.class);
            final ByteBuf bytes = (ByteBuf)msg;
            try
            {
                final byte[] copy = new byte[bytes.readableBytes()];
                bytes.getBytes(bytes.readerIndex(), copy);
                written.writeBytes(copy);
            }
            finally
            {
                bytes.release();
            }
        }
    }

    /**
     * @param names pipeline handler names.
     * @return whether every one of them is in the pipeline.
     */
    public boolean hasHandlers(final String... names)
    {
        for (final String name : names)
        {
            if (null == channel.pipeline().get(name))
            {
                return false;
            }
        }
        return true;
    }

    /**
     * @param names pipeline handler names.
     * @return whether none of them is in the pipeline.
     */
    public boolean hasNoHandlers(final String... names)
    {
        for (final String name : names)
        {
            if (null != channel.pipeline().get(name))
            {
                return false;
            }
        }
        return true;
    }

    /**
     * Lets {@code seconds} pass on the connection's clock and runs what fell due.
     */
    public void advanceSeconds(final long seconds)
    {
        channel.advanceTimeBy(seconds, TimeUnit.SECONDS);
        channel.runScheduledPendingTasks();
        channel.runPendingTasks();
        drainWritten();
    }

    /**
     * Closes the connection as the peer going away would, and checks that nothing is held: nothing reached the end
     * of the pipeline unconsumed, every read buffer and every buffer the connection or the relay core allocated is
     * released, and the relay core has no session left.
     */
    public void closeAndAssertNothingHeld()
    {
        channel.close();
        channel.runPendingTasks();
        drainWritten();
        assertThat(channel.inboundMessages()).as("messages nothing consumed").isEmpty();
        channel.finishAndReleaseAll();
        loops.stop();
        for (final ByteBuf in : fed)
        {
            assertThat(in.refCnt()).as("a read buffer still held after close").isZero();
        }
        assertThat(allocator.outstanding()).as("buffers the connection allocated and never released").isZero();
        assertThat(loops.sessionCountHint()).as("DERP sessions left after close").isZero();
    }

    private static byte[] sequence(final int first)
    {
        final byte[] bytes = new byte[32];
        for (int i = 0; i < bytes.length; i++)
        {
            bytes[i] = (byte)(first + i);
        }
        return bytes;
    }
}
