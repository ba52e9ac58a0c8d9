package io.jderper.core.router;

import java.util.ArrayDeque;
import java.util.concurrent.atomic.AtomicReferenceArray;

/**
 * Maps a connection id to its live session without locking on the read side. An id is
 * {@code generation << 32 | slot}; slots are reused, generations are not, so a packet tagged for a closed
 * connection never reaches the slot's next owner.
 *
 * @param <P> the transport's packet type.
 */
final class SessionTable<P>
{
    private final ArrayDeque<Integer> freeSlots = new ArrayDeque<>();
    private volatile AtomicReferenceArray<ClientSession<P>> slots = new AtomicReferenceArray<>(1024);
    private int nextSlot;
    private long generation;

    synchronized long allocateId()
    {
        final Integer reused = freeSlots.pollFirst();
        final int slot;
        if (null != reused)
        {
            slot = reused;
        }
        else
        {
            slot = nextSlot++;
            if (slot == Integer.MAX_VALUE)
            {
                throw new IllegalStateException("session slots exhausted");
            }
        }
        generation++;
        return (generation << 32) | slot;
    }

    synchronized void put(final ClientSession<P> session)
    {
        final int slot = slot(session.connectionId());
        AtomicReferenceArray<ClientSession<P>> current = slots;
        if (slot >= current.length())
        {
            final AtomicReferenceArray<ClientSession<P>> grown =
                new AtomicReferenceArray<>(Math.max(current.length() * 2, slot + 1));
            for (int i = 0; i < current.length(); i++)
            {
                grown.set(i, current.get(i));
            }
            slots = grown;
            current = grown;
        }
        current.set(slot, session);
    }

    synchronized void remove(final ClientSession<P> session)
    {
        final int slot = slot(session.connectionId());
        final AtomicReferenceArray<ClientSession<P>> current = slots;
        if (slot < current.length() && current.get(slot) == session)
        {
            current.set(slot, null);
            freeSlots.addLast(slot);
        }
    }

    /**
     * @param connectionId an id from {@link #allocateId()}.
     * @return the live session with exactly that id, or null.
     */
    ClientSession<P> get(final long connectionId)
    {
        final int slot = slot(connectionId);
        final AtomicReferenceArray<ClientSession<P>> current = slots;
        if (slot >= current.length())
        {
            return null;
        }
        final ClientSession<P> session = current.get(slot);
        return null != session && session.connectionId() == connectionId ? session : null;
    }

    /**
     * @param slot a slot index.
     * @return whichever session holds the slot now, or null.
     */
    ClientSession<P> bySlot(final int slot)
    {
        final AtomicReferenceArray<ClientSession<P>> current = slots;
        return slot < current.length() ? current.get(slot) : null;
    }

    static int slot(final long connectionId)
    {
        return (int)connectionId;
    }
}
