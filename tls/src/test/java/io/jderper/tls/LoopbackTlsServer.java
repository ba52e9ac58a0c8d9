package io.jderper.tls;

import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;

import io.netty.bootstrap.ServerBootstrap;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.nio.NioIoHandler;
import io.netty.channel.socket.SocketChannel;
import io.netty.channel.socket.nio.NioServerSocketChannel;
import io.netty.handler.ssl.SslContext;
import io.netty.channel.group.ChannelGroup;
import io.netty.channel.group.DefaultChannelGroup;
import io.netty.handler.ssl.SslHandshakeCompletionEvent;
import io.netty.util.ReferenceCountUtil;
import io.netty.util.concurrent.GlobalEventExecutor;

/**
 * A Netty TLS server on a loopback port, using the production {@link SslContext} exactly as the relay will: one
 * {@code SslHandler} per connection. It records each connection's handshake outcome and otherwise stays silent. It
 * owns the context: closing the server closes every connection and releases the context (OpenSSL's is reference
 * counted).
 */
final class LoopbackTlsServer implements AutoCloseable
{
    static final long TIMEOUT_SECONDS = 10;

    private final EventLoopGroup group = new MultiThreadIoEventLoopGroup(1, NioIoHandler.newFactory());
    private final BlockingQueue<SslHandshakeCompletionEvent> handshakes = new LinkedBlockingQueue<>();
    private final ChannelGroup connections = new DefaultChannelGroup(GlobalEventExecutor.INSTANCE);
    private final SslContext sslContext;
    private final Channel serverChannel;

    LoopbackTlsServer(final SslContext sslContext)
    {
        this.sslContext = sslContext;
        serverChannel = new ServerBootstrap()
            .group(group)
            .channel(NioServerSocketChannel.class)
            .childHandler(new ChannelInitializer<SocketChannel>()
            {
                @Override
                protected void initChannel(final SocketChannel channel)
                {
                    connections.add(channel);
                    channel.pipeline().addLast(sslContext.newHandler(channel.alloc()), new HandshakeRecorder());
                }
            })
            .bind(InetAddress.getLoopbackAddress(), 0)
            .syncUninterruptibly()
            .channel();
    }

    int port()
    {
        return ((InetSocketAddress)serverChannel.localAddress()).getPort();
    }

    /**
     * @return the next connection's handshake outcome as the server saw it.
     */
    SslHandshakeCompletionEvent awaitHandshake() throws InterruptedException
    {
        final SslHandshakeCompletionEvent event = handshakes.poll(TIMEOUT_SECONDS, TimeUnit.SECONDS);
        if (null == event)
        {
            throw new AssertionError("server saw no handshake outcome within " + TIMEOUT_SECONDS + "s");
        }
        return event;
    }

    @Override
    public void close()
    {
        serverChannel.close().syncUninterruptibly();
        connections.close().awaitUninterruptibly(TIMEOUT_SECONDS, TimeUnit.SECONDS);
        group.shutdownGracefully(0, TIMEOUT_SECONDS, TimeUnit.SECONDS).syncUninterruptibly();
        ReferenceCountUtil.release(sslContext);
    }

    private final class HandshakeRecorder extends ChannelInboundHandlerAdapter
    {
        @Override
        public void userEventTriggered(final ChannelHandlerContext ctx, final Object event)
        {
            if (event instanceof final SslHandshakeCompletionEvent completion)
            {
                handshakes.add(completion);
            }
            ctx.fireUserEventTriggered(event);
        }

        @Override
        public void exceptionCaught(final ChannelHandlerContext ctx, final Throwable cause)
        {
            // Failed handshakes surface here as well as in the event; closing is all a test server should do.
            ctx.close();
        }
    }
}
