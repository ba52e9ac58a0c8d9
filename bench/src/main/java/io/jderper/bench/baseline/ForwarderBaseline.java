package io.jderper.bench.baseline;

import io.jderper.bench.BenchServers;
import io.jderper.core.handshake.ServerHandshake;
import io.jderper.core.key.NodePrivateKey;
import io.jderper.tls.ManualCertificates;
import io.jderper.tls.MetaCertificate;
import io.jderper.tls.ServerCertificate;
import io.jderper.tls.ServerTlsContexts;
import io.jderper.tls.TlsProvider;
import io.jderper.transport.LeakDetection;
import io.jderper.transport.io.IoTransport;
import io.netty.bootstrap.ServerBootstrap;
import io.netty.buffer.PooledByteBufAllocator;
import io.netty.channel.Channel;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoop;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.WriteBufferWaterMark;
import io.netty.channel.group.ChannelGroup;
import io.netty.channel.group.DefaultChannelGroup;
import io.netty.channel.socket.SocketChannel;
import io.netty.handler.ssl.SslContext;
import io.netty.util.ReferenceCountUtil;
import io.netty.util.concurrent.EventExecutor;
import io.netty.util.concurrent.GlobalEventExecutor;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.file.Path;
import java.security.SecureRandom;
import java.util.IdentityHashMap;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

/**
 * The physical limit for load tests: the same load generator against a server that speaks just enough DERP to carry
 * packets, with none of the relay's policy. It accepts the same clients as jderper (TLS with the same certificate
 * files and meta certificate, so fast start works; the {@code /derp} upgrade with 101 or fast start; ServerKey,
 * ClientInfo and ServerInfo through relay-core's {@link ServerHandshake}), then forwards every SendPacket to the
 * destination key's connection with as little work as possible: a {@link ConcurrentHashMap} lookup, an in-place
 * rewrite into a RecvPacket, a write into the destination's pipeline (same loop) or a per-loop batch (other loop),
 * one flush per destination per batch. No queues, no drops (a receiver more than {@link #MAX_PENDING_BYTES} behind
 * is closed), no metrics, no PeerGone, no KeepAlives, no timeouts; Ping gets a Pong, every other frame is skipped.
 *
 * <pre>
 * java -cp bench/target/benchmarks.jar io.jderper.bench.baseline.ForwarderBaseline \
 *     -a 127.0.0.1:PORT -certdir DIR -hostname 127.0.0.1 [-plain] [-loops N]
 * </pre>
 *
 * Prints {@code baseline listening on ...} once it accepts connections, and runs until killed.
 */
public final class ForwarderBaseline implements AutoCloseable
{
    /** A receiver whose unflushed and unsent bytes exceed this is closed rather than let the heap grow. */
    static final long MAX_PENDING_BYTES = 64L << 20;
    private static final int EXIT_USAGE = 2;
    private static final int EXIT_FAILURE = 1;
    private static final String USAGE = "usage: ForwarderBaseline -a HOST:PORT [-certdir DIR -hostname NAME | -plain]" +
        " [-loops N]\n" +
        "  -a         listen address (default 127.0.0.1:3340)\n" +
        "  -certdir   directory of <hostname>.crt and .key, as derper's -certmode manual (a self-signed certificate\n" +
        "             is created for an IP hostname that has none)\n" +
        "  -hostname  TLS host name (default 127.0.0.1)\n" +
        "  -plain     serve plain HTTP instead of TLS\n" +
        "  -loops     event loops (default: one per available processor)\n";

    private final ServerHandshake handshake;
    private final byte[] serverKeyFrame;
    private final byte[] upgradeResponse;
    private final ConcurrentHashMap<PeerKey, ForwarderConnection> peers = new ConcurrentHashMap<>();
    private final ChannelGroup connections = new DefaultChannelGroup(GlobalEventExecutor.INSTANCE);
    private final Map<EventExecutor, ForwarderLoop> loops = new IdentityHashMap<>();
    private final IoTransport transport;
    private final EventLoopGroup group;
    private final int loopCount;
    private Channel listener;

    /**
     * What to listen on and with.
     *
     * @param listen     the address to bind.
     * @param tls        the TLS context; empty serves plain HTTP.
     * @param serverKey  the server's DERP key.
     * @param eventLoops event loops; 0 means one per available processor.
     */
    public record Settings(InetSocketAddress listen, Optional<SslContext> tls, NodePrivateKey serverKey, int eventLoops)
    {
    }

