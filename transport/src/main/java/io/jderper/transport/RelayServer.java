package io.jderper.transport;

import io.jderper.core.handshake.ServerHandshake;
import io.jderper.core.protocol.Violation;
import io.jderper.core.router.RelayMetrics;
import io.jderper.core.router.Router;
import io.jderper.core.router.TlsVersion;
import io.jderper.tls.ClientHelloPeek;
import io.jderper.transport.derp.DerpUpgrade;
import io.jderper.transport.derp.RelayLoops;
import io.jderper.transport.http.HttpPages;
import io.jderper.transport.http.HttpRequestDeadline;
import io.jderper.transport.http.PlainHttpPortHandler;
import io.jderper.transport.http.RelayHttpHandler;
import io.jderper.transport.http.TlsAlpnValidation;
import io.jderper.transport.http.TlsHandshakeDeadline;
import io.jderper.transport.http.TlsSniffer;
import io.jderper.transport.io.ConnectionGate;
import io.jderper.transport.io.ConnectionLimits;
import io.jderper.transport.io.InputLimits;
import io.jderper.transport.io.IoTransport;
import io.jderper.transport.io.TcpTimeouts;
import io.netty.bootstrap.ServerBootstrap;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.PooledByteBufAllocator;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import io.netty.channel.ChannelPipeline;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.WriteBufferWaterMark;
import io.netty.channel.group.ChannelGroup;
import io.netty.channel.group.DefaultChannelGroup;
import io.netty.channel.socket.SocketChannel;
import io.netty.handler.codec.http.HttpObjectAggregator;
import io.netty.handler.codec.http.HttpRequestDecoder;
import io.netty.handler.codec.http.HttpResponseEncoder;
import io.netty.handler.ssl.SslContext;
import io.netty.handler.ssl.SslHandler;
import io.netty.handler.ssl.SslHandshakeCompletionEvent;
import io.netty.util.concurrent.DefaultThreadFactory;
import io.netty.util.concurrent.GlobalEventExecutor;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.Optional;
import java.util.function.Function;
import java.util.function.Supplier;
import java.util.concurrent.TimeUnit;

/**
 * The relay's listeners: the main port (TLS or plain HTTP) that serves {@code /derp} and the probes, and the
 * optional plain-HTTP port beside a TLS listener. One event loop per core; a connection stays on its loop.
 */
public final class RelayServer implements AutoCloseable
{
    /**
     * Names the relay's event-loop threads ({@code jderper-relay-<pool>-<n>}), so that thread dumps, profilers and
     * the benchmarks' per-thread allocation figures can tell the relay's threads from a client's in one process.
     */
    public static final String THREAD_NAME_PREFIX = "jderper-relay";

    private static final Logger LOG = LoggerFactory.getLogger(RelayServer.class);
    private static final int MAX_REQUEST_LINE = 4096;
    private static final int MAX_REQUEST_BODY = 8192;

    private final Settings settings;
    private final IoTransport transport;
    private final EventLoopGroup group;
    private final RelayLoops loops;
    private final Channel mainChannel;
    private final Channel httpChannel;
    private final ChannelGroup connections;

