package io.jderper.core.router;

import java.util.Arrays;
import java.util.concurrent.atomic.LongAdder;

/**
 * A histogram with fixed upper bounds, kept as one {@link LongAdder} per bucket so that recording allocates nothing
 * and an exporter can read it from any thread. Counts are per bucket (not cumulative); the last bucket holds values
 * above every bound. Used off the packet path only: once per connection or once per housekeeping tick.
 */
public final class BucketCounts
{
    private final long[] upperBounds;
    private final LongAdder[] counts;
    private final LongAdder sum = new LongAdder();

    /**
     * @param upperBounds inclusive upper bounds, strictly increasing; a last bucket above them is added.
     */
    public BucketCounts(final long... upperBounds)
    {
        for (int i = 1; i < upperBounds.length; i++)
        {
            if (upperBounds[i] <= upperBounds[i - 1])
            {
                throw new IllegalArgumentException("upper bounds must increase, upperBounds=" +
                    Arrays.toString(upperBounds));
            }
        }
        this.upperBounds = upperBounds.clone();
        this.counts = new LongAdder[upperBounds.length + 1];
        for (int i = 0; i < counts.length; i++)
        {
            counts[i] = new LongAdder();
        }
    }

    /**
     * @param value a value to count.
     * @return the index of the bucket it falls in: the first whose upper bound is at least the value.
     */
    public int bucketOf(final long value)
    {
        final long[] bounds = upperBounds;
        for (int i = 0; i < bounds.length; i++)
        {
            if (value <= bounds[i])
            {
                return i;
            }
        }
        return bounds.length;
    }

    /**
     * Counts one value.
     *
     * @param value the value.
     */
    public void record(final long value)
    {
        counts[bucketOf(value)].increment();
        sum.add(value);
    }

    /**
     * Adds counts gathered elsewhere (a loop's tick) in one go.
     *
     * @param bucketCounts how many values fell in each bucket, indexed as {@link #bucketOf}; as long as
     *                     {@link #bucketCount()}.
     * @param valueSum     the sum of those values.
     */
    public void add(final long[] bucketCounts, final long valueSum)
    {
        for (int i = 0; i < counts.length; i++)
        {
            if (0 != bucketCounts[i])
            {
                counts[i].add(bucketCounts[i]);
            }
        }
        sum.add(valueSum);
    }

    /**
     * @return the number of buckets, the one above every bound included.
     */
    public int bucketCount()
    {
        return counts.length;
    }

    /**
     * @param bucket a bucket index below {@link #bucketCount()} - 1.
     * @return its inclusive upper bound.
     */
    public long upperBound(final int bucket)
    {
        return upperBounds[bucket];
    }

    /**
     * @param bucket a bucket index.
     * @return how many values fell in it so far.
     */
    public long count(final int bucket)
    {
        return counts[bucket].sum();
    }

    /**
     * @return the sum of every value recorded.
     */
    public long sum()
    {
        return sum.sum();
    }
}
