package io.jderper.transport.derp;

import io.jderper.core.protocol.FrameHeader;
import io.jderper.core.protocol.FrameType;
import io.jderper.core.protocol.ProtocolLimits;
import io.jderper.core.router.PacketFrames;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import org.agrona.DirectBuffer;

import java.nio.ByteOrder;

/**
 * RecvPacket frames in pooled direct {@link ByteBuf}s. A small prefix before the frame carries the routing tag,
 * so a frame travels between loops as a single reference with nothing allocated beside it:
 *
 * <pre>
 *  0            8        9      14               46
 *  +------------+--------+------+----------------+-------------------+
 *  | dest id    | flags  | hdr  | source key     | packet data       |
 *  +------------+--------+------+----------------+-------------------+
 *                        ^ readerIndex: what the channel writes
 * </pre>
 *
 * <p>The flags byte says disco (bit 0) and forwarded by a mesh peer (bit 1). A ForwardPacket frame for a mesh
 * peer has the same prefix (no destination id) and the destination key after the source key.
 */
public final class ByteBufPacketFrames implements PacketFrames<ByteBuf>
{
    private static final int DESTINATION_OFFSET = 0;
    private static final int FLAGS_OFFSET = 8;
    private static final int PREFIX_LENGTH = 9;
    private static final int SOURCE_KEY_OFFSET = PREFIX_LENGTH + FrameHeader.LENGTH;
    private static final byte FLAG_DISCO = 1;
    private static final byte FLAG_FORWARDED = 2;
    private static final long NO_DESTINATION = -1;

    private final ByteBufAllocator allocator;

    /**
     * @param allocator where frames come from.
     */
    public ByteBufPacketFrames(final ByteBufAllocator allocator)
    {
        this.allocator = allocator;
    }

    @Override
    public ByteBuf recvPacket(
        final long destinationId, final boolean disco, final boolean forwarded, final DirectBuffer sourceKey,
        final int sourceOffset, final int dataLength)
    {
        final ByteBuf frame = allocator.directBuffer(SOURCE_KEY_OFFSET + ProtocolLimits.KEY_LENGTH + dataLength);
        frame.writeLong(destinationId);
        frame.writeByte((disco ? FLAG_DISCO : 0) | (forwarded ? FLAG_FORWARDED : 0));
        frame.writeByte(FrameType.RECV_PACKET);
        frame.writeInt(ProtocolLimits.KEY_LENGTH + dataLength);
        writeKey(frame, sourceKey, sourceOffset);
        frame.readerIndex(PREFIX_LENGTH);
        return frame;
    }

    @Override
    public ByteBuf forwardPacket(
        final DirectBuffer sourceKey, final int sourceOffset, final DirectBuffer destinationKey,
        final int destinationOffset, final int dataLength)
    {
        final ByteBuf frame = allocator.directBuffer(SOURCE_KEY_OFFSET + 2 * ProtocolLimits.KEY_LENGTH + dataLength);
        frame.writeLong(NO_DESTINATION);
        frame.writeByte(0);
        frame.writeByte(FrameType.FORWARD_PACKET);
        frame.writeInt(2 * ProtocolLimits.KEY_LENGTH + dataLength);
        writeKey(frame, sourceKey, sourceOffset);
        writeKey(frame, destinationKey, destinationOffset);
        frame.readerIndex(PREFIX_LENGTH);
        return frame;
    }

    private static void writeKey(final ByteBuf frame, final DirectBuffer key, final int offset)
    {
        for (int i = 0; i < ProtocolLimits.KEY_LENGTH; i += Long.BYTES)
        {
            frame.writeLong(key.getLong(offset + i, ByteOrder.BIG_ENDIAN));
        }
    }

    @Override
    public long destinationId(final ByteBuf packet)
    {
        return packet.getLong(DESTINATION_OFFSET);
    }

    @Override
    public boolean isDisco(final ByteBuf packet)
    {
        return 0 != (packet.getByte(FLAGS_OFFSET) & FLAG_DISCO);
    }

    @Override
    public boolean isForwarded(final ByteBuf packet)
    {
        return 0 != (packet.getByte(FLAGS_OFFSET) & FLAG_FORWARDED);
    }

    @Override
    public long sourceKeyPrefix(final ByteBuf packet)
    {
        return packet.getLong(SOURCE_KEY_OFFSET);
    }

    @Override
    public int dataLength(final ByteBuf packet)
    {
        final int keys = FrameType.FORWARD_PACKET == packet.getByte(PREFIX_LENGTH) ? 2 : 1;
        return packet.getInt(PREFIX_LENGTH + FrameHeader.PAYLOAD_LENGTH_OFFSET) - keys * ProtocolLimits.KEY_LENGTH;
    }

    @Override
    public void release(final ByteBuf packet)
    {
        packet.release();
    }
}