    /**
     * What the server listens on and with.
     *
     * @param listen     the main listener's address.
     * @param tls        the TLS context for the main listener; empty serves plain HTTP.
     * @param httpPort   the plain-HTTP port beside a TLS listener, bound to the same IP; negative disables.
     * @param handshake  the server's key and handshake.
     * @param router     the relay router.
     * @param eventLoops event loop threads; 0 means one per available processor.
     * @param derp       whether {@code /derp} relays; derper's {@code -derp=false} serves only the other endpoints.
     * @param derpMap    if present, {@code /derp-map.json} answers with this server's DERP map JSON.
     * @param acmeHttp01 the ACME http-01 key authorization for a token, served on the plain HTTP port.
     * @param acmeTlsAlpn ACME tls-alpn-01 validations answered on the TLS port, if certificates come from ACME.
     * @param connectionLimits bounds on connections to the main listener.
     * @param tcpTimeouts      TCP keepalive and user timeout of accepted connections (derper's flags).
     * @param inputLimits      deadlines and sizes for each stage of a connection (TLS, HTTP, frames).
     * @param pages            the home page, bootstrap DNS answers and debug access of the main listener.
     */
    public record Settings(
        InetSocketAddress listen,
        Optional<SslContext> tls,
        int httpPort,
        ServerHandshake handshake,
        Router<ByteBuf> router,
        int eventLoops,
        boolean derp,
        Optional<Supplier<String>> derpMap,
        Function<String, Optional<String>> acmeHttp01,
        Optional<TlsAlpnValidation> acmeTlsAlpn,
        ConnectionLimits connectionLimits,
        TcpTimeouts tcpTimeouts,
        InputLimits inputLimits,
        HttpPages pages)
    {
        /**
         * Settings with the default input limits.
         */
        public Settings(final InetSocketAddress listen, final Optional<SslContext> tls, final int httpPort,
            final ServerHandshake handshake, final Router<ByteBuf> router, final int eventLoops, final boolean derp,
            final Optional<Supplier<String>> derpMap, final Function<String, Optional<String>> acmeHttp01,
            final Optional<TlsAlpnValidation> acmeTlsAlpn, final ConnectionLimits connectionLimits,
            final TcpTimeouts tcpTimeouts)
        {
            this(listen, tls, httpPort, handshake, router, eventLoops, derp, derpMap, acmeHttp01, acmeTlsAlpn,
                connectionLimits, tcpTimeouts, InputLimits.DEFAULTS, HttpPages.DEFAULTS);
        }

        /**
         * @param limits the input limits to use.
         * @return these settings with those limits.
         */
        public Settings withInputLimits(final InputLimits limits)
        {
            return new Settings(listen, tls, httpPort, handshake, router, eventLoops, derp, derpMap, acmeHttp01,
                acmeTlsAlpn, connectionLimits, tcpTimeouts, limits, pages);
        }

        /**
         * @param httpPages the main listener's home page, bootstrap DNS answers and debug access.
         * @return these settings with those pages.
         */
        public Settings withPages(final HttpPages httpPages)
        {
            return new Settings(listen, tls, httpPort, handshake, router, eventLoops, derp, derpMap, acmeHttp01,
                acmeTlsAlpn, connectionLimits, tcpTimeouts, inputLimits, httpPages);
        }

        /**
         * Settings with DERP served on {@code /derp}.
         */
        public Settings(final InetSocketAddress listen, final Optional<SslContext> tls, final int httpPort,
            final ServerHandshake handshake, final Router<ByteBuf> router, final int eventLoops)
        {
            this(listen, tls, httpPort, handshake, router, eventLoops, true, Optional.empty(), token -> Optional.empty(),
                Optional.empty(), ConnectionLimits.NONE, TcpTimeouts.DERPER_DEFAULTS);
        }
    }

    private RelayServer(final Settings settings, final IoTransport transport, final EventLoopGroup group,
        final RelayLoops loops, final Channel mainChannel, final Channel httpChannel, final ChannelGroup connections)
    {
        this.connections = connections;
        this.settings = settings;
        this.transport = transport;
        this.group = group;
        this.loops = loops;
        this.mainChannel = mainChannel;
        this.httpChannel = httpChannel;
    }

