package io.jderper.core.router;

import io.jderper.core.protocol.ProtocolLimits;
import org.agrona.BufferUtil;
import org.agrona.DirectBuffer;
import org.agrona.concurrent.UnsafeBuffer;

import java.security.SecureRandom;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Off-heap open-addressing map from a 32-byte node key to an int, read straight from frame bytes.
 *
 * <p>Entry layout (48 bytes, power-of-two capacity, linear probing):
 * <pre>
 *  0                  32        36        40               48
 *  +------------------+---------+---------+----------------+
 *  | key (32 bytes)   | value   | state   | padding        |
 *  +------------------+---------+---------+----------------+
 * </pre>
 *
 * <p>Writers (registration, rare) serialise on the instance lock. Readers (every SendPacket) take no lock and
 * allocate nothing: a sequence counter is odd while a write is in progress, and a reader that saw it change
 * retries (a seqlock). Keys are hashed with a per-table random seed so clients cannot grind keys that collide.
 */
public final class KeyTable
{
    /** Returned by {@link #get} when the key is absent. */
    public static final int MISSING = -1;

    private static final int ENTRY_LENGTH = 48;
    private static final int VALUE_OFFSET = 32;
    private static final int STATE_OFFSET = 36;
    private static final int EMPTY = 0;
    private static final int USED = 1;
    private static final int DELETED = 2;

    private final AtomicLong sequence = new AtomicLong();
    private final long seed;
    private volatile UnsafeBuffer entries;
    private int capacity;
    private int used;
    private int deleted;

    /**
     * @param initialCapacity expected number of keys; rounded up to a power of two at least twice as large.
     */
    public KeyTable(final int initialCapacity)
    {
        if (initialCapacity < 1)
        {
            throw new IllegalArgumentException("initialCapacity=" + initialCapacity);
        }
        this.seed = new SecureRandom().nextLong() | 1L;
        this.capacity = Integer.highestOneBit(Math.max(16, initialCapacity * 2 - 1)) << 1;
        this.entries = allocate(capacity);
    }

    private static UnsafeBuffer allocate(final int capacity)
    {
        return new UnsafeBuffer(BufferUtil.allocateDirectAligned(capacity * ENTRY_LENGTH, 64));
    }

    /**
     * Looks a key up without locking or allocating.
     *
     * @param key    buffer holding the key.
     * @param offset where the 32 key bytes start.
     * @return the value, or {@link #MISSING}.
     */
    public int get(final DirectBuffer key, final int offset)
    {
        final long k0 = key.getLong(offset);
        final long k1 = key.getLong(offset + 8);
        final long k2 = key.getLong(offset + 16);
        final long k3 = key.getLong(offset + 24);
        while (true)
        {
            final long before = sequence.get();
            if (0 != (before & 1))
            {
                Thread.onSpinWait();
                continue;
            }
            final int result = probe(entries, k0, k1, k2, k3);
            // The fence keeps the entry reads above from moving below the sequence re-read.
            java.lang.invoke.VarHandle.acquireFence();
            if (sequence.get() == before)
            {
                return result;
            }
        }
    }

    private int probe(final UnsafeBuffer table, final long k0, final long k1, final long k2, final long k3)
    {
        final int at = find(table, k0, k1, k2, k3);
        return at < 0 ? MISSING : table.getInt(at + VALUE_OFFSET);
    }

    /**
     * @return the byte offset of the key's entry, or -1.
     */
    private int find(final UnsafeBuffer table, final long k0, final long k1, final long k2, final long k3)
    {
        final int mask = (table.capacity() / ENTRY_LENGTH) - 1;
        int index = hash(k0, k1, k2, k3) & mask;
        for (int probes = 0; probes <= mask; probes++)
        {
            final int at = index * ENTRY_LENGTH;
            final int state = table.getInt(at + STATE_OFFSET);
            if (EMPTY == state)
            {
                return -1;
            }
            if (USED == state && matches(table, at, k0, k1, k2, k3))
            {
                return at;
            }
            index = (index + 1) & mask;
        }
        return -1;
    }

    private static boolean matches(
        final UnsafeBuffer table, final int at, final long k0, final long k1, final long k2, final long k3)
    {
        return table.getLong(at) == k0 && table.getLong(at + 8) == k1 &&
            table.getLong(at + 16) == k2 && table.getLong(at + 24) == k3;
    }

    private int hash(final long k0, final long k1, final long k2, final long k3)
    {
        long h = seed;
        h = mix(h ^ k0);
        h = mix(h ^ k1);
        h = mix(h ^ k2);
        h = mix(h ^ k3);
        return (int)(h ^ (h >>> 32));
    }