    private ForwarderBaseline(final NodePrivateKey serverKey, final int eventLoops)
    {
        this.handshake = new ServerHandshake(serverKey, Optional.empty(), new SecureRandom());
        this.serverKeyFrame = handshake.serverKeyFrame();
        this.upgradeResponse = BenchServers.upgradeResponse(serverKey.publicKey(), serverKeyFrame);
        this.transport = IoTransport.select();
        this.loopCount = eventLoops > 0 ? eventLoops : Runtime.getRuntime().availableProcessors();
        this.group = new MultiThreadIoEventLoopGroup(loopCount, transport.handlerFactory());
        final ForwarderLoop[] all = new ForwarderLoop[loopCount];
        int i = 0;
        for (final EventExecutor executor : group)
        {
            all[i] = new ForwarderLoop((EventLoop)executor, i);
            loops.put(executor, all[i]);
            i++;
        }
        for (final ForwarderLoop loop : all)
        {
            loop.init(all);
        }
    }

    /**
     * Binds and starts serving.
     *
     * @param settings what to listen on.
     * @return the running server.
     * @throws InterruptedException if interrupted while binding.
     */
    public static ForwarderBaseline start(final Settings settings) throws InterruptedException
    {
        final ForwarderBaseline server = new ForwarderBaseline(settings.serverKey(), settings.eventLoops());
        try
        {
            server.listener = new ServerBootstrap()
                .group(server.group)
                .channel(server.transport.serverChannel())
                .option(ChannelOption.SO_BACKLOG, 4096)
                .option(ChannelOption.SO_REUSEADDR, true)
                .childOption(ChannelOption.TCP_NODELAY, true)
                .childOption(ChannelOption.WRITE_BUFFER_WATER_MARK, new WriteBufferWaterMark(32 << 10, 64 << 10))
                .childOption(ChannelOption.ALLOCATOR, PooledByteBufAllocator.DEFAULT)
                .childHandler(new ChannelInitializer<SocketChannel>()
                {
                    @Override
                    protected void initChannel(final SocketChannel ch)
                    {
                        settings.tls().ifPresent(tls -> ch.pipeline().addLast("tls", tls.newHandler(ch.alloc())));
                        ch.pipeline().addLast("forwarder", new ForwarderConnection(server));
                        server.connections.add(ch);
                    }
                })
                .bind(settings.listen()).sync().channel();
            return server;
        }
        catch (final Exception ex)
        {
            // Native transports throw undeclared IOExceptions from bind(): stop the loops whatever failed.
            server.group.shutdownGracefully(0, 1, TimeUnit.SECONDS);
            if (ex instanceof InterruptedException interrupted)
            {
                throw interrupted;
            }
            if (ex instanceof RuntimeException runtime)
            {
                throw runtime;
            }
            throw new IllegalStateException(ex.getMessage(), ex);
        }
    }

    /**
     * The TLS context jderper would use for {@code -certmode manual}: the certificate files in {@code certdir} named
     * after {@code hostname} (created, self-signed, for an IP hostname), plus the meta certificate of
     * {@code serverKey}, on Conscrypt when it loads.
     *
     * @param certdir   the certificate directory.
     * @param hostname  the host name or IP literal.
     * @param serverKey the server's DERP key, announced in the meta certificate.
     * @return the context and the certificate it serves.
     * @throws IOException if the certificate cannot be read or created.
     */
    public static Tls tls(final Path certdir, final String hostname, final NodePrivateKey serverKey)
        throws IOException
    {
        return tls(certdir, hostname, serverKey, TlsProvider.detect());
    }

    /**
     * As {@link #tls(Path, String, NodePrivateKey)} on the given provider.
     *
     * @param certdir   the certificate directory.
     * @param hostname  the host name or IP literal.
     * @param serverKey the server's DERP key, announced in the meta certificate.
     * @param provider  the TLS provider.
     * @return the context and the certificate it serves.
     * @throws IOException if the certificate cannot be read or created.
     */
    public static Tls tls(final Path certdir, final String hostname, final NodePrivateKey serverKey,
        final TlsProvider provider) throws IOException
    {
        final ServerCertificate certificate = ManualCertificates.load(certdir, hostname);
        final SslContext context = ServerTlsContexts.create(provider, ManualCertificates.store(certificate, hostname),
            MetaCertificate.create(serverKey.publicKey().toHex()));
        return new Tls(context, certificate, provider.name());
    }

