package io.jderper.core.router;

/**
 * The label of one TCP round-trip-time sample, as derper labels its {@code derp_tcp_rtt{le}} counts (spec §4.10):
 * the smallest bound at or above the kernel's smoothed RTT, {@code inf} above the largest, and for a connection
 * whose RTT cannot be read, once, {@code non-tcp} (not a TCP socket) or {@code error} (a TCP socket the transport
 * cannot ask).
 */
public enum TcpRtt
{
    /** At most 10 ms. */
    MS_10("10ms", 10_000),
    /** At most 20 ms. */
    MS_20("20ms", 20_000),
    /** At most 50 ms. */
    MS_50("50ms", 50_000),
    /** At most 100 ms. */
    MS_100("100ms", 100_000),
    /** At most 150 ms. */
    MS_150("150ms", 150_000),
    /** At most 250 ms. */
    MS_250("250ms", 250_000),
    /** At most 500 ms. */
    MS_500("500ms", 500_000),
    /** Above 500 ms. */
    INF("inf", Long.MAX_VALUE),
    /** The connection is not a TCP socket. */
    NON_TCP("non-tcp", -1),
    /** The connection's RTT could not be read. */
    ERROR("error", -1);

    private static final TcpRtt[] BOUNDED = {MS_10, MS_20, MS_50, MS_100, MS_150, MS_250, MS_500, INF};

    private final String label;
    private final long maxMicros;

    TcpRtt(final String label, final long maxMicros)
    {
        this.label = label;
        this.maxMicros = maxMicros;
    }

    /**
     * @param micros a smoothed RTT in microseconds, as Linux's {@code tcpi_rtt}.
     * @return its label.
     */
    public static TcpRtt ofMicros(final long micros)
    {
        for (final TcpRtt bucket : BOUNDED)
        {
            if (micros <= bucket.maxMicros)
            {
                return bucket;
            }
        }
        return INF;
    }

    /**
     * @return the metric label value, as derper writes it.
     */
    public String label()
    {
        return label;
    }
}
