package io.jderper.core.router;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.List;

import org.agrona.DirectBuffer;
import org.agrona.concurrent.UnsafeBuffer;

/**
 * Fake {@link PacketFrames}: records every frame it hands out, refuses double releases, and can simulate an
 * exhausted buffer pool.
 */
final class TestFrames implements PacketFrames<TestFrame>
{
    final List<TestFrame> created = new ArrayList<>();
    boolean exhausted;

    @Override
    public TestFrame recvPacket(
        final long destinationId, final boolean disco, final boolean forwarded, final DirectBuffer sourceKey,
        final int sourceOffset, final int dataLength)
    {
        if (exhausted)
        {
            return null;
        }
        final TestFrame frame = new TestFrame(destinationId, disco, forwarded, key(sourceKey, sourceOffset), null,
            dataLength);
        created.add(frame);
        return frame;
    }

    @Override
    public TestFrame forwardPacket(
        final DirectBuffer sourceKey, final int sourceOffset, final DirectBuffer destinationKey,
        final int destinationOffset, final int dataLength)
    {
        if (exhausted)
        {
            return null;
        }
        final TestFrame frame = new TestFrame(-1, false, false, key(sourceKey, sourceOffset),
            key(destinationKey, destinationOffset), dataLength);
        created.add(frame);
        return frame;
    }

    private static byte[] key(final DirectBuffer buffer, final int offset)
    {
        final byte[] key = new byte[32];
        buffer.getBytes(offset, key);
        return key;
    }

    @Override
    public boolean isForwarded(final TestFrame packet)
    {
        return packet.forwarded;
    }

    @Override
    public long sourceKeyPrefix(final TestFrame packet)
    {
        return new UnsafeBuffer(packet.sourceKey).getLong(0, ByteOrder.BIG_ENDIAN);
    }

    @Override
    public long destinationId(final TestFrame packet)
    {
        return packet.destinationId;
    }

    @Override
    public boolean isDisco(final TestFrame packet)
    {
        return packet.disco;
    }

    @Override
    public int dataLength(final TestFrame packet)
    {
        return packet.dataLength;
    }

    @Override
    public void release(final TestFrame packet)
    {
        if (packet.released || packet.written)
        {
            throw new AssertionError("released a frame the core no longer owns: " + packet);
        }
        packet.released = true;
    }

    List<TestFrame> released()
    {
        return created.stream().filter(frame -> frame.released).toList();
    }

    /** Every frame ever created was either written to a channel or released, never both, never neither. */
    void assertNoLeak()
    {
        assertThat(created).allSatisfy(frame ->
            assertThat(frame.released ^ frame.written).as("released xor written: %s", frame).isTrue());
    }
}
