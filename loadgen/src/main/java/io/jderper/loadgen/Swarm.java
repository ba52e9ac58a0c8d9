package io.jderper.loadgen;

import io.netty.channel.EventLoop;

/**
 * What a {@link Peer} reports to the run it belongs to. Called on event loops (and, for a handshake that finished
 * before its stage was attached, on the thread that opened it): implementations count and never block.
 */
interface Swarm
{
    /**
     * @return the traffic being sent, or null outside the traffic phase.
     */
    Traffic traffic();

    /**
     * @param loop one of the run's event loops.
     * @return its context.
     */
    LoopContext loopContext(EventLoop loop);

    /**
     * A handshake finished.
     *
     * @param peer      the peer.
     * @param elapsedNs from opening to ServerInfo.
     * @param churn     whether it was a churn reopen.
     */
    void onConnected(Peer peer, long elapsedNs, boolean churn);

    /**
     * A connect or handshake failed.
     *
     * @param peer  the peer.
     * @param cause why.
     * @param churn whether it was a churn reopen.
     */
    void onConnectFailed(Peer peer, Throwable cause, boolean churn);

    /**
     * A client of the peer finished (once per opened client, whatever the reason).
     *
     * @param peer the peer.
     */
    void onClientClosed(Peer peer);

    /**
     * A ready connection closed because this process asked (churn, teardown).
     *
     * @param peer the peer.
     */
    void onClosedOnRequest(Peer peer);

    /**
     * A ready connection was lost: closed by the server or broken.
     *
     * @param peer  the peer.
     * @param cause why.
     */
    void onLost(Peer peer, Throwable cause);

    /**
     * Closing a connection threw (its channel never registered).
     *
     * @param peer  the peer.
     * @param cause what was thrown.
     */
    void onCloseFailed(Peer peer, RuntimeException cause);

    /**
     * @param rttNs round trip of a Ping.
     */
    void onPong(long rttNs);

    /**
     * A Ping went unanswered.
     */
    void onPingTimeout();
}
