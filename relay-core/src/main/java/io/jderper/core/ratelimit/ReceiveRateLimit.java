package io.jderper.core.ratelimit;

/**
 * The per-client receive rate limit (spec §4.8, derper's {@code RateConfig}): a token bucket of
 * {@code burstBytes} filled at {@code bytesPerSecond}, charged with each frame's length after the handshake. Mesh
 * peers are exempt.
 *
 * @param bytesPerSecond fill rate; 0 turns limiting off.
 * @param burstBytes     bucket depth, at least {@link #MIN_BURST_BYTES} when limiting.
 */
public record ReceiveRateLimit(long bytesPerSecond, long burstBytes)
{
    /**
     * The largest charge for one frame, and so the smallest bucket: a SendPacket's key and largest packet (derper's
     * {@code minRateLimitTokenBucketSize}, 65,568 bytes).
     */
    public static final long MIN_BURST_BYTES = 64 * 1024 + 32;

    /** No limit. */
    public static final ReceiveRateLimit NONE = new ReceiveRateLimit(0, 0);

    /**
     * As derper applies a configuration: a zero rate is no limit at all, and a burst below one frame is raised.
     *
     * @param bytesPerSecond fill rate; 0 for none.
     * @param burstBytes     bucket depth asked for.
     * @return the limit in force.
     * @throws IllegalArgumentException for negative values.
     */
    public static ReceiveRateLimit of(final long bytesPerSecond, final long burstBytes)
    {
        if (bytesPerSecond < 0 || burstBytes < 0)
        {
            throw new IllegalArgumentException("rate and burst must not be negative, got " + bytesPerSecond + " and " +
                burstBytes);
        }
        return 0 == bytesPerSecond ? NONE : new ReceiveRateLimit(bytesPerSecond, Math.max(burstBytes,
            MIN_BURST_BYTES));
    }

    /**
     * @return whether frames are charged at all.
     */
    public boolean limits()
    {
        return bytesPerSecond > 0;
    }

    @Override
    public String toString()
    {
        return limits() ? bytesPerSecond + " bytes/s, burst " + burstBytes + " bytes" : "no per-client rate limit";
    }
}
