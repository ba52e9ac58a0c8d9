package io.jderper.core.router;

import static org.assertj.core.api.Assertions.assertThat;

import io.jderper.core.protocol.FrameHeader;
import io.jderper.core.protocol.FrameType;
import org.agrona.concurrent.UnsafeBuffer;
import org.junit.jupiter.api.Test;

/**
 * The benchmarks' frame pool lays frames out as the transport does, RecvPacket and ForwardPacket alike, and a
 * recycled frame forgets its last shape.
 */
class BenchFramesTest
{
    private static UnsafeBuffer filled(final int length, final int value)
    {
        final UnsafeBuffer buffer = new UnsafeBuffer(new byte[length]);
        buffer.setMemory(0, length, (byte)value);
        return buffer;
    }

    @Test
    void shouldLayOutForwardAndRecvPacketsAndRecycleThem()
    {
        final BenchFrames frames = new BenchFrames(2, 100);
        final BenchFrame other = frames.recvPacket(1, false, false, filled(32, 9), 0, 1);
        final BenchFrame forward = frames.forwardPacket(filled(32, 1), 0, filled(32, 2), 0, 10);
        forward.fill(filled(10, 3), 0);

        assertThat(forward.buffer.getByte(0)).isEqualTo(FrameType.FORWARD_PACKET);
        assertThat(FrameHeader.payloadLength(forward.buffer, 0)).isEqualTo(74L);
        assertThat(forward.buffer.getByte(FrameHeader.LENGTH)).isEqualTo((byte)1);
        assertThat(forward.buffer.getByte(FrameHeader.LENGTH + 32)).isEqualTo((byte)2);
        assertThat(forward.buffer.getByte(FrameHeader.LENGTH + 64)).isEqualTo((byte)3);
        assertThat(frames.dataLength(forward)).isEqualTo(10);
        assertThat(frames.forwardPacket(filled(32, 1), 0, filled(32, 2), 0, 10)).as("the pool is empty").isNull();
        frames.release(forward);

        final BenchFrame recv = frames.recvPacket(7, true, true, filled(32, 4), 0, 5);
        recv.fill(filled(5, 5), 0);
        assertThat(recv).isSameAs(forward);
        assertThat(recv.buffer.getByte(0)).isEqualTo(FrameType.RECV_PACKET);
        assertThat(recv.buffer.getByte(FrameHeader.LENGTH + 32)).as("data right after the source key")
            .isEqualTo((byte)5);
        assertThat(frames.isForwarded(recv)).isTrue();
        assertThat(frames.sourceKeyPrefix(recv)).isEqualTo(0x0404040404040404L);
        assertThat(frames.outstanding()).isEqualTo(2);
        frames.release(recv);
        frames.release(other);
    }
}
