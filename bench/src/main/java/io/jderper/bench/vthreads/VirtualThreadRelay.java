package io.jderper.bench.vthreads;

import io.jderper.core.admission.AdmissionPolicy;
import io.jderper.bench.BenchServers;
import io.jderper.bench.baseline.ForwarderBaseline;
import io.jderper.core.handshake.ServerHandshake;
import io.jderper.core.key.NodePrivateKey;
import io.jderper.core.protocol.ProtocolLimits;
import io.jderper.core.router.RelayConfig;
import io.jderper.core.router.RelayMetrics;
import io.jderper.core.router.Router;
import io.jderper.tls.TlsProvider;
import io.jderper.transport.LeakDetection;
import io.jderper.transport.derp.ByteBufPacketFrames;
import io.jderper.transport.derp.RelayLoops;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.netty.buffer.PooledByteBufAllocator;
import io.netty.handler.ssl.SslContext;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.StandardSocketOptions;
import java.nio.channels.ClosedChannelException;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.nio.file.Path;
import java.security.SecureRandom;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;

/**
 * The other half of the transport design card, kept as an experiment: the relay with a virtual thread per
 * connection direction over blocking sockets, the same relay core ({@link Router}, sessions, queues, drop policy)
 * and the same TLS contexts as jderper, against which perf-reports measures the event-loop transport
 * ({@code --servers jderper-vthreads}). It serves the {@code /derp} upgrade only (101 or fast start): no
 * WebSocket, probes, home page, mesh or admission service.
 *
 * <pre>
 * java -cp bench/target/benchmarks.jar io.jderper.bench.vthreads.VirtualThreadRelay \
 *     -a 127.0.0.1:PORT -certdir DIR -hostname 127.0.0.1 [-plain] [-tls-provider NAME] [-shards N]
 * </pre>
 */
public final class VirtualThreadRelay implements AutoCloseable
{
    /** Time a connection has for TLS and its HTTP request, as the relay's HTTP read timeout. */
    private static final long UPGRADE_DEADLINE_SECONDS = 30;
    private static final int EXIT_USAGE = 2;
    private static final int EXIT_FAILURE = 1;
    private static final String USAGE = "usage: VirtualThreadRelay -a HOST:PORT [-certdir DIR -hostname NAME | -plain]" +
        " [-tls-provider auto|conscrypt|openssl|jdk] [-shards N]\n" +
        "  -a             listen address (default 127.0.0.1:3340)\n" +
        "  -certdir       directory of <hostname>.crt and .key, as derper's -certmode manual\n" +
        "  -hostname      TLS host name (default 127.0.0.1)\n" +
        "  -plain         serve plain HTTP instead of TLS\n" +
        "  -tls-provider  as jderper's (default auto)\n" +
        "  -shards        relay-core loops, each with its lock (default: one per available processor)\n";

    private final Router<ByteBuf> router;
    private final byte[] serverKeyFrame;
    private final byte[] upgradeResponse;
    private final Optional<SslContext> tls;
    private final ByteBufAllocator allocator = PooledByteBufAllocator.DEFAULT;
    private final List<Shard> shards = new ArrayList<>();
    private final ScheduledExecutorService timers;
    private final List<ScheduledFuture<?>> ticks = new ArrayList<>();
    private final ConcurrentHashMap<VirtualThreadConnection, ScheduledFuture<?>> deadlines = new ConcurrentHashMap<>();
    private final ConcurrentHashMap<VirtualThreadConnection, Thread> connections = new ConcurrentHashMap<>();
    private final ServerSocketChannel listener;
    private final Thread acceptor;
    private int nextShard;

    /**
     * What to listen on and with.
     *
     * @param listen    the address to bind.
     * @param tls       the TLS context; empty serves plain HTTP.
     * @param serverKey the server's DERP key.
     * @param shards    relay-core loops; 0 means one per available processor.
     */
    public record Settings(InetSocketAddress listen, Optional<SslContext> tls, NodePrivateKey serverKey, int shards)
    {
    }

