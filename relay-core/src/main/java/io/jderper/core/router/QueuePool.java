package io.jderper.core.router;

import java.util.ArrayDeque;

/**
 * Per-loop pool of queue rings. Rings move between clients as their queues fill and drain, so steady traffic
 * allocates none and idle clients hold none. The pool keeps at most {@code maxPooled} spare rings.
 */
final class QueuePool
{
    private final int depth;
    private final int maxPooled;
    private final ArrayDeque<Object[]> free;

    QueuePool(final int depth, final int maxPooled)
    {
        if (depth < 1 || Integer.bitCount(depth) != 1)
        {
            throw new IllegalArgumentException("queue depth must be a power of two, depth=" + depth);
        }
        this.depth = depth;
        this.maxPooled = maxPooled;
        this.free = new ArrayDeque<>(Math.min(maxPooled, 1024));
    }

    Object[] take()
    {
        final Object[] ring = free.pollFirst();
        return null != ring ? ring : new Object[depth];
    }

    void give(final Object[] ring)
    {
        if (free.size() < maxPooled)
        {
            free.addFirst(ring);
        }
    }

    int depth()
    {
        return depth;
    }
}
