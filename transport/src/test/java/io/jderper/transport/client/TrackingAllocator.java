package io.jderper.transport.client;

import io.netty.buffer.AbstractByteBufAllocator;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.UnpooledByteBufAllocator;

import java.util.ArrayList;
import java.util.List;

/**
 * An allocator that remembers every buffer it handed out, so a test can check that none is still held.
 */
final class TrackingAllocator extends AbstractByteBufAllocator
{
    private final UnpooledByteBufAllocator delegate = new UnpooledByteBufAllocator(true, false, false);
    private final List<ByteBuf> allocated = new ArrayList<>();

    TrackingAllocator()
    {
        super(true);
    }

    @Override
    protected ByteBuf newHeapBuffer(final int initialCapacity, final int maxCapacity)
    {
        return track(delegate.heapBuffer(initialCapacity, maxCapacity));
    }

    @Override
    protected ByteBuf newDirectBuffer(final int initialCapacity, final int maxCapacity)
    {
        return track(delegate.directBuffer(initialCapacity, maxCapacity));
    }

    private synchronized ByteBuf track(final ByteBuf buffer)
    {
        allocated.add(buffer);
        return buffer;
    }

    @Override
    public boolean isDirectBufferPooled()
    {
        return false;
    }

    /**
     * @return how many buffers handed out are not yet released.
     */
    synchronized long outstanding()
    {
        return allocated.stream().filter(b -> b.refCnt() > 0).count();
    }

    /**
     * @return how many buffers were handed out in all.
     */
    synchronized int allocations()
    {
        return allocated.size();
    }
}
