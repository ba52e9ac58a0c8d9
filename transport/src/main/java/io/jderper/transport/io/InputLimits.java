package io.jderper.transport.io;

import java.time.Duration;

/**
 * How long, and how much, a connection may take at each stage before it is closed: the bounds against clients that
 * open connections and then dribble or stop (slowloris, half-finished handshakes, a frame header then silence).
 *
 * @param handshake       from accept to a finished TLS handshake on the TLS port, and from the upgrade to a finished
 *                        DERP handshake (jderper's {@code -handshake-timeout}).
 * @param httpRequest     from accept, and again after each request, to a complete request head and body (derper's
 *                        HTTP read timeout, 30 s; an absolute deadline, so bytes trickled in do not extend it).
 * @param httpHeaderBytes largest request head (headers) the HTTP decoder buffers; a longer one gets 431.
 * @param frameRead       how long a DERP frame already begun may go without a byte arriving.
 */
public record InputLimits(Duration handshake, Duration httpRequest, int httpHeaderBytes, Duration frameRead)
{
    /** The defaults: derper's HTTP read timeout and the DERP handshake's 10 s for TLS too. */
    public static final InputLimits DEFAULTS =
        new InputLimits(Duration.ofSeconds(10), Duration.ofSeconds(30), 16 << 10, Duration.ofSeconds(30));

    /**
     * @throws IllegalArgumentException naming a bound that makes no sense.
     */
    public InputLimits
    {
        for (final Duration timeout : new Duration[]{handshake, httpRequest, frameRead})
        {
            if (timeout.isNegative() || timeout.isZero() || timeout.toMillis() > Integer.MAX_VALUE)
            {
                throw new IllegalArgumentException("timeouts must be positive and under 24 days, got " + timeout);
            }
        }
        if (httpHeaderBytes < 1024 || httpHeaderBytes > (1 << 20))
        {
            throw new IllegalArgumentException("the HTTP header bound must be 1 KiB to 1 MiB, got " + httpHeaderBytes);
        }
    }
}
