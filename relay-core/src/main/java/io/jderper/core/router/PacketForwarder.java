package io.jderper.core.router;

/**
 * Another node of the region, reached over our outbound mesh connection to it, that delivers packets to keys
 * connected there (spec §4.7). The router sends a packet to a forwarder only when its destination has no local
 * connection. Forwarders are compared by identity: one object per configured mesh peer, across its reconnects.
 *
 * @param <P> the transport's packet type.
 */
public interface PacketForwarder<P>
{
    /**
     * Takes ownership of a ForwardPacket frame made by {@link PacketFrames#forwardPacket}. Called from any relay
     * loop; never blocks.
     *
     * @param frame the filled frame.
     * @return false if the frame was dropped (the forwarder released it), e.g. its bounded queue is full or the
     * connection is down.
     */
    boolean forward(P frame);

    /**
     * @return the peer, for logs.
     */
    String describe();
}
