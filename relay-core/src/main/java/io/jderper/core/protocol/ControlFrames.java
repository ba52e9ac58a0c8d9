package io.jderper.core.protocol;

import org.agrona.DirectBuffer;
import org.agrona.MutableDirectBuffer;

import java.nio.ByteOrder;

/**
 * Encoders for the small server-to-client frames. Each writes header and payload at {@code offset}
 * and returns the frame's total length, so callers can encode into a pooled buffer without allocating.
 */
public final class ControlFrames
{
    /** {@code "DERP🔑"}: 44 45 52 50 F0 9F 94 91. */
    private static final byte[] MAGIC = {0x44, 0x45, 0x52, 0x50, (byte)0xF0, (byte)0x9F, (byte)0x94, (byte)0x91};
    /** Total length of a ServerKey frame. */
    public static final int SERVER_KEY_FRAME_LENGTH = FrameHeader.LENGTH + ProtocolLimits.SERVER_KEY_LENGTH;
    /** Total length of a KeepAlive frame. */
    public static final int KEEP_ALIVE_FRAME_LENGTH = FrameHeader.LENGTH;
    /** Total length of a Pong frame. */
    public static final int PONG_FRAME_LENGTH = FrameHeader.LENGTH + ProtocolLimits.PING_DATA_LENGTH;
    /** Total length of a PeerGone frame. */
    public static final int PEER_GONE_FRAME_LENGTH = FrameHeader.LENGTH + ProtocolLimits.PEER_GONE_LENGTH;
    /** Total length of a PeerPresent frame. */
    public static final int PEER_PRESENT_FRAME_LENGTH = FrameHeader.LENGTH + ProtocolLimits.PEER_PRESENT_LENGTH;
    /** Total length of a Restarting frame. */
    public static final int RESTARTING_FRAME_LENGTH = FrameHeader.LENGTH + 8;

    private ControlFrames()
    {
    }

    /**
     * @return a copy of the 8-byte ServerKey magic.
     */
    public static byte[] magic()
    {
        return MAGIC.clone();
    }

    /**
     * @param buffer          target.
     * @param offset          where the frame starts.
     * @param serverPublicKey 32 bytes.
     * @return bytes written.
     */
    public static int serverKey(final MutableDirectBuffer buffer, final int offset, final byte[] serverPublicKey)
    {
        FrameHeader.write(buffer, offset, FrameType.SERVER_KEY, ProtocolLimits.SERVER_KEY_LENGTH);
        buffer.putBytes(offset + FrameHeader.LENGTH, MAGIC);
        buffer.putBytes(offset + FrameHeader.LENGTH + MAGIC.length, serverPublicKey);
        return SERVER_KEY_FRAME_LENGTH;
    }

    /**
     * @param buffer target.
     * @param offset where the frame starts.
     * @return bytes written.
     */
    public static int keepAlive(final MutableDirectBuffer buffer, final int offset)
    {
        return FrameHeader.write(buffer, offset, FrameType.KEEP_ALIVE, 0);
    }

    /**
     * @param buffer   target.
     * @param offset   where the frame starts.
     * @param pingData the 8 bytes of the Ping, as a long in wire order.
     * @return bytes written.
     */
    public static int pong(final MutableDirectBuffer buffer, final int offset, final long pingData)
    {
        FrameHeader.write(buffer, offset, FrameType.PONG, ProtocolLimits.PING_DATA_LENGTH);
        buffer.putLong(offset + FrameHeader.LENGTH, pingData, ByteOrder.BIG_ENDIAN);
        return PONG_FRAME_LENGTH;
    }

    /**
     * @param buffer    target.
     * @param offset    where the frame starts.
     * @param key       holds the departed peer's key.
     * @param keyOffset where that key starts.
     * @param reason    one of {@link PeerGoneReason}.
     * @return bytes written.
     */
    public static int peerGone(
        final MutableDirectBuffer buffer, final int offset, final DirectBuffer key, final int keyOffset, final byte reason)
    {
        FrameHeader.write(buffer, offset, FrameType.PEER_GONE, ProtocolLimits.PEER_GONE_LENGTH);
        buffer.putBytes(offset + FrameHeader.LENGTH, key, keyOffset, ProtocolLimits.KEY_LENGTH);
        buffer.putByte(offset + FrameHeader.LENGTH + ProtocolLimits.KEY_LENGTH, reason);
        return PEER_GONE_FRAME_LENGTH;
    }

    /**
     * @param buffer    target.
     * @param offset    where the frame starts.
     * @param key       32-byte key of the present peer.
     * @param ip16      16-byte address (IPv4 mapped into IPv6), all zero if unknown.
     * @param port      TCP port of the peer's connection.
     * @param flags     {@link PeerPresentFlags} bits.
     * @return bytes written.
     */
    public static int peerPresent(
        final MutableDirectBuffer buffer, final int offset, final byte[] key, final byte[] ip16, final int port,
        final byte flags)
    {
        FrameHeader.write(buffer, offset, FrameType.PEER_PRESENT, ProtocolLimits.PEER_PRESENT_LENGTH);
        int at = offset + FrameHeader.LENGTH;
        buffer.putBytes(at, key);
        at += ProtocolLimits.KEY_LENGTH;
        buffer.putBytes(at, ip16);
        at += 16;
        buffer.putShort(at, (short)port, ByteOrder.BIG_ENDIAN);
        buffer.putByte(at + 2, flags);
        return PEER_PRESENT_FRAME_LENGTH;
    }

    /**
     * @param buffer        target.
     * @param offset        where the frame starts.
     * @param reconnectInMs how long clients should wait before reconnecting.
     * @param tryForMs      how long they should keep trying.
     * @return bytes written.
     */
    public static int restarting(
        final MutableDirectBuffer buffer, final int offset, final int reconnectInMs, final int tryForMs)
    {
        FrameHeader.write(buffer, offset, FrameType.RESTARTING, 8);
        buffer.putInt(offset + FrameHeader.LENGTH, reconnectInMs, ByteOrder.BIG_ENDIAN);
        buffer.putInt(offset + FrameHeader.LENGTH + 4, tryForMs, ByteOrder.BIG_ENDIAN);
        return RESTARTING_FRAME_LENGTH;
    }
}
