package io.jderper.core.ratelimit;

/**
 * A token bucket that lets a charge run into debt and says how long the debt takes to pay off, as Go's
 * {@code rate.Limiter.ReserveN}: the caller waits that long before acting. Single-threaded (one connection's loop)
 * and allocation-free.
 */
public final class TokenBucket
{
    private static final double NANOS_PER_SECOND = 1e9;

    private final double ratePerNano;
    private final double burst;
    private double tokens;
    private long lastNs;

    /**
     * A full bucket.
     *
     * @param limit  its rate and depth; must limit.
     * @param nowNs  the clock now.
     */
    public TokenBucket(final ReceiveRateLimit limit, final long nowNs)
    {
        if (!limit.limits())
        {
            throw new IllegalArgumentException("no rate: " + limit);
        }
        this.ratePerNano = limit.bytesPerSecond() / NANOS_PER_SECOND;
        this.burst = limit.burstBytes();
        this.tokens = burst;
        this.lastNs = nowNs;
    }

    /**
     * Takes {@code amount} tokens, going into debt if there are not enough.
     *
     * @param amount tokens to take, at most the burst.
     * @param nowNs  the clock now.
     * @return nanoseconds until the debt is paid: how long the caller should wait; 0 if none.
     */
    public long reserve(final long amount, final long nowNs)
    {
        final long elapsedNs = nowNs - lastNs;
        if (elapsedNs > 0)
        {
            tokens = Math.min(burst, tokens + elapsedNs * ratePerNano);
            lastNs = nowNs;
        }
        tokens -= amount;
        return tokens >= 0 ? 0 : (long)Math.ceil(-tokens / ratePerNano);
    }
}