    /**
     * A TLS set-up for {@link Settings}.
     *
     * @param context     the server context.
     * @param certificate the certificate it presents.
     * @param provider    the TLS provider's name.
     */
    public record Tls(SslContext context, ServerCertificate certificate, String provider) implements AutoCloseable
    {
        /**
         * Releases the context (OpenSSL contexts hold native memory until released); after the server closed.
         */
        @Override
        public void close()
        {
            ReferenceCountUtil.release(context);
        }
    }

    /**
     * @return the bound address.
     */
    public InetSocketAddress address()
    {
        return (InetSocketAddress)listener.localAddress();
    }

    /**
     * @return the I/O transport's name.
     */
    public String transportName()
    {
        return transport.name();
    }

    /**
     * @return the number of event loops.
     */
    public int eventLoops()
    {
        return loopCount;
    }

    /**
     * @return connections whose ClientInfo has been accepted and that are still open (a hint from any thread).
     */
    public int connectedPeers()
    {
        return peers.size();
    }

    @Override
    public void close()
    {
        listener.close().awaitUninterruptibly(2, TimeUnit.SECONDS);
        // Connections are closed while their loops still run, so each TLS handler is removed and frees its engine
        // (an OpenSSL engine holds native memory and a reference to its context until then).
        connections.close().awaitUninterruptibly(2, TimeUnit.SECONDS);
        group.shutdownGracefully(0, 2, TimeUnit.SECONDS).awaitUninterruptibly(5, TimeUnit.SECONDS);
    }

    ConcurrentHashMap<PeerKey, ForwarderConnection> peers()
    {
        return peers;
    }

    ServerHandshake handshake()
    {
        return handshake;
    }

    byte[] serverKeyFrame()
    {
        return serverKeyFrame;
    }

    byte[] upgradeResponse()
    {
        return upgradeResponse;
    }

    ForwarderLoop loopOf(final EventLoop eventLoop)
    {
        final ForwarderLoop loop = loops.get(eventLoop);
        if (null == loop)
        {
            throw new IllegalStateException("no forwarder loop for event loop " + eventLoop);
        }
        return loop;
    }

    /**
     * @param args see the class comment.
     */
    public static void main(final String[] args)
    {
        String listen = "127.0.0.1:3340";
        String certdir = null;
        String hostname = "127.0.0.1";
        boolean plain = false;
        int eventLoops = 0;
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
                    case "-plain" -> plain = true;
                    case "-loops" -> eventLoops = Integer.parseInt(BenchServers.flagValue(args, ++i, flag));
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
        }
        catch (final IllegalArgumentException ex)
        {
            System.err.println("ForwarderBaseline: " + ex.getMessage());
            System.err.print(USAGE);
            System.exit(EXIT_USAGE);
            return;
        }
        // As the relay runs: the baseline must not pay for sampling that the relay does not.
        LeakDetection.disableUnlessConfigured();
        try
        {
            run(BenchServers.parseAddress(listen), plain ? null : Path.of(certdir), hostname, eventLoops);
        }
        catch (final InterruptedException ex)
        {
            Thread.currentThread().interrupt();
        }
        catch (final IOException | RuntimeException ex)
        {
            System.err.println("ForwarderBaseline: " + ex);
            System.exit(EXIT_FAILURE);
        }
    }

    private static void run(final InetSocketAddress listen, final Path certdir, final String hostname,
        final int eventLoops) throws IOException, InterruptedException
    {
        final NodePrivateKey serverKey = NodePrivateKey.generate(new SecureRandom());
        final Tls tls = null == certdir ? null : tls(certdir, hostname, serverKey);
        final ForwarderBaseline server = start(new Settings(listen,
            Optional.ofNullable(tls).map(Tls::context), serverKey, eventLoops));
        final CountDownLatch stopped = new CountDownLatch(1);
        Runtime.getRuntime().addShutdownHook(new Thread(() ->
        {
            server.close();
            stopped.countDown();
        }, "baseline-shutdown"));
        final InetSocketAddress bound = server.address();
        System.out.println("baseline listening on " + bound.getAddress().getHostAddress() + ":" + bound.getPort() +
            " (" + (null == tls ? "plain HTTP" : "TLS, " + tls.provider()) + ", " + server.transportName() + ", " +
            server.eventLoops() + " event loop" + (1 == server.eventLoops() ? "" : "s") + ")" +
            (null == tls ? "" : " cert " + tls.certificate().sha256RawPin()) +
            " server key " + serverKey.publicKey() + " pid " + ProcessHandle.current().pid());
        System.out.flush();
        stopped.await();
    }
}
