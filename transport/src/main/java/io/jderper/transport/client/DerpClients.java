package io.jderper.transport.client;

import io.jderper.tls.TlsBuffers;
import io.jderper.tls.TlsEngineRelease;
import io.jderper.tls.TlsProvider;
import io.jderper.transport.io.IoTransport;
import io.netty.bootstrap.Bootstrap;
import io.netty.buffer.ByteBufAllocator;
import io.netty.buffer.PooledByteBufAllocator;
import io.netty.channel.Channel;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import io.netty.channel.ChannelPipeline;
import io.netty.channel.EventLoop;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.IoEventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.WriteBufferWaterMark;
import io.netty.channel.epoll.EpollIoHandler;
import io.netty.channel.epoll.EpollSocketChannel;
import io.netty.channel.nio.NioIoHandler;
import io.netty.channel.socket.SocketChannel;
import io.netty.channel.socket.nio.NioSocketChannel;
import io.netty.channel.uring.IoUringIoHandler;
import io.netty.channel.uring.IoUringSocketChannel;
import io.netty.handler.ssl.SslContext;
import io.netty.handler.ssl.SslContextBuilder;
import io.netty.handler.ssl.SslHandler;
import io.netty.util.ReferenceCountUtil;
import io.netty.util.concurrent.DefaultThreadFactory;

import javax.net.ssl.SNIHostName;
import javax.net.ssl.SSLEngine;
import javax.net.ssl.SSLException;
import javax.net.ssl.SSLParameters;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.UnknownHostException;
import java.security.SecureRandom;
import java.time.InstantSource;
import java.util.List;
import java.util.Objects;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executor;
import java.util.concurrent.ForkJoinPool;

/**
 * Opens {@link DerpClient}s: holds the caller's event loop group, the buffer allocator and the TLS set-up, and shares
 * them between any number of clients. A client is a channel and a handler on one loop of the group, never a thread,
 * so 10,000 clients on a four-thread group are 10,000 connections served by four threads.
 *
 * <p>The channel class follows the group's I/O handler (io_uring, epoll or NIO, as {@link IoTransport#select()}
 * picks for the server); {@link #newEventLoopGroup(int)} makes such a group. TLS runs on the first provider that
 * loads of OpenSSL, Conscrypt and the JDK ({@link TlsProvider#detect()}), TLS 1.3 and 1.2, with one shared context
 * per {@link DerpTrust}; {@link #close()} releases those contexts.
 *
 * <p>Thread-safe. Closing the clients and shutting down the group are the caller's business.
 */
public final class DerpClients implements AutoCloseable
{
    /** Names the threads of {@link #newEventLoopGroup(int)}: {@code jderper-client-<pool>-<n>}. */
    public static final String THREAD_NAME_PREFIX = "jderper-client";

    /** Protocols offered, newest first: fast start needs 1.3. */
    public static final List<String> TLS_PROTOCOLS = List.of("TLSv1.3", "TLSv1.2");

    private final EventLoopGroup group;
    private final Class<? extends SocketChannel> channelClass;
    private final String transportName;
    private final ByteBufAllocator allocator;
    private final TlsProvider tlsProvider;
    private final SecureRandom random;
    private final Executor resolver;
    private final WriteBufferWaterMark waterMark;
    private final InstantSource clock;
    private final ConcurrentHashMap<DerpTrust, SslContext> sslContexts = new ConcurrentHashMap<>();

    private DerpClients(final Builder builder)
    {
        this.group = builder.group;
        this.allocator = builder.allocator;
        this.tlsProvider = null != builder.tlsProvider ? builder.tlsProvider : TlsProvider.detect();
        this.random = builder.random;
        this.resolver = builder.resolver;
        this.waterMark = builder.waterMark;
        this.clock = builder.clock;
        if (!(group instanceof IoEventLoopGroup io))
        {
            throw new IllegalArgumentException("group=" + group.getClass().getName() +
                " is not an IoEventLoopGroup (use newEventLoopGroup or a MultiThreadIoEventLoopGroup)");
        }
        if (io.isIoType(IoUringIoHandler.class))
        {
            channelClass = IoUringSocketChannel.class;
            transportName = "io_uring";
        }
        else if (io.isIoType(EpollIoHandler.class))
        {
            channelClass = EpollSocketChannel.class;
            transportName = "epoll";
        }
        else if (io.isIoType(NioIoHandler.class))
        {
            channelClass = NioSocketChannel.class;
            transportName = "nio";
        }
        else
        {
            throw new IllegalArgumentException("group=" + group.getClass().getName() +
                " runs none of the io_uring, epoll or NIO handlers");
        }
    }

