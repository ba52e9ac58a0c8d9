package io.jderper.core.router;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.lang.reflect.Field;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.HexFormat;
import java.util.List;
import java.util.Random;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;

import org.agrona.concurrent.UnsafeBuffer;
import org.junit.jupiter.api.Test;

class KeyTableTest
{
    private final Random random = new Random(0x5EED);

    private byte[] newKey()
    {
        final byte[] key = new byte[32];
        random.nextBytes(key);
        return key;
    }

    private List<byte[]> distinctKeys(final int count)
    {
        final Set<String> seen = new HashSet<>();
        final List<byte[]> keys = new ArrayList<>(count);
        while (keys.size() < count)
        {
            final byte[] key = newKey();
            if (seen.add(HexFormat.of().formatHex(key)))
            {
                keys.add(key);
            }
        }
        return keys;
    }

    private static int get(final KeyTable table, final byte[] key)
    {
        return table.get(new UnsafeBuffer(key), 0);
    }

    private static int intField(final KeyTable table, final String name)
    {
        try
        {
            final Field field = KeyTable.class.getDeclaredField(name);
            field.setAccessible(true);
            return field.getInt(table);
        }
        catch (final ReflectiveOperationException ex)
        {
            throw new AssertionError(ex);
        }
    }

    @Test
    void shouldPutGetReplaceAndRemove()
    {
        final KeyTable table = new KeyTable(4);
        final byte[] a = newKey();
        final byte[] b = newKey();

        assertThat(get(table, a)).isEqualTo(KeyTable.MISSING);
        table.put(a, 7);
        table.put(b, 0);
        assertThat(get(table, a)).isEqualTo(7);
        assertThat(get(table, b)).isZero();
        assertThat(table.size()).isEqualTo(2);

        table.put(a, 9);
        assertThat(get(table, a)).isEqualTo(9);
        assertThat(table.size()).isEqualTo(2);

        assertThat(table.remove(a)).isEqualTo(9);
        assertThat(get(table, a)).isEqualTo(KeyTable.MISSING);
        assertThat(table.remove(a)).isEqualTo(KeyTable.MISSING);
        assertThat(get(table, b)).isZero();
        assertThat(table.size()).isEqualTo(1);
    }

    @Test
    void shouldReturnMissingForAbsentKeysIncludingTheZeroKey()
    {
        final KeyTable table = new KeyTable(16);
        for (int i = 0; i < 10; i++)
        {
            table.put(newKey(), i);
        }

        assertThat(get(table, new byte[32])).isEqualTo(KeyTable.MISSING);
        assertThat(get(table, newKey())).isEqualTo(KeyTable.MISSING);
        assertThat(table.remove(newKey())).isEqualTo(KeyTable.MISSING);
        assertThat(table.size()).isEqualTo(10);
    }

    @Test
    void shouldDistinguishKeysThatDifferInOneByteOfAnyWord()
    {
        final KeyTable table = new KeyTable(64);
        final byte[] base = newKey();
        table.put(base, 1000);
        for (int i = 0; i < 32; i++)
        {
            final byte[] variant = base.clone();
            variant[i] ^= (byte)0x80;
            assertThat(get(table, variant)).as("byte %d differs", i).isEqualTo(KeyTable.MISSING);
            table.put(variant, i);
        }
        assertThat(get(table, base)).isEqualTo(1000);
        for (int i = 0; i < 32; i++)
        {
            final byte[] variant = base.clone();
            variant[i] ^= (byte)0x80;
            assertThat(get(table, variant)).isEqualTo(i);
        }
    }

