package io.jderper.core.router;

import org.agrona.DirectBuffer;

/**
 * How the transport builds, tags and frees packet frames. The core never sees the concrete buffer type.
 *
 * @param <P> the transport's packet type.
 */
public interface PacketFrames<P>
{
    /**
     * Starts a RecvPacket frame in a pooled buffer: header and source key are written, and the transport then
     * appends exactly {@code dataLength} packet bytes straight from the sender's read buffer. That append is the
     * one user-space copy of the payload between the sender's read and the receiver's write.
     *
     * @param destinationId {@link ClientSession#connectionId()} of the receiver, kept with the frame.
     * @param disco         whether the packet is disco, kept with the frame.
     * @param forwarded     whether it came from a mesh peer (ForwardPacket), kept with the frame.
     * @param sourceKey     buffer holding the 32-byte source key.
     * @param sourceOffset  where that key starts.
     * @param dataLength    packet bytes that will follow.
     * @return the frame, or null if no buffer could be had (the core counts a drop).
     */
    P recvPacket(long destinationId, boolean disco, boolean forwarded, DirectBuffer sourceKey, int sourceOffset,
        int dataLength);

    /**
     * Starts a ForwardPacket frame for a mesh peer (spec §4.7), filled by the transport exactly like
     * {@link #recvPacket}.
     *
     * @param sourceKey         buffer holding the original sender's key.
     * @param sourceOffset      where it starts.
     * @param destinationKey    buffer holding the destination's key.
     * @param destinationOffset where it starts.
     * @param dataLength        packet bytes that will follow.
     * @return the frame, or null if no buffer could be had.
     */
    P forwardPacket(DirectBuffer sourceKey, int sourceOffset, DirectBuffer destinationKey, int destinationOffset,
        int dataLength);

    /**
     * @param packet a frame.
     * @return the receiver it was built for.
     */
    long destinationId(P packet);

    /**
     * @param packet a frame.
     * @return whether it carries a disco packet.
     */
    boolean isDisco(P packet);

    /**
     * @param packet a frame.
     * @return its packet data length (frame minus header and keys).
     */
    int dataLength(P packet);

    /**
     * @param packet a RecvPacket frame.
     * @return whether a mesh peer forwarded it.
     */
    boolean isForwarded(P packet);

    /**
     * @param packet a RecvPacket frame.
     * @return the first 8 bytes of its source key, big-endian: a fingerprint no one can aim at another key, since
     * finding a Curve25519 key with a chosen 64-bit prefix takes about 2^64 tries.
     */
    long sourceKeyPrefix(P packet);

    /**
     * Returns a frame's buffer to its pool.
     *
     * @param packet a frame the core owns and will not write.
     */
    void release(P packet);
}
