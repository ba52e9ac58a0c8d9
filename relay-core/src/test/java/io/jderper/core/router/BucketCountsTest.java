package io.jderper.core.router;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.api.Test;

class BucketCountsTest
{
    @Test
    void shouldCountEachValueInTheFirstBucketWhoseInclusiveBoundHoldsIt()
    {
        final BucketCounts counts = new BucketCounts(0, 1, 4);

        for (final long value : new long[] {0, 1, 2, 4, 5, 1_000})
        {
            counts.record(value);
        }

        assertThat(counts.bucketCount()).isEqualTo(4);
        assertThat(new long[] {counts.count(0), counts.count(1), counts.count(2), counts.count(3)})
            .containsExactly(1, 1, 2, 2);
        assertThat(counts.sum()).isEqualTo(1_012);
        assertThat(counts.upperBound(2)).isEqualTo(4);
    }

    @Test
    void shouldAddCountsGatheredElsewhere()
    {
        final BucketCounts counts = new BucketCounts(0, 10);
        counts.record(3);

        counts.add(new long[] {2, 1, 4}, 500);

        assertThat(new long[] {counts.count(0), counts.count(1), counts.count(2)}).containsExactly(2, 2, 4);
        assertThat(counts.sum()).isEqualTo(503);
    }

    @Test
    void shouldRefuseBoundsThatDoNotIncrease()
    {
        assertThatThrownBy(() -> new BucketCounts(1, 1)).isInstanceOf(IllegalArgumentException.class)
            .hasMessageContaining("upperBounds=[1, 1]");
    }
}
