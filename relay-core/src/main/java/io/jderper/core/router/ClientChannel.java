package io.jderper.core.router;

import org.agrona.DirectBuffer;

/**
 * The transport side of one client connection, as the relay core sees it. Implemented by the transport module.
 * Every method except {@link #execute} is called on the connection's own event loop.
 *
 * @param <P> the transport's packet type (a pooled buffer holding a whole RecvPacket frame).
 */
public interface ClientChannel<P>
{
    /** {@link #tcpRttMicros()} of a connection that is not a TCP socket. */
    long RTT_NOT_TCP = -1;
    /** {@link #tcpRttMicros()} of a TCP socket whose figures the transport cannot read. */
    long RTT_UNREADABLE = -2;

    /**
     * The kernel's smoothed round-trip time of the connection ({@code TCP_INFO}'s {@code tcpi_rtt}), for derper's
     * {@code derp_tcp_rtt}. Called every ten seconds at most: it may make a system call, but must not allocate.
     *
     * @return microseconds, or {@link #RTT_NOT_TCP} or {@link #RTT_UNREADABLE}.
     */
    default long tcpRttMicros()
    {
        return RTT_NOT_TCP;
    }

    /**
     * @return false while the outbound buffer is above its high-water mark; the core then queues instead.
     */
    boolean isWritable();

    /**
     * Writes a RecvPacket frame without flushing; takes ownership of the packet.
     *
     * @param packet a frame made by {@link PacketFrames#recvPacket}.
     */
    void writePacket(P packet);

    /**
     * Copies a small control frame (ServerInfo, KeepAlive, Pong, PeerGone, PeerPresent) into the outbound buffer
     * without flushing.
     *
     * @param frame  holds the whole frame, header included.
     * @param offset where it starts.
     * @param length its length.
     */
    void writeControl(DirectBuffer frame, int offset, int length);

    /**
     * Flushes what was written.
     */
    void flush();

    /**
     * Stops or resumes reading from the peer (used while admission is pending).
     *
     * @param reading whether to read.
     */
    void setReading(boolean reading);

    /**
     * Closes the connection; the transport later calls {@link ClientSession#onClosed()} on the loop.
     */
    void close();

    /**
     * Closes the connection once everything written so far has reached the socket (a graceful shutdown); the
     * transport later calls {@link ClientSession#onClosed()} on the loop.
     */
    void closeAfterFlush();

    /**
     * Runs a task on this connection's loop; callable from any thread.
     *
     * @param task to run.
     */
    void execute(Runnable task);
}
