package io.jderper.stun.server;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.util.Locale;

/**
 * derper's STUN server (spec §6): one UDP socket, one thread, answering Tailscale's binding requests with the sender's
 * address. Bind failures are reported to the caller at start, where derper only loses them in a goroutine.
 */
public final class StunServer implements AutoCloseable
{
    /** System property that picks the engine: {@code auto} (default), {@code linux} or {@code jdk}. */
    public static final String ENGINE_PROPERTY = "jderper.stun.engine";
    /** Name of the serving thread. */
    public static final String THREAD_NAME = "jderper-stun";

    private static final Logger LOG = LoggerFactory.getLogger(StunServer.class);
    private static final long STOP_WAIT_MS = 5_000;

    private final DatagramEngine engine;
    private final StunResponder responder;
    private final Thread thread;
    private boolean closed;

    private StunServer(final DatagramEngine engine, final StunResponder responder)
    {
        this.engine = engine;
        this.responder = responder;
        this.thread = Thread.ofPlatform().name(THREAD_NAME).daemon(true).unstarted(() -> engine.serve(responder));
    }

    /**
     * Binds and starts serving.
     *
     * @param bind      where to listen; a wildcard address listens on IPv4 and IPv6.
     * @param anyClient also answer well-formed binding requests that are not Tailscale's ({@code -stun-any-client}).
     * @return the running server.
     * @throws IOException with the system's reason if the socket cannot be bound.
     */
    public static StunServer start(final InetSocketAddress bind, final boolean anyClient) throws IOException
    {
        return start(bind, anyClient, System.getProperty(ENGINE_PROPERTY, "auto"));
    }

    /**
     * Binds and starts serving on a given engine.
     *
     * @param bind      where to listen.
     * @param anyClient also answer binding requests that are not Tailscale's.
     * @param engine    {@code auto}, {@code linux} or {@code jdk}, as {@value #ENGINE_PROPERTY} takes.
     * @return the running server.
     * @throws IOException if the socket cannot be bound or the engine is unknown or unavailable.
     */
    static StunServer start(final InetSocketAddress bind, final boolean anyClient, final String engine)
        throws IOException
    {
        final DatagramEngine socket = openEngine(bind, engine);
        final StunServer server = new StunServer(socket, new StunResponder(anyClient, new StunCounters()));
        server.thread.start();
        LOG.info("STUN server listening on UDP {} ({}){}", LinuxBatchEngine.printable(socket.localAddress()), socket.description(),
            anyClient ? "; answering any RFC 5389 client (-stun-any-client)" :
                "; answering Tailscale clients only, as derper does");
        return server;
    }

    private static DatagramEngine openEngine(final InetSocketAddress bind, final String engine) throws IOException
    {
        final String choice = engine.trim().toLowerCase(Locale.ROOT);
        return switch (choice)
        {
            case "jdk" -> JdkEngine.open(bind);
            case "linux" ->
            {
                if (!LinuxBatchEngine.isSupported())
                {
                    throw new IOException("-D" + ENGINE_PROPERTY + "=linux: recvmmsg is not available here (" +
                        System.getProperty("os.name") + "/" + System.getProperty("os.arch") + ")");
                }
                yield LinuxBatchEngine.open(bind);
            }
            case "auto" -> LinuxBatchEngine.isSupported() ? LinuxBatchEngine.open(bind) : JdkEngine.open(bind);
            default -> throw new IOException("-D" + ENGINE_PROPERTY + "=" + choice + " is not one of auto, linux, jdk");
        };
    }

    /**
     * @return the bound address, with the real port if port 0 was asked for.
     */
    public InetSocketAddress localAddress()
    {
        return engine.localAddress();
    }

    /**
     * @return what has been received and answered.
     */
    public StunCounters counters()
    {
        return responder.counters();
    }

    /**
     * Stops serving and releases the socket; waits up to five seconds for the serving thread.
     */
    @Override
    public synchronized void close()
    {
        if (closed)
        {
            return;
        }
        closed = true;
        engine.stop();
        try
        {
            thread.join(STOP_WAIT_MS);
        }
        catch (final InterruptedException ex)
        {
            Thread.currentThread().interrupt();
        }
        if (thread.isAlive())
        {
            // Freeing memory the thread may still touch would crash the JVM; leaking it is the lesser harm.
            LOG.warn("STUN thread did not stop within {} ms; its socket and buffers are left open", STOP_WAIT_MS);
            return;
        }
        engine.release();
        LOG.info("STUN server stopped: {}", responder.counters());
    }
}
