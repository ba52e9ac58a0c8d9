package io.jderper.core.router;

import io.jderper.bench.AbstractMicrobenchmark;
import io.jderper.core.protocol.ClientFrames;
import io.jderper.core.protocol.ProtocolLimits;
import org.agrona.BufferUtil;
import org.agrona.concurrent.UnsafeBuffer;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.Group;
import org.openjdk.jmh.annotations.GroupThreads;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;

import java.util.SplittableRandom;

/**
 * {@link KeyTable#get}, the one lookup on every relayed packet: hits and misses at 1k, 10k and 100k keys, the key
 * read at an unaligned offset inside SendPacket frames as the transport passes it, and the same reads racing a
 * writer that registers and removes keys (the seqlock's retry path).
 *
 * <p>Reads must show {@code gc.alloc.rate.norm} of about 0 B/op. The contended group's writer side calls the
 * control-plane {@link KeyTable#put}/{@link KeyTable#remove}, which may allocate; its norm is reported, not
 * required to be zero.
 *
 * <p>The group runs one reader and one writer by default (this is a 2-core reference machine); on a larger one,
 * try {@code -tg 3,1} for three readers against the writer.
 */
@State(Scope.Benchmark)
public class KeyTableBenchmark extends AbstractMicrobenchmark
{
    /** SendPacket frames laid end to end; keys are read from inside them. */
    static final int FRAMES = 1024;
    /** Bytes of packet data per frame: a typical WireGuard packet. */
    static final int DATA_LENGTH = 1200;
    /** Odd, so most keys in {@link #frames} sit at unaligned offsets, as they may in a read buffer. */
    static final int FRAME_STRIDE = ClientFrames.SEND_PACKET_PREFIX_LENGTH + DATA_LENGTH;
    /** Keys the writer cycles through: few enough that their tombstones never force a rehash at any size. */
    static final int CHURN_KEYS = 16;
    /** Absent keys the miss benchmark cycles through. */
    static final int ABSENT_KEYS = 1024;

    /** Keys in the table. */
    @Param({"1000", "10000", "100000"})
    public int size;

    KeyTable table;
    /** The {@link #size} present keys, 32 bytes each, end to end off-heap. */
    UnsafeBuffer presentKeys;
    /** Keys never put in the table. */
    UnsafeBuffer absentKeys;
    /** {@link #FRAMES} SendPacket frames starting at offset 1, each addressed to a present key. */
    UnsafeBuffer frames;
    /** Keys the contended writer puts and removes; never read by the readers. */
    byte[][] churn;

    /**
     * Builds the table and the key sets, and checks every present key is found.
     */
    @Setup(Level.Trial)
    public void setUp()
    {
        final SplittableRandom random = new SplittableRandom(size);
        table = new KeyTable(size);
        presentKeys = new UnsafeBuffer(BufferUtil.allocateDirectAligned(size * ProtocolLimits.KEY_LENGTH, 64));
        final byte[] key = new byte[ProtocolLimits.KEY_LENGTH];
        for (int i = 0; i < size; i++)
        {
            randomKey(random, key);
            presentKeys.putBytes(i * ProtocolLimits.KEY_LENGTH, key);
            table.put(key, i);
        }
        absentKeys = new UnsafeBuffer(BufferUtil.allocateDirectAligned(ABSENT_KEYS * ProtocolLimits.KEY_LENGTH, 64));
        for (int i = 0; i < ABSENT_KEYS; i++)
        {
            randomKey(random, key);
            absentKeys.putBytes(i * ProtocolLimits.KEY_LENGTH, key);
        }
        frames = new UnsafeBuffer(BufferUtil.allocateDirectAligned(1 + FRAMES * FRAME_STRIDE, 64));
        for (int i = 0; i < FRAMES; i++)
        {
            final int destination = (int)((long)i * size / FRAMES);
            ClientFrames.sendPacketPrefix(frames, 1 + i * FRAME_STRIDE, presentKeys,
                destination * ProtocolLimits.KEY_LENGTH, DATA_LENGTH);
        }
        churn = new byte[CHURN_KEYS][];
        for (int i = 0; i < CHURN_KEYS; i++)
        {
            churn[i] = new byte[ProtocolLimits.KEY_LENGTH];
            randomKey(random, churn[i]);
        }
        for (int i = 0; i < size; i++)
        {
            if (table.get(presentKeys, i * ProtocolLimits.KEY_LENGTH) != i)
            {
                throw new IllegalStateException("key " + i + " not found");
            }
        }
        for (int i = 0; i < ABSENT_KEYS; i++)
        {
            if (table.get(absentKeys, i * ProtocolLimits.KEY_LENGTH) != KeyTable.MISSING)
            {
                throw new IllegalStateException("absent key " + i + " found");
            }
        }
    }

    private static void randomKey(final SplittableRandom random, final byte[] key)
    {
        for (int i = 0; i < key.length; i += 8)
        {
            final long bits = random.nextLong();
            for (int b = 0; b < 8; b++)
            {
                key[i + b] = (byte)(bits >>> (b * 8));
            }
        }
    }

    /**
     * Per-thread positions in the key sets.
     */
    @State(Scope.Thread)
    public static class Cursor
    {
        int present;
        int absent;
        int frame;
        int churn;
        boolean churnPresent;
    }

    /**
     * @param cursor next key.
     * @return the value found.
     */
    @Benchmark
    public int getHit(final Cursor cursor)
    {
        return hit(cursor);
    }

    /**
     * @param cursor next key.
     * @return {@link KeyTable#MISSING}.
     */
    @Benchmark
    public int getMiss(final Cursor cursor)
    {
        final int i = cursor.absent;
        cursor.absent = (i + 1) & (ABSENT_KEYS - 1);
        return table.get(absentKeys, i * ProtocolLimits.KEY_LENGTH);
    }

    /**
     * The destination key read where it lies in a SendPacket frame (5 + 1237·i + 1 bytes in: unaligned).
     *
     * @param cursor next frame.
     * @return the value found.
     */
    @Benchmark
    public int getHitInFrame(final Cursor cursor)
    {
        final int i = cursor.frame;
        cursor.frame = (i + 1) & (FRAMES - 1);
        return table.get(frames, 1 + i * FRAME_STRIDE + 5);
    }

    /**
     * A reader racing {@link #contendedWrite}.
     *
     * @param cursor next key.
     * @return the value found.
     */
    @Benchmark
    @Group("contended")
    @GroupThreads(1)
    public int contendedGet(final Cursor cursor)
    {
        return hit(cursor);
    }

    /**
     * A registration or a departure, alternately, of keys the reader never asks for; every write moves the
     * sequence the reader checks.
     *
     * @param cursor next churn key.
     * @return the value removed, or 0 after a put.
     */
    @Benchmark
    @Group("contended")
    @GroupThreads(1)
    public int contendedWrite(final Cursor cursor)
    {
        final int i = cursor.churn;
        if (cursor.churnPresent)
        {
            cursor.churnPresent = false;
            cursor.churn = (i + 1) & (CHURN_KEYS - 1);
            return table.remove(churn[i]);
        }
        cursor.churnPresent = true;
        table.put(churn[i], size + i);
        return 0;
    }

    private int hit(final Cursor cursor)
    {
        final int i = cursor.present;
        cursor.present = i + 1 == size ? 0 : i + 1;
        return table.get(presentKeys, i * ProtocolLimits.KEY_LENGTH);
    }
}
