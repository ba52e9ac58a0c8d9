package io.jderper.stun.server;

import java.net.InetSocketAddress;

/**
 * A bound UDP socket and the loop that serves it. Two exist: {@link LinuxBatchEngine}, which allocates nothing per
 * datagram, and {@link JdkEngine}, the portable fallback.
 */
interface DatagramEngine
{
    /**
     * @return a short description for the start-up log.
     */
    String description();

    /**
     * @return the address the socket is bound to, with the real port if port 0 was asked for.
     */
    InetSocketAddress localAddress();

    /**
     * Receives and answers datagrams until {@link #stop()}; runs on the server's own thread.
     *
     * @param responder what to answer.
     */
    void serve(StunResponder responder);

    /**
     * Makes {@link #serve} return soon; callable from any thread, more than once.
     */
    void stop();

    /**
     * Releases the socket and memory; only after {@link #serve} has returned (or never ran).
     */
    void release();
}
