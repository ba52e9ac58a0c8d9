package io.jderper.core.router;

import io.jderper.core.protocol.FrameHeader;
import io.jderper.core.protocol.ProtocolLimits;
import org.agrona.BufferUtil;
import org.agrona.DirectBuffer;
import org.agrona.concurrent.UnsafeBuffer;

/**
 * A recycled RecvPacket (or ForwardPacket) frame for the router benchmarks: an off-heap buffer holding header, keys
 * and data, plus the tags {@link PacketFrames} keeps with a frame. Stands in for the transport's pooled
 * {@code ByteBuf}.
 */
final class BenchFrame
{
    /** Where a RecvPacket's data starts: header plus source key. */
    static final int DATA_OFFSET = FrameHeader.LENGTH + ProtocolLimits.KEY_LENGTH;
    /** Where a ForwardPacket's data starts: header plus source and destination keys. */
    static final int FORWARD_DATA_OFFSET = DATA_OFFSET + ProtocolLimits.KEY_LENGTH;

    final UnsafeBuffer buffer;
    long destinationId;
    boolean disco;
    boolean forwarded;
    int dataLength;
    int dataOffset = DATA_OFFSET;

    BenchFrame(final int maxDataLength)
    {
        buffer = new UnsafeBuffer(BufferUtil.allocateDirectAligned(FORWARD_DATA_OFFSET + maxDataLength, 64));
    }

    /**
     * What the transport does between beginSendPacket and completePacket: appends the packet bytes, the one copy of
     * the payload.
     *
     * @param source holding the data.
     * @param offset where it starts.
     */
    void fill(final DirectBuffer source, final int offset)
    {
        buffer.putBytes(dataOffset, source, offset, dataLength);
    }
}
