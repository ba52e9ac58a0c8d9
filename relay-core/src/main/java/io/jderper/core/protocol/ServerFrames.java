package io.jderper.core.protocol;

import org.agrona.DirectBuffer;

import java.nio.ByteOrder;

/**
 * Readers for the server-to-client frame payloads, for DERP clients. They accept the forms older servers send
 * (a 32-byte PeerGone without reason, PeerPresent without address or flags) and ignore extra trailing bytes, as
 * Tailscale's client does (spec §2.4).
 */
public final class ServerFrames
{
    /** Offset of the source key in a RecvPacket payload; the data follows it. */
    public static final int RECV_PACKET_SOURCE_OFFSET = 0;
    /** Offset of the data in a RecvPacket payload. */
    public static final int RECV_PACKET_DATA_OFFSET = ProtocolLimits.KEY_LENGTH;
    /** Offset of the 16-byte address in a PeerPresent payload. */
    public static final int PEER_PRESENT_IP_OFFSET = ProtocolLimits.KEY_LENGTH;
    /** Offset of the port in a PeerPresent payload. */
    public static final int PEER_PRESENT_PORT_OFFSET = PEER_PRESENT_IP_OFFSET + 16;
    /** Offset of the flags in a PeerPresent payload. */
    public static final int PEER_PRESENT_FLAGS_OFFSET = PEER_PRESENT_PORT_OFFSET + 2;

    private static final byte[] MAGIC = ControlFrames.magic();

    private ServerFrames()
    {
    }

    /**
     * @param payload buffer holding a ServerKey payload.
     * @param offset  where it starts.
     * @param length  its length.
     * @return the offset of the 32-byte server key.
     * @throws ProtocolException if the magic is wrong or the payload too short.
     */
    public static int serverKeyOffset(final DirectBuffer payload, final int offset, final int length)
    {
        if (length < ProtocolLimits.SERVER_KEY_LENGTH)
        {
            throw new ProtocolException(Violation.FRAME_LENGTH, "ServerKey length=" + length);
        }
        for (int i = 0; i < MAGIC.length; i++)
        {
            if (payload.getByte(offset + i) != MAGIC[i])
            {
                throw new ProtocolException(Violation.FRAME_LENGTH, "ServerKey without the DERP magic");
            }
        }
        return offset + MAGIC.length;
    }

    /**
     * @param length a RecvPacket payload length.
     * @return whether it is long enough to carry a source key (clients drop shorter ones).
     */
    public static boolean isValidRecvPacket(final int length)
    {
        return length >= ProtocolLimits.KEY_LENGTH;
    }

    /**
     * @param payload buffer holding a PeerGone payload of at least 32 bytes.
     * @param offset  where it starts.
     * @param length  its length.
     * @return the reason; the legacy 32-byte form means Disconnected.
     */
    public static byte peerGoneReason(final DirectBuffer payload, final int offset, final int length)
    {
        return length > ProtocolLimits.KEY_LENGTH ?
            payload.getByte(offset + ProtocolLimits.KEY_LENGTH) : PeerGoneReason.DISCONNECTED;
    }

    /**
     * @param length a PeerPresent payload length.
     * @return whether it carries the peer's address and port (50 bytes or more).
     */
    public static boolean peerPresentHasAddress(final int length)
    {
        return length >= PEER_PRESENT_FLAGS_OFFSET;
    }

    /**
     * @param payload buffer holding a PeerPresent payload.
     * @param offset  where it starts.
     * @param length  its length.
     * @return the port, or 0 when the payload has no address.
     */
    public static int peerPresentPort(final DirectBuffer payload, final int offset, final int length)
    {
        return peerPresentHasAddress(length) ?
            payload.getShort(offset + PEER_PRESENT_PORT_OFFSET, ByteOrder.BIG_ENDIAN) & 0xFFFF : 0;
    }

    /**
     * @param payload buffer holding a PeerPresent payload.
     * @param offset  where it starts.
     * @param length  its length.
     * @return the flags, or 0 (an old server that sends none).
     */
    public static byte peerPresentFlags(final DirectBuffer payload, final int offset, final int length)
    {
        return length > PEER_PRESENT_FLAGS_OFFSET ? payload.getByte(offset + PEER_PRESENT_FLAGS_OFFSET) : 0;
    }

    /**
     * @param payload buffer holding a Restarting payload.
     * @param offset  where it starts.
     * @param length  its length; under 8 bytes the frame is ignored by clients.
     * @return reconnect-in milliseconds, or -1 if the payload is too short.
     */
    public static long restartingReconnectInMs(final DirectBuffer payload, final int offset, final int length)
    {
        return length < 8 ? -1 : Integer.toUnsignedLong(payload.getInt(offset, ByteOrder.BIG_ENDIAN));
    }

    /**
     * @param payload buffer holding a Restarting payload.
     * @param offset  where it starts.
     * @param length  its length.
     * @return try-for milliseconds, or -1 if the payload is too short.
     */
    public static long restartingTryForMs(final DirectBuffer payload, final int offset, final int length)
    {
        return length < 8 ? -1 : Integer.toUnsignedLong(payload.getInt(offset + 4, ByteOrder.BIG_ENDIAN));
    }
}
