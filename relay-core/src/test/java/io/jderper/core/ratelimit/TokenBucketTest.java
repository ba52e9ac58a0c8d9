package io.jderper.core.ratelimit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.api.Test;

class TokenBucketTest
{
    private static final long SECOND = 1_000_000_000L;

    @Test
    void shouldStartFullThenMakeTheCallerWaitForItsDebt()
    {
        final TokenBucket bucket = new TokenBucket(ReceiveRateLimit.of(100_000, 200_000), 0);

        assertThat(bucket.reserve(150_000, 0)).isZero();
        assertThat(bucket.reserve(50_000, 0)).isZero();
        assertThat(bucket.reserve(10_000, 0)).as("10 kB of debt at 100 kB/s").isEqualTo(SECOND / 10);
        assertThat(bucket.reserve(10_000, SECOND / 10)).as("the first debt is paid; this one is new")
            .isEqualTo(SECOND / 10);
        assertThat(bucket.reserve(0, 10 * SECOND)).isZero();
        assertThat(bucket.reserve(200_000, 10 * SECOND)).as("refilled to the burst, never beyond").isZero();
        assertThat(bucket.reserve(1, 10 * SECOND)).isPositive();
    }

    @Test
    void shouldApplyDerpersFloorsAndZeroMeaningOff()
    {
        assertThat(ReceiveRateLimit.of(0, 1_000_000)).isSameAs(ReceiveRateLimit.NONE);
        assertThat(ReceiveRateLimit.NONE.limits()).isFalse();
        assertThat(ReceiveRateLimit.of(1_000, 10).burstBytes()).isEqualTo(65_568);
        assertThat(ReceiveRateLimit.of(1_000, 100_000).burstBytes()).isEqualTo(100_000);
        assertThatThrownBy(() -> ReceiveRateLimit.of(-1, 0)).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> new TokenBucket(ReceiveRateLimit.NONE, 0))
            .isInstanceOf(IllegalArgumentException.class);
    }
}
