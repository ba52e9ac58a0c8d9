package io.jderper.transport.io;

import java.time.Duration;

/**
 * derper's TCP settings for accepted connections ({@code -tcp-keepalive-time}, {@code -tcp-user-timeout}): a long
 * keepalive (DERP has its own, more frequent one) and a short user timeout, so that a client that vanished without
 * a FIN is found within seconds once data is unacknowledged, not after the kernel's 15 minutes of retries.
 *
 * @param keepAlive   idle time before TCP keepalive probes, and the interval between them; zero or negative turns
 *                    keepalives off.
 * @param userTimeout how long sent data may stay unacknowledged before the connection is dropped; zero leaves the
 *                    kernel's default.
 */
public record TcpTimeouts(Duration keepAlive, Duration userTimeout)
{
    /** derper's defaults: 10 minutes and 15 seconds. */
    public static final TcpTimeouts DERPER_DEFAULTS = new TcpTimeouts(Duration.ofMinutes(10), Duration.ofSeconds(15));

    /**
     * @throws IllegalArgumentException for a negative user timeout or values the kernel cannot take.
     */
    public TcpTimeouts
    {
        if (userTimeout.isNegative() || userTimeout.toMillis() > Integer.MAX_VALUE)
        {
            throw new IllegalArgumentException("TCP user timeout must be 0 to 24 days, got " + userTimeout);
        }
        if (keepAlive.toSeconds() > 32_767)
        {
            throw new IllegalArgumentException("TCP keepalive time must be at most 32767 s, got " + keepAlive);
        }
    }

    /**
     * @return whether keepalive probes are on.
     */
    public boolean keepAliveOn()
    {
        return !keepAlive.isNegative() && !keepAlive.isZero();
    }
}
