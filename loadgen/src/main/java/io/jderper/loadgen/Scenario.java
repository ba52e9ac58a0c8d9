package io.jderper.loadgen;

import java.util.Locale;

/**
 * What the simulated peers do once connected.
 */
enum Scenario
{
    /** Connect and hold, answering the server's keepalives and pings; optional Pings measure round trips. */
    IDLE,
    /** Client 2i sends to client 2i+1 (and back with {@code --bidirectional}). */
    PAIRS,
    /** Groups of {@code --fanin-senders} senders each send to one receiver. */
    FANIN,
    /** Keep the clients connected while closing and reopening {@code --churn-rate} of them per second. */
    CHURN,
    /** UDP sockets send STUN binding requests as Tailscale does, to {@code --stun-server}; no DERP connection. */
    STUN;

    /**
     * @return the name as typed on the command line.
     */
    String cliName()
    {
        return name().toLowerCase(Locale.ROOT);
    }
}