    /**
     * @param group the event loops every client will share.
     * @return a builder with a pooled allocator, Conscrypt-or-JDK TLS and a 32/64 KiB write water mark.
     */
    public static Builder builder(final EventLoopGroup group)
    {
        return new Builder(group);
    }

    /**
     * Makes an event loop group on the best I/O transport available, as the server picks it (io_uring, epoll, NIO;
     * {@code -Djderper.transport} forces one).
     *
     * @param threads the number of event loops.
     * @return a new group; the caller shuts it down.
     */
    public static EventLoopGroup newEventLoopGroup(final int threads)
    {
        if (threads <= 0)
        {
            throw new IllegalArgumentException("threads=" + threads + ", must be > 0");
        }
        return new MultiThreadIoEventLoopGroup(threads, new DefaultThreadFactory(THREAD_NAME_PREFIX),
            IoTransport.select().handlerFactory());
    }

    /**
     * Opens a client: returns at once; the connect and handshake run on one of the group's loops. Every failure,
     * including a bad TLS set-up, completes {@link DerpClient#ready()} exceptionally rather than throwing here.
     *
     * @param options  where to connect and as whom.
     * @param listener receives frames and the close; may be shared by many clients.
     * @return the client, not yet ready.
     */
    public DerpClient open(final DerpClientOptions options, final DerpClientListener listener)
    {
        Objects.requireNonNull(options, "options");
        Objects.requireNonNull(listener, "listener");
        final EventLoop loop = group.next();
        final DerpClient client = new DerpClient(options, listener, allocator, random, loop);
        // Built (once per trust, then cached) on the caller's thread: it may read files.
        SslContext ssl = null;
        DerpClientException tlsFailure = null;
        if (options.tls())
        {
            try
            {
                ssl = sslContext(options.trust());
            }
            catch (final RuntimeException ex)
            {
                final Throwable cause = ex instanceof UncheckedIOException unchecked ? unchecked.getCause() : ex;
                tlsFailure = new DerpClientException("cannot set up TLS for " + options.url() + " with " +
                    options.trust() + ": " + DerpClient.describe(cause), cause);
            }
        }
        final SslContext context = ssl;
        final DerpClientException failure = tlsFailure;
        loop.execute(() -> start(client, context, failure));
        return client;
    }

    /**
     * @param options  where to connect and as whom.
     * @param listener receives frames and the close.
     * @return {@link DerpClient#ready()} of a newly opened client.
     */
    public CompletableFuture<DerpClient> connect(final DerpClientOptions options, final DerpClientListener listener)
    {
        return open(options, listener).ready();
    }

    /**
     * Does only the TLS part of a connection to {@code options}' server, with exactly the trust, SNI and protocols a
     * client would use, and closes it: for checking a deployment step by step.
     *
     * @param options where to connect and with which trust; must be {@code https}.
     * @return the server's certificate chain as presented, or the failure (wrong pin, expired, refused...).
     */
    public CompletableFuture<java.security.cert.Certificate[]> probeTls(final DerpClientOptions options)
    {
        final CompletableFuture<java.security.cert.Certificate[]> result = new CompletableFuture<>();
        if (!options.tls())
        {
            result.completeExceptionally(new IllegalArgumentException(options.url() + " is not https"));
            return result;
        }
        final SslContext ssl;
        try
        {
            ssl = sslContext(options.trust());
        }
        catch (final RuntimeException ex)
        {
            result.completeExceptionally(ex);
            return result;
        }
        CompletableFuture.supplyAsync(() -> resolve(options.host()), resolver).whenComplete((address, error) ->
        {
            if (null != error)
            {
                result.completeExceptionally(null != error.getCause() ? error.getCause() : error);
                return;
            }
            new Bootstrap()
                .group(group)
                .channel(channelClass)
                .option(ChannelOption.CONNECT_TIMEOUT_MILLIS,
                    (int)Math.min(Integer.MAX_VALUE, options.handshakeTimeoutMs()))
                .handler(new ChannelInitializer<Channel>()
                {
                    @Override
                    protected void initChannel(final Channel ch)
                    {
                        final SslHandler handler = sslHandler(ssl, ch, options);
                        handler.setHandshakeTimeoutMillis(options.handshakeTimeoutMs());
                        ch.pipeline().addLast("tls", handler);
                        ch.pipeline().addLast(TlsEngineRelease.NAME, new TlsEngineRelease(handler.engine()));
                        // The handshake future reports the failure; the exception itself needs no further logging.
                        ch.pipeline().addLast("close-on-error", new io.netty.channel.ChannelInboundHandlerAdapter()
                        {
                            @Override
                            public void exceptionCaught(final io.netty.channel.ChannelHandlerContext ctx,
                                final Throwable cause)
                            {
                                ctx.close();
                            }
                        });
                        handler.handshakeFuture().addListener(done ->
                        {
                            if (done.isSuccess())
                            {
                                result.complete(handler.engine().getSession().getPeerCertificates());
                            }
                            else
                            {
                                result.completeExceptionally(done.cause());
                            }
                            ch.close();
                        });
                    }
                })
                .connect(new InetSocketAddress(address, options.port()))
                .addListener(connected ->
                {
                    if (!connected.isSuccess())
                    {
                        result.completeExceptionally(connected.cause());
                    }
                });
        });
        return result;
    }

