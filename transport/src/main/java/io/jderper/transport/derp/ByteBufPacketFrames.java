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
 *  | dest id    | disco  | hdr  | source key     | packet data       |
 *  +------------+--------+------+----------------+-------------------+
 *                        ^ readerIndex: what the channel writes
 * </pre>
 */
public final class ByteBufPacketFrames implements PacketFrames<ByteBuf>
{
    private static final int DESTINATION_OFFSET = 0;
    private static final int DISCO_OFFSET = 8;
    private static final int PREFIX_LENGTH = 9;
    private static final int FRAME_OVERHEAD = FrameHeader.LENGTH + ProtocolLimits.KEY_LENGTH;

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
        final long destinationId, final boolean disco, final DirectBuffer sourceKey, final int sourceOffset,
        final int dataLength)
    {
        final ByteBuf frame = allocator.directBuffer(PREFIX_LENGTH + FRAME_OVERHEAD + dataLength);
        frame.writeLong(destinationId);
        frame.writeByte(disco ? 1 : 0);
        frame.writeByte(FrameType.RECV_PACKET);
        frame.writeInt(ProtocolLimits.KEY_LENGTH + dataLength);
        for (int i = 0; i < ProtocolLimits.KEY_LENGTH; i += Long.BYTES)
        {
            frame.writeLong(sourceKey.getLong(sourceOffset + i, ByteOrder.BIG_ENDIAN));
        }
        frame.readerIndex(PREFIX_LENGTH);
        return frame;
    }

    @Override
    public long destinationId(final ByteBuf packet)
    {
        return packet.getLong(DESTINATION_OFFSET);
    }

    @Override
    public boolean isDisco(final ByteBuf packet)
    {
        return 0 != packet.getByte(DISCO_OFFSET);
    }

    @Override
    public int dataLength(final ByteBuf packet)
    {
        return packet.getInt(PREFIX_LENGTH + FrameHeader.PAYLOAD_LENGTH_OFFSET) - ProtocolLimits.KEY_LENGTH;
    }

    @Override
    public void release(final ByteBuf packet)
    {
        packet.release();
    }
}
