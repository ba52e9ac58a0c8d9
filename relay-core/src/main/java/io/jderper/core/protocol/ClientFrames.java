package io.jderper.core.protocol;

import org.agrona.DirectBuffer;
import org.agrona.MutableDirectBuffer;

import java.nio.ByteOrder;

/**
 * Encoders for the client-to-server frames, for DERP clients (mesh links, load generators, tests). Like
 * {@link ControlFrames}, each writes header and payload at {@code offset} and returns the bytes written.
 */
public final class ClientFrames
{
    /** Header plus destination key: what precedes a SendPacket's data. */
    public static final int SEND_PACKET_PREFIX_LENGTH = FrameHeader.LENGTH + ProtocolLimits.KEY_LENGTH;
    /** Header plus source and destination keys: what precedes a ForwardPacket's data. */
    public static final int FORWARD_PACKET_PREFIX_LENGTH = FrameHeader.LENGTH + 2 * ProtocolLimits.KEY_LENGTH;

    private ClientFrames()
    {
    }

    /**
     * Writes a SendPacket header and destination key; the caller appends {@code dataLength} data bytes.
     *
     * @param buffer      target.
     * @param offset      where the frame starts.
     * @param destination holds the destination key.
     * @param keyOffset   where that key starts.
     * @param dataLength  packet bytes that follow, at most {@link ProtocolLimits#MAX_PACKET_SIZE}.
     * @return {@link #SEND_PACKET_PREFIX_LENGTH}.
     */
    public static int sendPacketPrefix(
        final MutableDirectBuffer buffer, final int offset, final DirectBuffer destination, final int keyOffset,
        final int dataLength)
    {
        checkPacketLength(dataLength);
        FrameHeader.write(buffer, offset, FrameType.SEND_PACKET, ProtocolLimits.KEY_LENGTH + dataLength);
        buffer.putBytes(offset + FrameHeader.LENGTH, destination, keyOffset, ProtocolLimits.KEY_LENGTH);
        return SEND_PACKET_PREFIX_LENGTH;
    }

    /**
     * Writes a ForwardPacket header and both keys; the caller appends {@code dataLength} data bytes.
     *
     * @param buffer            target.
     * @param offset            where the frame starts.
     * @param source            holds the source key.
     * @param sourceOffset      where that key starts.
     * @param destination       holds the destination key.
     * @param destinationOffset where that key starts.
     * @param dataLength        packet bytes that follow.
     * @return {@link #FORWARD_PACKET_PREFIX_LENGTH}.
     */
    public static int forwardPacketPrefix(
        final MutableDirectBuffer buffer, final int offset, final DirectBuffer source, final int sourceOffset,
        final DirectBuffer destination, final int destinationOffset, final int dataLength)
    {
        checkPacketLength(dataLength);
        FrameHeader.write(buffer, offset, FrameType.FORWARD_PACKET, 2 * ProtocolLimits.KEY_LENGTH + dataLength);
        buffer.putBytes(offset + FrameHeader.LENGTH, source, sourceOffset, ProtocolLimits.KEY_LENGTH);
        buffer.putBytes(offset + FrameHeader.LENGTH + ProtocolLimits.KEY_LENGTH, destination, destinationOffset,
            ProtocolLimits.KEY_LENGTH);
        return FORWARD_PACKET_PREFIX_LENGTH;
    }

    /**
     * @param buffer    target.
     * @param offset    where the frame starts.
     * @param clientKey the client's 32-byte public key.
     * @param sealedBox nonce || tag || ciphertext of the ClientInfo JSON.
     * @return bytes written.
     */
    public static int clientInfo(
        final MutableDirectBuffer buffer, final int offset, final byte[] clientKey, final byte[] sealedBox)
    {
        final int length = ProtocolLimits.KEY_LENGTH + sealedBox.length;
        if (clientKey.length != ProtocolLimits.KEY_LENGTH || length > ProtocolLimits.MAX_CLIENT_INFO_LENGTH)
        {
            throw new IllegalArgumentException("clientKey.length=" + clientKey.length + " sealedBox.length=" +
                sealedBox.length);
        }
        FrameHeader.write(buffer, offset, FrameType.CLIENT_INFO, length);
        buffer.putBytes(offset + FrameHeader.LENGTH, clientKey);
        buffer.putBytes(offset + FrameHeader.LENGTH + ProtocolLimits.KEY_LENGTH, sealedBox);
        return FrameHeader.LENGTH + length;
    }

    /**
     * @param buffer    target.
     * @param offset    where the frame starts.
     * @param preferred whether this server is the client's home.
     * @return bytes written.
     */
    public static int notePreferred(final MutableDirectBuffer buffer, final int offset, final boolean preferred)
    {
        FrameHeader.write(buffer, offset, FrameType.NOTE_PREFERRED, 1);
        buffer.putByte(offset + FrameHeader.LENGTH, (byte)(preferred ? 1 : 0));
        return FrameHeader.LENGTH + 1;
    }

    /**
     * @param buffer target.
     * @param offset where the frame starts.
     * @param data   the 8 opaque bytes, as a long in wire order.
     * @return bytes written.
     */
    public static int ping(final MutableDirectBuffer buffer, final int offset, final long data)
    {
        FrameHeader.write(buffer, offset, FrameType.PING, ProtocolLimits.PING_DATA_LENGTH);
        buffer.putLong(offset + FrameHeader.LENGTH, data, ByteOrder.BIG_ENDIAN);
        return FrameHeader.LENGTH + ProtocolLimits.PING_DATA_LENGTH;
    }

    /**
     * @param buffer target.
     * @param offset where the frame starts.
     * @return bytes written.
     */
    public static int watchConns(final MutableDirectBuffer buffer, final int offset)
    {
        return FrameHeader.write(buffer, offset, FrameType.WATCH_CONNS, 0);
    }

    /**
     * @param buffer    target.
     * @param offset    where the frame starts.
     * @param key       holds the key of the peer to close.
     * @param keyOffset where that key starts.
     * @return bytes written.
     */
    public static int closePeer(
        final MutableDirectBuffer buffer, final int offset, final DirectBuffer key, final int keyOffset)
    {
        FrameHeader.write(buffer, offset, FrameType.CLOSE_PEER, ProtocolLimits.KEY_LENGTH);
        buffer.putBytes(offset + FrameHeader.LENGTH, key, keyOffset, ProtocolLimits.KEY_LENGTH);
        return FrameHeader.LENGTH + ProtocolLimits.KEY_LENGTH;
    }

    private static void checkPacketLength(final int dataLength)
    {
        if (dataLength < 0 || dataLength > ProtocolLimits.MAX_PACKET_SIZE)
        {
            throw new IllegalArgumentException("dataLength=" + dataLength + ", at most " +
                ProtocolLimits.MAX_PACKET_SIZE);
        }
    }
}