    /**
     * @return {@code io_uring}, {@code epoll} or {@code nio}.
     */
    public String transportName()
    {
        return transportName;
    }

    /**
     * @return the TLS provider, Conscrypt or the JDK's.
     */
    public TlsProvider tlsProvider()
    {
        return tlsProvider;
    }

    /**
     * @return the shared event loop group.
     */
    public EventLoopGroup group()
    {
        return group;
    }

    /**
     * @return the allocator every client's buffers come from.
     */
    public ByteBufAllocator allocator()
    {
        return allocator;
    }

    /**
     * Releases the shared TLS contexts: an OpenSSL context holds native memory until it is released. Each client's
     * TLS engine holds a reference of its own, so clients still open keep working; clients opened later get new
     * contexts.
     */
    @Override
    public void close()
    {
        for (final DerpTrust trust : List.copyOf(sslContexts.keySet()))
        {
            final SslContext context = sslContexts.remove(trust);
            if (null != context)
            {
                ReferenceCountUtil.release(context);
            }
        }
    }

    private void start(final DerpClient client, final SslContext ssl, final DerpClientException tlsFailure)
    {
        if (client.isFinished())
        {
            return;
        }
        if (null != tlsFailure)
        {
            client.fail(tlsFailure);
            return;
        }
        client.startTimer();
        final DerpClientOptions options = client.options();
        final InetAddress literal = PeerCertificates.ipLiteral(options.dialHost());
        if (null != literal)
        {
            connect(client, ssl, literal);
            return;
        }
        // Never resolve on the event loop: a DNS lookup blocks.
        CompletableFuture.supplyAsync(() -> resolve(options.dialHost()), resolver).whenComplete((address, error) ->
            client.eventLoop().execute(() ->
            {
                if (client.isFinished())
                {
                    return;
                }
                if (null != error)
                {
                    final Throwable cause = null != error.getCause() ? error.getCause() : error;
                    client.fail(new DerpClientException("cannot resolve " + options.dialHost() + ": " +
                        DerpClient.describe(cause), cause));
                }
                else
                {
                    connect(client, ssl, address);
                }
            }));
    }

    private static InetAddress resolve(final String host)
    {
        try
        {
            return InetAddress.getByName(host);
        }
        catch (final UnknownHostException ex)
        {
            throw new UncheckedIOException(ex);
        }
    }

    private void connect(final DerpClient client, final SslContext ssl, final InetAddress address)
    {
        final DerpClientOptions options = client.options();
        final Bootstrap bootstrap = new Bootstrap()
            .group(client.eventLoop())
            .channel(channelClass)
            .option(ChannelOption.ALLOCATOR, allocator)
            .option(ChannelOption.TCP_NODELAY, true)
            .option(ChannelOption.WRITE_BUFFER_WATER_MARK, waterMark)
            .option(ChannelOption.CONNECT_TIMEOUT_MILLIS,
                (int)Math.min(Integer.MAX_VALUE, options.handshakeTimeoutMs()))
            .handler(new ChannelInitializer<Channel>()
            {
                @Override
                protected void initChannel(final Channel ch)
                {
                    final ChannelPipeline pipeline = ch.pipeline();
                    if (null != ssl)
                    {
                        final SslHandler tls = sslHandler(ssl, ch, options);
                        pipeline.addLast("tls", tls);
                        pipeline.addLast(TlsEngineRelease.NAME, new TlsEngineRelease(tls.engine()));
                    }
                    pipeline.addLast("derp-client", client.handler());
                }
            });
        final InetSocketAddress local = null == options.localAddress() ? null :
            new InetSocketAddress(options.localAddress(), 0);
        client.connect(bootstrap, new InetSocketAddress(address, options.port()), local);
    }