    private static long mix(final long value)
    {
        // splitmix64 finaliser: cheap and spreads every input bit over the output.
        long z = value * 0x9E3779B97F4A7C15L;
        z = (z ^ (z >>> 30)) * 0xBF58476D1CE4E5B9L;
        z = (z ^ (z >>> 27)) * 0x94D049BB133111EBL;
        return z ^ (z >>> 31);
    }

    /**
     * Inserts or replaces a mapping.
     *
     * @param key   32 raw key bytes.
     * @param value non-negative value.
     */
    public synchronized void put(final byte[] key, final int value)
    {
        if (value < 0)
        {
            throw new IllegalArgumentException("value=" + value);
        }
        if ((used + deleted + 1) * 2 > capacity)
        {
            rehash(used + 1 > capacity / 4 ? capacity * 2 : capacity);
        }
        final UnsafeBuffer keyBuffer = new UnsafeBuffer(key);
        final long k0 = keyBuffer.getLong(0);
        final long k1 = keyBuffer.getLong(8);
        final long k2 = keyBuffer.getLong(16);
        final long k3 = keyBuffer.getLong(24);
        final UnsafeBuffer table = entries;
        final int mask = capacity - 1;
        int index = hash(k0, k1, k2, k3) & mask;
        int firstFree = -1;
        while (true)
        {
            final int at = index * ENTRY_LENGTH;
            final int state = table.getInt(at + STATE_OFFSET);
            if (EMPTY == state)
            {
                break;
            }
            if (DELETED == state && firstFree < 0)
            {
                firstFree = at;
            }
            if (USED == state && matches(table, at, k0, k1, k2, k3))
            {
                beginWrite();
                table.putInt(at + VALUE_OFFSET, value);
                endWrite();
                return;
            }
            index = (index + 1) & mask;
        }
        final int at = firstFree >= 0 ? firstFree : index * ENTRY_LENGTH;
        if (firstFree >= 0)
        {
            deleted--;
        }
        beginWrite();
        table.putBytes(at, key, 0, ProtocolLimits.KEY_LENGTH);
        table.putInt(at + VALUE_OFFSET, value);
        table.putInt(at + STATE_OFFSET, USED);
        endWrite();
        used++;
    }

    /**
     * Removes a mapping if present.
     *
     * @param key 32 raw key bytes.
     * @return the removed value or {@link #MISSING}.
     */
    public synchronized int remove(final byte[] key)
    {
        final UnsafeBuffer keyBuffer = new UnsafeBuffer(key);
        final long k0 = keyBuffer.getLong(0);
        final long k1 = keyBuffer.getLong(8);
        final long k2 = keyBuffer.getLong(16);
        final long k3 = keyBuffer.getLong(24);
        final UnsafeBuffer table = entries;
        final int at = find(table, k0, k1, k2, k3);
        if (at < 0)
        {
            return MISSING;
        }
        final int value = table.getInt(at + VALUE_OFFSET);
        beginWrite();
        table.putInt(at + STATE_OFFSET, DELETED);
        endWrite();
        used--;
        deleted++;
        if (used < capacity / 8 && capacity > 16)
        {
            rehash(capacity / 2);
        }
        return value;
    }

    /**
     * @return the number of keys held.
     */
    public synchronized int size()
    {
        return used;
    }

    private void rehash(final int newCapacity)
    {
        final UnsafeBuffer old = entries;
        final UnsafeBuffer fresh = allocate(newCapacity);
        final int newMask = newCapacity - 1;
        final int oldCapacity = capacity;
        for (int i = 0; i < oldCapacity; i++)
        {
            final int at = i * ENTRY_LENGTH;
            if (USED != old.getInt(at + STATE_OFFSET))
            {
                continue;
            }
            final long k0 = old.getLong(at);
            final long k1 = old.getLong(at + 8);
            final long k2 = old.getLong(at + 16);
            final long k3 = old.getLong(at + 24);
            int index = hash(k0, k1, k2, k3) & newMask;
            while (EMPTY != fresh.getInt(index * ENTRY_LENGTH + STATE_OFFSET))
            {
                index = (index + 1) & newMask;
            }
            fresh.putBytes(index * ENTRY_LENGTH, old, at, ENTRY_LENGTH);
        }
        beginWrite();
        entries = fresh;
        capacity = newCapacity;
        deleted = 0;
        endWrite();
        // The old table is left to the GC (a direct ByteBuffer's cleaner frees it), not freed here: a reader
        // that loaded the old reference may still be probing it and will retry after seeing the sequence move.
    }

    private void beginWrite()
    {
        sequence.incrementAndGet();
        java.lang.invoke.VarHandle.storeStoreFence();
    }

    private void endWrite()
    {
        java.lang.invoke.VarHandle.storeStoreFence();
        sequence.incrementAndGet();
    }
}