    private VirtualThreadRelay(final Settings settings) throws IOException
    {
        final ServerHandshake handshake = new ServerHandshake(settings.serverKey(), Optional.empty(),
            new SecureRandom());
        this.router = new Router<>(handshake, AdmissionPolicy.ADMIT_ALL,
            RelayConfig.defaults(ProtocolLimits.DEFAULT_WRITE_TIMEOUT_MS), new RelayMetrics());
        this.serverKeyFrame = handshake.serverKeyFrame();
        this.upgradeResponse = BenchServers.upgradeResponse(settings.serverKey().publicKey(), serverKeyFrame);
        this.tls = settings.tls();
        final int count = settings.shards() > 0 ? settings.shards() : Runtime.getRuntime().availableProcessors();
        final ByteBufPacketFrames frames = new ByteBufPacketFrames(allocator);
        this.timers = Executors.newSingleThreadScheduledExecutor(Thread.ofPlatform().daemon().name("vthreads-timer")
            .factory());
        for (int i = 0; i < count; i++)
        {
            final Shard shard = new Shard(router, frames, i);
            shards.add(shard);
            ticks.add(timers.scheduleAtFixedRate(() -> shard.execute(shard.relay()::onTick),
                RelayLoops.TICK_MS, RelayLoops.TICK_MS, TimeUnit.MILLISECONDS));
        }
        this.listener = ServerSocketChannel.open();
        try
        {
            listener.setOption(StandardSocketOptions.SO_REUSEADDR, true);
            listener.bind(settings.listen(), 4096);
        }
        catch (final IOException ex)
        {
            listener.close();
            stopShards();
            throw ex;
        }
        this.acceptor = Thread.ofPlatform().name("vthreads-accept").start(this::acceptLoop);
    }

    /**
     * Binds and starts serving.
     *
     * @param settings what to listen on.
     * @return the running server.
     * @throws IOException if the address cannot be bound.
     */
    public static VirtualThreadRelay start(final Settings settings) throws IOException
    {
        return new VirtualThreadRelay(settings);
    }

    private void acceptLoop()
    {
        while (listener.isOpen())
        {
            final SocketChannel socket;
            try
            {
                socket = listener.accept();
            }
            catch (final ClosedChannelException ex)
            {
                return;
            }
            catch (final IOException ex)
            {
                // Out of file descriptors and the like: say so, wait a moment (not a spin), go on.
                System.err.println("vthreads: accept failed: " + ex);
                sleepQuietly();
                continue;
            }
            try
            {
                socket.setOption(StandardSocketOptions.TCP_NODELAY, true);
                final InetSocketAddress remote = (InetSocketAddress)socket.getRemoteAddress();
                final Shard shard = shards.get(nextShard);
                nextShard = (nextShard + 1) % shards.size();
                final VirtualThreadConnection connection = new VirtualThreadConnection(this, shard, socket,
                    tls.map(context -> context.newEngine(allocator)).orElse(null), allocator, remote);
                final Thread reader = Thread.ofVirtual().name("vthreads-reader").unstarted(connection::run);
                connections.put(connection, reader);
                deadlines.put(connection, timers.schedule(connection::close, UPGRADE_DEADLINE_SECONDS,
                    TimeUnit.SECONDS));
                reader.start();
            }
            catch (final IOException | RuntimeException ex)
            {
                System.err.println("vthreads: could not start a connection: " + ex);
                closeQuietly(socket);
            }
        }
    }

    private static void sleepQuietly()
    {
        try
        {
            Thread.sleep(10);
        }
        catch (final InterruptedException ex)
        {
            Thread.currentThread().interrupt();
        }
    }

    private static void closeQuietly(final SocketChannel socket)
    {
        try
        {
            socket.close();
        }
        catch (final IOException ignored)
        {
            // Already failing: nothing more to do.
        }
    }

    void cancelDeadline(final VirtualThreadConnection connection)
    {
        final ScheduledFuture<?> deadline = deadlines.remove(connection);
        if (null != deadline)
        {
            deadline.cancel(false);
        }
    }

    void connectionClosed(final VirtualThreadConnection connection)
    {
        connections.remove(connection);
    }

    Router<ByteBuf> router()
    {
        return router;
    }

    byte[] serverKeyFrame()
    {
        return serverKeyFrame;
    }

    byte[] upgradeResponse()
    {
        return upgradeResponse;
    }

    /**
     * @return the bound address.
     */
    public InetSocketAddress address()
    {
        try
        {
            return (InetSocketAddress)listener.getLocalAddress();
        }
        catch (final IOException ex)
        {
            throw new IllegalStateException(ex);
        }
    }

    /**
     * @return clients whose key is registered with the router (a hint from any thread).
     */
    public int connectedPeers()
    {
        return router.localKeyCount();
    }