    private static SslHandler sslHandler(final SslContext ssl, final Channel ch, final DerpClientOptions options)
    {
        final SslHandler handler = ssl.newHandler(ch.alloc(), options.host(), options.port());
        // The client's own timer bounds the whole handshake; one timer per connection is enough.
        handler.setHandshakeTimeoutMillis(0);
        final SSLEngine engine = handler.engine();
        TlsBuffers.preferDirectForConscrypt(ch, engine);
        final SSLParameters parameters = engine.getSSLParameters();
        // SNI is the host name; Go sends none for an IP literal (spec §1.2, §5.4).
        parameters.setServerNames(null == PeerCertificates.ipLiteral(options.host()) ?
            List.of(new SNIHostName(options.host())) : List.of());
        engine.setSSLParameters(parameters);
        return handler;
    }

    private SslContext sslContext(final DerpTrust trust)
    {
        return sslContexts.computeIfAbsent(trust, t ->
        {
            try
            {
                return newSslContext(t);
            }
            catch (final SSLException ex)
            {
                throw new UncheckedIOException(ex);
            }
        });
    }

    private SslContext newSslContext(final DerpTrust trust) throws SSLException
    {
        final SslContextBuilder builder = tlsProvider.configure(SslContextBuilder.forClient())
            .protocols(TLS_PROTOCOLS);
        switch (trust.kind())
        {
            case SYSTEM -> builder.endpointIdentificationAlgorithm("HTTPS");
            case CA_FILE ->
            {
                try
                {
                    builder.trustManager(CaFileTrustManager.of(trust.caFile())).endpointIdentificationAlgorithm("HTTPS");
                }
                catch (final java.io.IOException ex)
                {
                    throw new UncheckedIOException(ex);
                }
            }
            case SHA256_RAW -> builder.trustManager(new Sha256RawTrustManager(trust.sha256Hex(), clock))
                // The pin check does its own host name check, as Go's does.
                .endpointIdentificationAlgorithm(null);
            default -> throw new IllegalStateException("trust=" + trust);
        }
        return builder.build();
    }

    /**
     * Fluent settings; {@link #build()} checks them.
     */
    public static final class Builder
    {
        private final EventLoopGroup group;
        private ByteBufAllocator allocator = PooledByteBufAllocator.DEFAULT;
        private TlsProvider tlsProvider;
        private SecureRandom random = new SecureRandom();
        private Executor resolver = ForkJoinPool.commonPool();
        private WriteBufferWaterMark waterMark = new WriteBufferWaterMark(32 << 10, 64 << 10);
        private InstantSource clock = InstantSource.system();

        private Builder(final EventLoopGroup group)
        {
            this.group = Objects.requireNonNull(group, "group");
        }

        /**
         * @param allocator where every client's buffers come from; pooled by default.
         * @return this.
         */
        public Builder allocator(final ByteBufAllocator allocator)
        {
            this.allocator = Objects.requireNonNull(allocator, "allocator");
            return this;
        }

        /**
         * @param tlsProvider the JSSE provider for TLS; {@link TlsProvider#detect()} by default.
         * @return this.
         */
        public Builder tlsProvider(final TlsProvider tlsProvider)
        {
            this.tlsProvider = Objects.requireNonNull(tlsProvider, "tlsProvider");
            return this;
        }

        /**
         * @param random source of the ClientInfo nonces.
         * @return this.
         */
        public Builder random(final SecureRandom random)
        {
            this.random = Objects.requireNonNull(random, "random");
            return this;
        }

        /**
         * @param resolver runs the blocking DNS lookups of host names that are not IP literals.
         * @return this.
         */
        public Builder resolver(final Executor resolver)
        {
            this.resolver = Objects.requireNonNull(resolver, "resolver");
            return this;
        }

        /**
         * @param lowBytes  below this the channel is writable again.
         * @param highBytes above this it is not.
         * @return this.
         */
        public Builder writeBufferWaterMark(final int lowBytes, final int highBytes)
        {
            this.waterMark = new WriteBufferWaterMark(lowBytes, highBytes);
            return this;
        }

        /**
         * @param clock time source for the pinned certificate's validity dates (tests).
         * @return this.
         */
        Builder clock(final InstantSource clock)
        {
            this.clock = Objects.requireNonNull(clock, "clock");
            return this;
        }

        /**
         * @return the factory.
         * @throws IllegalArgumentException if the group is not an io_uring, epoll or NIO group.
         */
        public DerpClients build()
        {
            return new DerpClients(this);
        }
    }
}
