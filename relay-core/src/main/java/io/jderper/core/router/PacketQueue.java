package io.jderper.core.router;

/**
 * A bounded FIFO of packet references backed by a ring array borrowed from its loop's pool while non-empty,
 * so an idle client holds no queue storage. Single-threaded: only the owning loop touches it.
 *
 * @param <P> the transport's packet type.
 */
final class PacketQueue<P>
{
    private final QueuePool pool;
    private Object[] ring;
    private int head;
    private int size;

    PacketQueue(final QueuePool pool)
    {
        this.pool = pool;
    }

    boolean isEmpty()
    {
        return 0 == size;
    }

    boolean isFull()
    {
        return null != ring && size == ring.length;
    }

    int size()
    {
        return size;
    }

    void add(final P packet)
    {
        if (null == ring)
        {
            ring = pool.take();
        }
        if (size == ring.length)
        {
            throw new IllegalStateException("queue full, size=" + size);
        }
        ring[(head + size) & (ring.length - 1)] = packet;
        size++;
    }

    @SuppressWarnings("unchecked")
    P poll()
    {
        if (0 == size)
        {
            return null;
        }
        final P packet = (P)ring[head];
        ring[head] = null;
        head = (head + 1) & (ring.length - 1);
        size--;
        if (0 == size)
        {
            head = 0;
            pool.give(ring);
            ring = null;
        }
        return packet;
    }
}