    @Test
    void shouldRejectNegativeValuesAndBadCapacity()
    {
        final KeyTable table = new KeyTable(1);

        assertThatThrownBy(() -> table.put(newKey(), -1)).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> new KeyTable(0)).isInstanceOf(IllegalArgumentException.class);
        assertThat(table.size()).isZero();
    }

    @Test
    void shouldGrowThroughManyRehashesAndShrinkBack()
    {
        final KeyTable table = new KeyTable(1);
        final int initialCapacity = intField(table, "capacity");
        final List<byte[]> keys = distinctKeys(50_000);

        for (int i = 0; i < keys.size(); i++)
        {
            table.put(keys.get(i), i);
        }

        assertThat(table.size()).isEqualTo(50_000);
        assertThat(intField(table, "capacity")).isGreaterThanOrEqualTo(2 * 50_000);
        for (int i = 0; i < keys.size(); i++)
        {
            assertThat(get(table, keys.get(i))).isEqualTo(i);
        }

        for (int i = 10; i < keys.size(); i++)
        {
            assertThat(table.remove(keys.get(i))).isEqualTo(i);
        }

        assertThat(table.size()).isEqualTo(10);
        assertThat(intField(table, "capacity")).isLessThanOrEqualTo(Math.max(initialCapacity, 128));
        for (int i = 0; i < keys.size(); i++)
        {
            assertThat(get(table, keys.get(i))).isEqualTo(i < 10 ? i : KeyTable.MISSING);
        }
    }

    @Test
    void shouldReuseATombstoneForTheNextInsert()
    {
        final KeyTable table = new KeyTable(16);
        final List<byte[]> keys = distinctKeys(10);
        for (int i = 0; i < keys.size(); i++)
        {
            table.put(keys.get(i), i);
        }

        table.remove(keys.get(3));
        assertThat(intField(table, "deleted")).isEqualTo(1);
        table.put(keys.get(3), 33);

        assertThat(intField(table, "deleted")).as("tombstone reused").isZero();
        assertThat(get(table, keys.get(3))).isEqualTo(33);
        assertThat(table.size()).isEqualTo(10);
    }

    @Test
    void shouldFindKeysBehindTombstonesInTheirProbeChains()
    {
        // Half load factor with linear probing: many chains cross removed entries.
        final KeyTable table = new KeyTable(1024);
        final List<byte[]> keys = distinctKeys(1000);
        for (int i = 0; i < keys.size(); i++)
        {
            table.put(keys.get(i), i);
        }
        for (int i = 0; i < keys.size(); i += 2)
        {
            table.remove(keys.get(i));
        }

        for (int i = 0; i < keys.size(); i++)
        {
            assertThat(get(table, keys.get(i))).isEqualTo(i % 2 == 0 ? KeyTable.MISSING : i);
        }
        // Re-inserting takes the tombstones back without losing anything.
        for (int i = 0; i < keys.size(); i += 2)
        {
            table.put(keys.get(i), i + 1_000_000);
        }
        for (int i = 0; i < keys.size(); i++)
        {
            assertThat(get(table, keys.get(i))).isEqualTo(i % 2 == 0 ? i + 1_000_000 : i);
        }
    }

    @Test
    void shouldStayUsableUnderEndlessInsertRemoveChurn()
    {
        // Every insert after a remove leaves a tombstone unless reused or purged; the table must never fill up.
        final KeyTable table = new KeyTable(16);
        final byte[] stable = newKey();
        table.put(stable, 1);
        for (int i = 0; i < 100_000; i++)
        {
            final byte[] key = newKey();
            table.put(key, i);
            assertThat(table.remove(key)).isEqualTo(i);
        }

        assertThat(table.size()).isEqualTo(1);
        assertThat(get(table, stable)).isEqualTo(1);
        assertThat(intField(table, "capacity")).isLessThanOrEqualTo(32);
    }

    @Test
    void shouldLookUpAtArbitraryOffsetsInsideALargerBuffer()
    {
        final KeyTable table = new KeyTable(64);
        final List<byte[]> keys = distinctKeys(40);
        for (int i = 0; i < keys.size(); i++)
        {
            table.put(keys.get(i), i);
        }
        final UnsafeBuffer big = new UnsafeBuffer(new byte[4096]);
        for (int offset = 0; offset < 40; offset++)
        {
            // Unaligned offsets, and keys embedded between unrelated bytes as in a frame.
            final int at = 7 + offset * 97;
            big.putBytes(at, keys.get(offset));
            big.putByte(at - 1, (byte)0x5A);
            big.putByte(at + 32, (byte)0xA5);
        }

        for (int offset = 0; offset < 40; offset++)
        {
            assertThat(table.get(big, 7 + offset * 97)).isEqualTo(offset);
            assertThat(table.get(big, 7 + offset * 97 + 1)).isEqualTo(KeyTable.MISSING);
        }
    }

    @Test
    void shouldAlwaysFindStableKeysWhileAWriterChurnsAndRehashes() throws InterruptedException
    {
        final KeyTable table = new KeyTable(16);
        final List<byte[]> stable = distinctKeys(64);
        final List<byte[]> churn = distinctKeys(3000);
        for (int i = 0; i < stable.size(); i++)
        {
            table.put(stable.get(i), i);
        }
        final AtomicReference<Throwable> failure = new AtomicReference<>();
        final AtomicLong lookups = new AtomicLong();
        final AtomicLong writerRounds = new AtomicLong();
        final int rounds = 30;

        final Thread writer = new Thread(() ->
        {
            try
            {
                for (int round = 0; round < rounds && null == failure.get(); round++)
                {
                    // Grow from ~64 to ~3064 keys (several doublings), then shrink back (several halvings).
                    for (int i = 0; i < churn.size(); i++)
                    {
                        table.put(churn.get(i), 100_000 + i);
                    }
                    for (int i = 0; i < churn.size(); i++)
                    {
                        table.remove(churn.get(i));
                    }
                    writerRounds.incrementAndGet();
                }
            }
            catch (final Throwable t)
            {
                failure.compareAndSet(null, t);
            }
        }, "key-table-writer");
        final List<Thread> readers = new ArrayList<>();
        for (int r = 0; r < 2; r++)
        {
            final UnsafeBuffer view = new UnsafeBuffer(new byte[stable.size() * 32 + 3]);
            for (int i = 0; i < stable.size(); i++)
            {
                view.putBytes(3 + i * 32, stable.get(i));
            }
            final UnsafeBuffer churnView = new UnsafeBuffer(new byte[churn.size() * 32]);
            for (int i = 0; i < churn.size(); i++)
            {
                churnView.putBytes(i * 32, churn.get(i));
            }
            readers.add(new Thread(() ->
            {
                try
                {
                    // Bounded: stops when the writer is done, or after a generous cap.
                    for (long n = 0; n < 500_000_000L && writerRounds.get() < rounds && null == failure.get(); n++)
                    {
                        final int i = (int)(n % stable.size());
                        final int value = table.get(view, 3 + i * 32);
                        if (value != i)
                        {
                            throw new AssertionError("stable key " + i + " read as " + value + " at lookup " + n);
                        }
                        // A key coming and going may be found or not, but never with another key's value.
                        final int j = (int)(n % churn.size());
                        final int churnValue = table.get(churnView, j * 32);
                        if (KeyTable.MISSING != churnValue && 100_000 + j != churnValue)
                        {
                            throw new AssertionError("churn key " + j + " read as " + churnValue);
                        }
                        lookups.incrementAndGet();
                    }
                }
                catch (final Throwable t)
                {
                    failure.compareAndSet(null, t);
                }
            }, "key-table-reader-" + r));
        }

        readers.forEach(Thread::start);
        writer.start();
        writer.join(TimeUnit.SECONDS.toMillis(60));
        for (final Thread reader : readers)
        {
            reader.join(TimeUnit.SECONDS.toMillis(60));
        }

        assertThat(writer.isAlive()).as("writer finished").isFalse();
        assertThat(readers).noneMatch(Thread::isAlive);
        assertThat(failure.get()).isNull();
        assertThat(writerRounds.get()).isEqualTo(rounds);
        assertThat(lookups.get()).isPositive();
        assertThat(table.size()).isEqualTo(stable.size());
        for (int i = 0; i < stable.size(); i++)
        {
            assertThat(get(table, stable.get(i))).isEqualTo(i);
        }
    }
}
