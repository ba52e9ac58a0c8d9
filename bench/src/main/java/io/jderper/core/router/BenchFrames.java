package io.jderper.core.router;

import io.jderper.core.protocol.FrameHeader;
import io.jderper.core.protocol.FrameType;
import io.jderper.core.protocol.ProtocolLimits;
import org.agrona.DirectBuffer;
import org.agrona.concurrent.ManyToManyConcurrentArrayQueue;

import java.nio.ByteOrder;

/**
 * A fixed pool of {@link BenchFrame}s behind {@link PacketFrames}, so the benchmark's own frames allocate nothing and
 * what {@code -prof gc} shows is the relay core's. Thread-safe: in the cross-loop benchmark frames are taken on the
 * sender's thread and released on the destination loop's. An empty pool makes {@link #recvPacket} return null, which
 * the core counts as a drop, as it does when the transport's allocator fails.
 */
final class BenchFrames implements PacketFrames<BenchFrame>
{
    private final ManyToManyConcurrentArrayQueue<BenchFrame> free;
    private final int size;

    /**
     * @param size          frames in the pool.
     * @param maxDataLength largest packet a frame holds.
     */
    BenchFrames(final int size, final int maxDataLength)
    {
        this.size = size;
        this.free = new ManyToManyConcurrentArrayQueue<>(size);
        for (int i = 0; i < size; i++)
        {
            free.offer(new BenchFrame(maxDataLength));
        }
    }

    @Override
    public BenchFrame recvPacket(
        final long destinationId, final boolean disco, final boolean forwarded, final DirectBuffer sourceKey,
        final int sourceOffset, final int dataLength)
    {
        final BenchFrame frame = free.poll();
        if (null == frame)
        {
            return null;
        }
        frame.destinationId = destinationId;
        frame.disco = disco;
        frame.forwarded = forwarded;
        frame.dataLength = dataLength;
        frame.dataOffset = BenchFrame.DATA_OFFSET;
        FrameHeader.write(frame.buffer, 0, FrameType.RECV_PACKET, ProtocolLimits.KEY_LENGTH + dataLength);
        frame.buffer.putBytes(FrameHeader.LENGTH, sourceKey, sourceOffset, ProtocolLimits.KEY_LENGTH);
        return frame;
    }

    @Override
    public BenchFrame forwardPacket(
        final DirectBuffer sourceKey, final int sourceOffset, final DirectBuffer destinationKey,
        final int destinationOffset, final int dataLength)
    {
        final BenchFrame frame = free.poll();
        if (null == frame)
        {
            return null;
        }
        frame.destinationId = -1;
        frame.disco = false;
        frame.forwarded = false;
        frame.dataLength = dataLength;
        frame.dataOffset = BenchFrame.FORWARD_DATA_OFFSET;
        FrameHeader.write(frame.buffer, 0, FrameType.FORWARD_PACKET, 2 * ProtocolLimits.KEY_LENGTH + dataLength);
        frame.buffer.putBytes(FrameHeader.LENGTH, sourceKey, sourceOffset, ProtocolLimits.KEY_LENGTH);
        frame.buffer.putBytes(BenchFrame.DATA_OFFSET, destinationKey, destinationOffset, ProtocolLimits.KEY_LENGTH);
        return frame;
    }

    @Override
    public boolean isForwarded(final BenchFrame packet)
    {
        return packet.forwarded;
    }

    @Override
    public long sourceKeyPrefix(final BenchFrame packet)
    {
        return packet.buffer.getLong(FrameHeader.LENGTH, ByteOrder.BIG_ENDIAN);
    }

    @Override
    public long destinationId(final BenchFrame packet)
    {
        return packet.destinationId;
    }

    @Override
    public boolean isDisco(final BenchFrame packet)
    {
        return packet.disco;
    }

    @Override
    public int dataLength(final BenchFrame packet)
    {
        return packet.dataLength;
    }

    @Override
    public void release(final BenchFrame packet)
    {
        if (!free.offer(packet))
        {
            throw new IllegalStateException("released more frames than the pool holds, size=" + size);
        }
    }

    /**
     * @return frames handed out and not yet released.
     */
    int outstanding()
    {
        return size - free.size();
    }
}
