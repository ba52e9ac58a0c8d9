package io.jderper.transport.io;

import io.netty.bootstrap.ServerBootstrap;
import io.netty.channel.ChannelOption;
import io.netty.channel.IoHandlerFactory;
import io.netty.channel.ServerChannel;
import io.netty.channel.epoll.Epoll;
import io.netty.channel.epoll.EpollChannelOption;
import io.netty.channel.epoll.EpollDatagramChannel;
import io.netty.channel.epoll.EpollIoHandler;
import io.netty.channel.epoll.EpollServerSocketChannel;
import io.netty.channel.nio.NioIoHandler;
import io.netty.channel.socket.DatagramChannel;
import io.netty.channel.socket.nio.NioChannelOption;
import io.netty.channel.socket.nio.NioDatagramChannel;
import io.netty.channel.socket.nio.NioServerSocketChannel;
import io.netty.channel.uring.IoUring;
import io.netty.channel.uring.IoUringChannelOption;
import io.netty.channel.uring.IoUringDatagramChannel;
import io.netty.channel.uring.IoUringIoHandler;
import io.netty.channel.uring.IoUringServerSocketChannel;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.Locale;
import jdk.net.ExtendedSocketOptions;

/**
 * The I/O engine under the event loops: io_uring where the kernel and native library allow it, then epoll,
 * then NIO. The choice and the reason for any fallback are logged once at start.
 *
 * @param name           short name for logs and metrics.
 * @param handlerFactory creates each event loop's I/O handler.
 * @param serverChannel  the listening channel class that matches the handler.
 * @param datagramChannel the UDP channel class that matches the handler (STUN).
 */
public record IoTransport(String name, IoHandlerFactory handlerFactory, Class<? extends ServerChannel> serverChannel,
    Class<? extends DatagramChannel> datagramChannel)
{
    private static final Logger LOG = LoggerFactory.getLogger(IoTransport.class);

    /** System property that forces a transport: {@code io_uring}, {@code epoll} or {@code nio}. */
    public static final String FORCE_PROPERTY = "jderper.transport";

    /**
     * Picks the best available transport, honouring {@value #FORCE_PROPERTY} if set.
     *
     * @return the transport to use.
     */
    public static IoTransport select()
    {
        final String forced = System.getProperty(FORCE_PROPERTY, "").trim().toLowerCase(Locale.ROOT);
        switch (forced)
        {
            case "" ->
            {
            }
            case "io_uring", "iouring" ->
            {
                IoUring.ensureAvailability();
                return logged(ioUring(), "forced by -D" + FORCE_PROPERTY);
            }
            case "epoll" ->
            {
                Epoll.ensureAvailability();
                return logged(epoll(), "forced by -D" + FORCE_PROPERTY);
            }
            case "nio" ->
            {
                return logged(nio(), "forced by -D" + FORCE_PROPERTY);
            }
            default -> throw new IllegalArgumentException(
                FORCE_PROPERTY + "=" + forced + " is not one of io_uring, epoll, nio");
        }
        if (IoUring.isAvailable())
        {
            return logged(ioUring(), "available");
        }
        final String uringWhy = String.valueOf(IoUring.unavailabilityCause());
        if (Epoll.isAvailable())
        {
            return logged(epoll(), "io_uring unavailable: " + uringWhy);
        }
        return logged(nio(), "io_uring unavailable: " + uringWhy + "; epoll unavailable: " +
            Epoll.unavailabilityCause());
    }

    /**
     * Sets derper's TCP keepalive and user timeout on the connections a listener accepts. NIO has no
     * {@code TCP_USER_TIMEOUT}: there only the keepalive applies (said once in the log).
     *
     * @param bootstrap the listener's bootstrap.
     * @param timeouts  the settings.
     */
    public void applyTcpTimeouts(final ServerBootstrap bootstrap, final TcpTimeouts timeouts)
    {
        bootstrap.childOption(ChannelOption.SO_KEEPALIVE, timeouts.keepAliveOn());
        final int keepAliveSeconds = (int)Math.max(1, timeouts.keepAlive().toSeconds());
        final int userTimeoutMs = (int)timeouts.userTimeout().toMillis();
        switch (name)
        {
            case "io_uring" ->
            {
                if (timeouts.keepAliveOn())
                {
                    bootstrap.childOption(IoUringChannelOption.TCP_KEEPIDLE, keepAliveSeconds)
                        .childOption(IoUringChannelOption.TCP_KEEPINTVL, keepAliveSeconds);
                }
                bootstrap.childOption(IoUringChannelOption.TCP_USER_TIMEOUT, userTimeoutMs);
            }
            case "epoll" ->
            {
                if (timeouts.keepAliveOn())
                {
                    bootstrap.childOption(EpollChannelOption.TCP_KEEPIDLE, keepAliveSeconds)
                        .childOption(EpollChannelOption.TCP_KEEPINTVL, keepAliveSeconds);
                }
                bootstrap.childOption(EpollChannelOption.TCP_USER_TIMEOUT, userTimeoutMs);
            }
            default ->
            {
                if (timeouts.keepAliveOn())
                {
                    bootstrap.childOption(NioChannelOption.of(ExtendedSocketOptions.TCP_KEEPIDLE), keepAliveSeconds)
                        .childOption(NioChannelOption.of(ExtendedSocketOptions.TCP_KEEPINTERVAL), keepAliveSeconds);
                }
                if (userTimeoutMs > 0)
                {
                    LOG.warn("the NIO transport cannot set TCP_USER_TIMEOUT; -tcp-user-timeout is not applied");
                }
            }
        }
    }

    private static IoTransport logged(final IoTransport transport, final String why)
    {
        LOG.info("I/O transport: {} ({})", transport.name(), why);
        return transport;
    }

    private static IoTransport ioUring()
    {
        return new IoTransport("io_uring", IoUringIoHandler.newFactory(), IoUringServerSocketChannel.class,
            IoUringDatagramChannel.class);
    }

    private static IoTransport epoll()
    {
        return new IoTransport("epoll", EpollIoHandler.newFactory(), EpollServerSocketChannel.class,
            EpollDatagramChannel.class);
    }

    private static IoTransport nio()
    {
        return new IoTransport("nio", NioIoHandler.newFactory(), NioServerSocketChannel.class,
            NioDatagramChannel.class);
    }
}