    /**
     * Binds the listeners and starts serving.
     *
     * @param settings what to listen on.
     * @return the running server.
     * @throws InterruptedException if interrupted while binding.
     */
    public static RelayServer start(final Settings settings) throws InterruptedException
    {
        final IoTransport transport = IoTransport.select();
        final int threads = settings.eventLoops() > 0 ? settings.eventLoops() :
            Runtime.getRuntime().availableProcessors();
        final EventLoopGroup group = new MultiThreadIoEventLoopGroup(threads,
            new DefaultThreadFactory(THREAD_NAME_PREFIX), transport.handlerFactory());
        try
        {
            final RelayLoops loops = new RelayLoops(group, settings.router(), PooledByteBufAllocator.DEFAULT);
            final InputLimits inputs = settings.inputLimits();
            final DerpUpgrade upgrade = new DerpUpgrade(loops, settings.handshake(), inputs.frameRead());
            final RelayMetrics metrics = settings.router().metrics();
            // Every accepted connection, so that close() can close them (and free their TLS engines) while the
            // loops still run; the group forgets a connection when it closes.
            final ChannelGroup connections = new DefaultChannelGroup("jderper-connections",
                GlobalEventExecutor.INSTANCE);
            final ConnectionGate gate = new ConnectionGate(settings.connectionLimits(), metrics);
            final Channel main = bootstrap(group, transport, settings.tcpTimeouts(), new ChannelInitializer<SocketChannel>()
            {
                @Override
                protected void initChannel(final SocketChannel ch)
                {
                    if (!gate.admit(ch))
                    {
                        return;
                    }
                    connections.add(ch);
                    final ChannelPipeline pipeline = ch.pipeline();
                    settings.tls().ifPresent(tls ->
                    {
                        pipeline.addLast("tls-sniffer", new TlsSniffer(tls, metrics, settings.acmeTlsAlpn()));
                        pipeline.addLast(TlsHandshakeDeadline.NAME,
                            new TlsHandshakeDeadline(inputs.handshake(), metrics));
                        pipeline.addLast("tls-handshake-outcome", new TlsHandshakeOutcome(metrics));
                    });
                    addMainHttpHandlers(pipeline, upgrade, settings.derp(), settings.derpMap(), inputs,
                        settings.pages());
                }
            }).bind(settings.listen()).sync().channel();
            Channel http = null;
            if (settings.tls().isPresent() && settings.httpPort() >= 0)
            {
                final InetSocketAddress httpAddress = new InetSocketAddress(settings.listen().getAddress(),
                    settings.httpPort());
                http = bootstrap(group, transport, settings.tcpTimeouts(), new ChannelInitializer<SocketChannel>()
                {
                    @Override
                    protected void initChannel(final SocketChannel ch)
                    {
                        connections.add(ch);
                        addPlainHttpPortHandlers(ch.pipeline(), settings.acmeHttp01(), inputs, metrics);
                    }
                }).bind(httpAddress).sync().channel();
            }
            final RelayServer server = new RelayServer(settings, transport, group, loops, main, http, connections);
            LOG.info("listening on {} ({}), {} event loops{}", server.mainAddress(),
                settings.tls().isPresent() ? "TLS" : "plain HTTP", threads,
                null == http ? "" : ", plain HTTP on " + http.localAddress());
            return server;
        }
        catch (final Exception ex)
        {
            // Netty's native transports throw IOExceptions from bind() without declaring them: catch everything,
            // or the event-loop threads would keep the process alive after a failed start.
            group.shutdownGracefully(0, 1, TimeUnit.SECONDS);
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

    private static ServerBootstrap bootstrap(final EventLoopGroup group, final IoTransport transport,
        final TcpTimeouts tcpTimeouts, final ChannelInitializer<SocketChannel> init)
    {
        final ServerBootstrap bootstrap = new ServerBootstrap()
            .group(group)
            .channel(transport.serverChannel())
            .option(ChannelOption.SO_BACKLOG, 4096)
            .option(ChannelOption.SO_REUSEADDR, true)
            .childOption(ChannelOption.TCP_NODELAY, true)
            .childOption(ChannelOption.WRITE_BUFFER_WATER_MARK, new WriteBufferWaterMark(32 << 10, 64 << 10))
            // The packet buffers' allocator for the TLS and read buffers too: Netty 4.2's default (adaptive)
            // allocator copies into them through a ByteBuffer view made per copy, one object per TLS record or read.
            .childOption(ChannelOption.ALLOCATOR, PooledByteBufAllocator.DEFAULT)
            .childHandler(init);
        transport.applyTcpTimeouts(bootstrap, tcpTimeouts);
        return bootstrap;
    }

    /**
     * Installs what the main listener runs on plain-text HTTP (after TLS, when the listener has it): the HTTP codec
     * with the relay's limits and the endpoints, {@code /derp} included. One place for the server and for tests that
     * feed arbitrary bytes into exactly this pipeline.
     *
     * @param pipeline a new connection's pipeline, after any TLS handlers.
     * @param upgrade  performs the {@code /derp} upgrade.
     * @param derp     whether {@code /derp} relays.
     * @param derpMap  the DERP map JSON to serve, if any.
     * @param inputs   the request deadline and header bound.
     */
    public static void addMainHttpHandlers(final ChannelPipeline pipeline, final DerpUpgrade upgrade,
        final boolean derp, final Optional<Supplier<String>> derpMap, final InputLimits inputs)
    {
        addMainHttpHandlers(pipeline, upgrade, derp, derpMap, inputs, HttpPages.DEFAULTS);
    }

    /**
     * Installs what the main listener runs on plain-text HTTP, with the given pages.
     *
     * @param pipeline a new connection's pipeline, after any TLS handlers.
     * @param upgrade  performs the {@code /derp} upgrade.
     * @param derp     whether {@code /derp} relays.
     * @param derpMap  the DERP map JSON to serve, if any.
     * @param inputs   the request deadline and header bound.
     * @param pages    the home page, bootstrap DNS answers and debug access.
     */
    public static void addMainHttpHandlers(final ChannelPipeline pipeline, final DerpUpgrade upgrade,
        final boolean derp, final Optional<Supplier<String>> derpMap, final InputLimits inputs,
        final HttpPages pages)
    {
        addHttpCodec(pipeline, inputs, upgrade.metrics());
        pipeline.addLast("http", new RelayHttpHandler(upgrade, derp, derpMap, pages));
    }

    /**
     * Installs what the plain-HTTP port beside a TLS listener runs: the same HTTP codec and its endpoints.
     *
     * @param pipeline   a new connection's pipeline.
     * @param acmeHttp01 the ACME http-01 key authorization for a token.
     * @param inputs     the request deadline and header bound.
     * @param metrics    where bad requests and expired deadlines are counted.
     */
    public static void addPlainHttpPortHandlers(final ChannelPipeline pipeline,
        final Function<String, Optional<String>> acmeHttp01, final InputLimits inputs, final RelayMetrics metrics)
    {
        addHttpCodec(pipeline, inputs, metrics);
        pipeline.addLast("http", new PlainHttpPortHandler(acmeHttp01, metrics));
    }

    private static void addHttpCodec(final ChannelPipeline pipeline, final InputLimits inputs,
        final RelayMetrics metrics)
    {
        pipeline.addLast(DerpUpgrade.HTTP_DECODER,
            new HttpRequestDecoder(MAX_REQUEST_LINE, inputs.httpHeaderBytes(), 8192));
        pipeline.addLast("http-encoder", new HttpResponseEncoder());
        pipeline.addLast("http-aggregator", new HttpObjectAggregator(MAX_REQUEST_BODY));
        pipeline.addLast(HttpRequestDeadline.NAME, new HttpRequestDeadline(inputs.httpRequest(), metrics));
    }

    /**
     * @return the bound address of the main listener (useful when port 0 was asked for).
     */
    public InetSocketAddress mainAddress()
    {
        return (InetSocketAddress)mainChannel.localAddress();
    }

    /**
     * @return the bound address of the plain-HTTP port, if one runs.
     */
    public Optional<InetSocketAddress> httpAddress()
    {
        return Optional.ofNullable(httpChannel).map(ch -> (InetSocketAddress)ch.localAddress());
    }

    /**
     * @return the I/O transport in use.
     */
    public String transportName()
    {
        return transport.name();
    }

    /**
     * @return the connections open now (for tests).
     */
    ChannelGroup connections()
    {
        return connections;
    }

    /**
     * @return the relay loops (for tests and metrics).
     */
    public RelayLoops loops()
    {
        return loops;
    }

    /**
     * @return the settings the server started with.
     */
    public Settings settings()
    {
        return settings;
    }

    /**
     * Graceful shutdown (spec §4.16): stops accepting, tells every client when to reconnect (Restarting, the hint
     * spread over {@code [reconnectInMs, reconnectInMs + jitterMs)}), writes what is queued for it and closes it;
     * whatever is still open after {@code drain} is closed as {@link #close()} does.
     *
     * @param drain         bound on the whole drain.
     * @param reconnectInMs earliest reconnect hint.
     * @param jitterMs      spread of the hint.
     * @param tryForMs      how long clients should keep trying.
     * @return connections still open when the drain time ran out (then closed at once).
     */
    public int shutdownGracefully(final Duration drain, final int reconnectInMs, final int jitterMs,
        final int tryForMs)
    {
        mainChannel.close().awaitUninterruptibly(2, TimeUnit.SECONDS);
        if (null != httpChannel)
        {
            httpChannel.close().awaitUninterruptibly(2, TimeUnit.SECONDS);
        }
        loops.announceRestart(reconnectInMs, jitterMs, tryForMs);
        connections.newCloseFuture().awaitUninterruptibly(drain.toMillis());
        final int left = connections.size();
        close();
        return left;
    }

    /**
     * Stops listening, closes every connection and stops the event loops, waiting at most a few seconds.
     */
    @Override
    public void close()
    {
        mainChannel.close().awaitUninterruptibly(2, TimeUnit.SECONDS);
        if (null != httpChannel)
        {
            httpChannel.close().awaitUninterruptibly(2, TimeUnit.SECONDS);
        }
        connections.close().awaitUninterruptibly(2, TimeUnit.SECONDS);
        loops.stop();
        group.shutdownGracefully(0, 2, TimeUnit.SECONDS).awaitUninterruptibly(5, TimeUnit.SECONDS);
    }

    /**
     * Logs and counts failed TLS handshakes (garbage after a TLS-looking first byte, old protocol versions), and
     * counts successful ones by the version negotiated, open until the connection closes.
     *
     * <p>derper counts {@code derper_tls_request_version} per HTTP request over TLS and holds
     * {@code derper_tls_active_version} while the request is served; jderper counts per connection, at the
     * handshake, and holds the gauge until the close. For {@code /derp}, which is one request for the connection's
     * life, the two agree; a client sending several requests on one connection (probes with keep-alive) counts once
     * here. An ACME tls-alpn-01 validation, which carries no HTTP request, is not counted, as in derper. Once per
     * connection, so the packet path never sees it.
     */
    private static final class TlsHandshakeOutcome extends ChannelInboundHandlerAdapter
    {
        private final RelayMetrics metrics;

        TlsHandshakeOutcome(final RelayMetrics metrics)
        {
            this.metrics = metrics;
        }

        @Override
        public void userEventTriggered(final ChannelHandlerContext ctx, final Object event) throws Exception
        {
            if (event instanceof SslHandshakeCompletionEvent completion)
            {
                if (completion.isSuccess())
                {
                    countVersion(ctx);
                    ctx.pipeline().remove(this);
                }
                else if (ctx.channel().isActive())
                {
                    // Only failures the peer's bytes caused: a handshake cut short by a close (the peer's, or the
                    // handshake deadline's, which counts its own) is no bad transport.
                    metrics.violation(Violation.BAD_TRANSPORT);
                    LOG.info("TLS handshake with {} failed: {}", ctx.channel().remoteAddress(),
                        completion.cause().toString());
                    ctx.close();
                    return;
                }
            }
            super.userEventTriggered(ctx, event);
        }

        private void countVersion(final ChannelHandlerContext ctx)
        {
            final SslHandler tls = ctx.pipeline().get(SslHandler.class);
            if (null == tls || ClientHelloPeek.ACME_TLS_1.equals(tls.applicationProtocol()))
            {
                return;
            }
            final TlsVersion version = TlsVersion.ofProtocol(tls.engine().getSession().getProtocol());
            metrics.tlsOpened(version);
            // Runs at once if the channel has closed already, so every connection counted open is counted closed.
            ctx.channel().closeFuture().addListener(closed -> metrics.tlsClosed(version));
        }

        @Override
        public void exceptionCaught(final ChannelHandlerContext ctx, final Throwable cause)
        {
            // Handshake failures also surface here; the completion event above has already logged them.
            ctx.close();
        }
    }
}
