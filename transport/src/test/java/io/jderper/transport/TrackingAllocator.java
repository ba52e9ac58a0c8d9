package io.jderper.transport;

import io.netty.buffer.AbstractByteBufAllocator;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.CompositeByteBuf;
import io.netty.buffer.UnpooledByteBufAllocator;

import java.util.ArrayList;
import java.util.List;

/**
 * An allocator that remembers every buffer it hands out, so a test can check that none is still held: at once, where
 * Netty's leak detector (off here) reports only after a garbage collection. Composites are made without the leak
 * detector's wrapper and not tracked: their components are.
 */
public final class TrackingAllocator extends AbstractByteBufAllocator
{
    private final UnpooledByteBufAllocator delegate = new UnpooledByteBufAllocator(true, true, false);
    private final List<ByteBuf> allocated = new ArrayList<>();

    public TrackingAllocator()
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

    @Override
    public CompositeByteBuf compositeHeapBuffer(final int maxNumComponents)
    {
        return new CompositeByteBuf(this, false, maxNumComponents);
    }

    @Override
    public CompositeByteBuf compositeDirectBuffer(final int maxNumComponents)
    {
        return new CompositeByteBuf(this, true, maxNumComponents);
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
    public synchronized long outstanding()
    {
        return allocated.stream().filter(buffer -> buffer.refCnt() > 0).count();
    }

    /**
     * @return how many buffers were handed out in all.
     */
    public synchronized int allocations()
    {
        return allocated.size();
    }
}
