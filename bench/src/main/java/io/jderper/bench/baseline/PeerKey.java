package io.jderper.bench.baseline;

import io.jderper.core.protocol.ProtocolLimits;
import io.netty.buffer.ByteBuf;

/**
 * A 32-byte node key as four longs, the key of the baseline's {@link java.util.concurrent.ConcurrentHashMap}.
 * Registered keys are immutable ({@link #copyOf}); each connection also owns one mutable probe that it
 * {@link #set}s from the frame bytes, so a lookup allocates nothing. {@code equals} compares the longs, so a probe
 * finds the registered key with the same bytes.
 */
final class PeerKey
{
    private long k0;
    private long k1;
    private long k2;
    private long k3;
    private int hash;

    /**
     * @param raw 32 key bytes.
     * @return an immutable key holding them.
     */
    static PeerKey copyOf(final byte[] raw)
    {
        if (ProtocolLimits.KEY_LENGTH != raw.length)
        {
            throw new IllegalArgumentException("raw.length=" + raw.length);
        }
        final PeerKey key = new PeerKey();
        key.k0 = longAt(raw, 0);
        key.k1 = longAt(raw, 8);
        key.k2 = longAt(raw, 16);
        key.k3 = longAt(raw, 24);
        key.hash = hash(key.k0, key.k1, key.k2, key.k3);
        return key;
    }

    /**
     * Points this probe at the key stored at {@code index} (probes only: a registered key never changes).
     *
     * @param buffer holds the key.
     * @param index  where it starts.
     * @return this.
     */
    PeerKey set(final ByteBuf buffer, final int index)
    {
        k0 = buffer.getLong(index);
        k1 = buffer.getLong(index + 8);
        k2 = buffer.getLong(index + 16);
        k3 = buffer.getLong(index + 24);
        hash = hash(k0, k1, k2, k3);
        return this;
    }

    /**
     * Writes the key's 32 bytes at {@code index} without moving the buffer's indices.
     *
     * @param buffer target.
     * @param index  where the key goes.
     */
    void setInto(final ByteBuf buffer, final int index)
    {
        buffer.setLong(index, k0);
        buffer.setLong(index + 8, k1);
        buffer.setLong(index + 16, k2);
        buffer.setLong(index + 24, k3);
    }

    /**
     * Appends the key's 32 bytes.
     *
     * @param buffer target.
     */
    void writeTo(final ByteBuf buffer)
    {
        buffer.writeLong(k0).writeLong(k1).writeLong(k2).writeLong(k3);
    }

    @Override
    public boolean equals(final Object o)
    {
        return o instanceof PeerKey other && k0 == other.k0 && k1 == other.k1 && k2 == other.k2 && k3 == other.k3;
    }

    @Override
    public int hashCode()
    {
        return hash;
    }

    private static int hash(final long k0, final long k1, final long k2, final long k3)
    {
        // Keys are Curve25519 points: their bytes are already uniform, so mixing one long is plenty.
        final long h = (k0 ^ k1 ^ k2 ^ k3) * 0x9E3779B97F4A7C15L;
        return (int)(h ^ (h >>> 32));
    }

    private static long longAt(final byte[] raw, final int offset)
    {
        long value = 0;
        for (int i = 0; i < Long.BYTES; i++)
        {
            value = (value << 8) | (raw[offset + i] & 0xFFL);
        }
        return value;
    }
}
