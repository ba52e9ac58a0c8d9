package io.jderper.server.limits;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;

import com.code_intelligence.jazzer.junit.FuzzTest;
import io.jderper.core.ratelimit.ReceiveRateLimit;

/**
 * derper's rate config JSON: any bytes either parse into a limit with sane values or are refused with an
 * {@link IOException}.
 */
class RateConfigFuzzTest
{
    @FuzzTest(maxDuration = "30s")
    void parsesOrRefuses(final byte[] json)
    {
        final ReceiveRateLimit limit;
        try
        {
            limit = RateConfigFile.parse(json);
        }
        catch (final IOException refused)
        {
            return;
        }
        assertThat(limit.bytesPerSecond()).isNotNegative();
        assertThat(limit.limits() ? limit.burstBytes() >= ReceiveRateLimit.MIN_BURST_BYTES : 0 == limit.burstBytes())
            .isTrue();
    }
}
