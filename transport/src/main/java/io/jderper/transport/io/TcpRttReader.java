package io.jderper.transport.io;

import io.jderper.core.router.ClientChannel;
import io.netty.channel.Channel;
import io.netty.channel.epoll.EpollSocketChannel;
import io.netty.channel.epoll.EpollTcpInfo;
import io.netty.channel.socket.SocketChannel;
import io.netty.channel.uring.IoUringSocketChannel;
import io.netty.channel.uring.IoUringTcpInfo;

/**
 * Reads a connection's smoothed TCP round-trip time from the kernel ({@code TCP_INFO}) through the native transport
 * that owns the socket. One per event loop: the {@code tcp_info} holders are reused, so a reading is one system call
 * and no allocation. The NIO fallback cannot ask the kernel: its sockets read as
 * {@link ClientChannel#RTT_UNREADABLE}, derper's {@code error}.
 */
public final class TcpRttReader
{
    private IoUringTcpInfo ioUringInfo;
    private EpollTcpInfo epollInfo;

    /**
     * @param channel a connection of this reader's loop.
     * @return its RTT in microseconds, {@link ClientChannel#RTT_NOT_TCP} if it is no TCP socket, or
     *     {@link ClientChannel#RTT_UNREADABLE} if its figures cannot be read (the NIO transport, a closed socket).
     */
    public long rttMicros(final Channel channel)
    {
        try
        {
            if (channel instanceof IoUringSocketChannel ioUring)
            {
                if (null == ioUringInfo)
                {
                    ioUringInfo = new IoUringTcpInfo();
                }
                return ioUring.tcpInfo(ioUringInfo).rtt();
            }
            if (channel instanceof EpollSocketChannel epoll)
            {
                if (null == epollInfo)
                {
                    epollInfo = new EpollTcpInfo();
                }
                return epoll.tcpInfo(epollInfo).rtt();
            }
        }
        catch (final RuntimeException closedOrRefused)
        {
            return ClientChannel.RTT_UNREADABLE;
        }
        return channel instanceof SocketChannel ? ClientChannel.RTT_UNREADABLE : ClientChannel.RTT_NOT_TCP;
    }
}