    /**
     * Stops accepting and closes every connection.
     */
    @Override
    public void close()
    {
        try
        {
            listener.close();
        }
        catch (final IOException ignored)
        {
            // Closing anyway.
        }
        try
        {
            acceptor.join(TimeUnit.SECONDS.toMillis(2));
        }
        catch (final InterruptedException ex)
        {
            Thread.currentThread().interrupt();
        }
        connections.keySet().forEach(VirtualThreadConnection::close);
        final long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
        for (final Thread reader : connections.values())
        {
            final long leftNs = deadline - System.nanoTime();
            if (leftNs <= 0)
            {
                break;
            }
            try
            {
                reader.join(Duration.ofNanos(leftNs));
            }
            catch (final InterruptedException ex)
            {
                Thread.currentThread().interrupt();
                break;
            }
        }
        stopShards();
    }

    private void stopShards()
    {
        ticks.forEach(tick -> tick.cancel(false));
        timers.shutdownNow();
        shards.forEach(Shard::stop);
    }

    /**
     * @param args see the class comment.
     */
    public static void main(final String[] args)
    {
        String listen = "127.0.0.1:3340";
        String certdir = null;
        String hostname = "127.0.0.1";
        String provider = "auto";
        boolean plain = false;
        int shards = 0;
        try
        {
            for (int i = 0; i < args.length; i++)
            {
                final String flag = args[i].startsWith("--") ? args[i].substring(1) : args[i];
                switch (flag)
                {
                    case "-a" -> listen = BenchServers.flagValue(args, ++i, flag);
                    case "-certdir" -> certdir = BenchServers.flagValue(args, ++i, flag);
                    case "-hostname" -> hostname = BenchServers.flagValue(args, ++i, flag);
                    case "-tls-provider" -> provider = BenchServers.flagValue(args, ++i, flag);
                    case "-plain" -> plain = true;
                    case "-shards" -> shards = Integer.parseInt(BenchServers.flagValue(args, ++i, flag));
                    case "-h", "-help" ->
                    {
                        System.out.print(USAGE);
                        return;
                    }
                    default -> throw new IllegalArgumentException("unknown flag " + args[i]);
                }
            }
            if (!plain && null == certdir)
            {
                throw new IllegalArgumentException("-certdir is required unless -plain");
            }
            TlsProvider.named(provider);
        }
        catch (final IllegalArgumentException ex)
        {
            System.err.println("VirtualThreadRelay: " + ex.getMessage());
            System.err.print(USAGE);
            System.exit(EXIT_USAGE);
            return;
        }
        LeakDetection.disableUnlessConfigured();
        try
        {
            run(BenchServers.parseAddress(listen), plain ? null : Path.of(certdir), hostname, provider, shards);
        }
        catch (final InterruptedException ex)
        {
            Thread.currentThread().interrupt();
        }
        catch (final IOException | RuntimeException ex)
        {
            System.err.println("VirtualThreadRelay: " + ex);
            System.exit(EXIT_FAILURE);
        }
    }

    private static void run(final InetSocketAddress listen, final Path certdir, final String hostname,
        final String provider, final int shards) throws IOException, InterruptedException
    {
        final NodePrivateKey serverKey = NodePrivateKey.generate(new SecureRandom());
        final ForwarderBaseline.Tls tls = null == certdir ? null :
            ForwarderBaseline.tls(certdir, hostname, serverKey, TlsProvider.named(provider));
        final VirtualThreadRelay server = start(new Settings(listen,
            Optional.ofNullable(tls).map(ForwarderBaseline.Tls::context), serverKey, shards));
        final CountDownLatch stopped = new CountDownLatch(1);
        Runtime.getRuntime().addShutdownHook(new Thread(() ->
        {
            server.close();
            stopped.countDown();
        }, "vthreads-shutdown"));
        final InetSocketAddress bound = server.address();
        System.out.println("vthreads relay listening on " + bound.getAddress().getHostAddress() + ":" +
            bound.getPort() + " (" + (null == tls ? "plain HTTP" : "TLS, " + tls.provider()) + ", " +
            server.shards.size() + " shard" + (1 == server.shards.size() ? "" : "s") + ")" +
            (null == tls ? "" : " cert " + tls.certificate().sha256RawPin()) +
            " server key " + serverKey.publicKey() + " pid " + ProcessHandle.current().pid());
        System.out.flush();
        stopped.await();
    }
}
