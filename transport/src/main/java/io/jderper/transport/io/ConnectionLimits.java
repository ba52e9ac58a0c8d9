package io.jderper.transport.io;

/**
 * Bounds on incoming connections, checked as each is accepted; a connection over a bound is closed at once, before
 * TLS, as derper's accept rate limit does.
 *
 * @param acceptPerSecond      derper's {@code -accept-connection-limit}: accepted connections per second;
 *                             {@link Double#POSITIVE_INFINITY} for no limit.
 * @param acceptBurst          derper's {@code -accept-connection-burst}: connections accepted at once before the
 *                             rate applies.
 * @param maxConnections       jderper's cap on connections open at once; 0 for none.
 * @param maxConnectionsPerIp  jderper's cap on connections open at once from one IP address; 0 for none.
 */
public record ConnectionLimits(double acceptPerSecond, int acceptBurst, int maxConnections, int maxConnectionsPerIp)
{
    /** No bounds, derper's defaults. */
    public static final ConnectionLimits NONE =
        new ConnectionLimits(Double.POSITIVE_INFINITY, Integer.MAX_VALUE, 0, 0);

    /**
     * @throws IllegalArgumentException naming a bound that makes no sense.
     */
    public ConnectionLimits
    {
        if (Double.isNaN(acceptPerSecond) || acceptPerSecond < 0)
        {
            throw new IllegalArgumentException("accept rate must be 0 or more, got " + acceptPerSecond);
        }
        if (acceptBurst < 0 || maxConnections < 0 || maxConnectionsPerIp < 0)
        {
            throw new IllegalArgumentException("connection bounds must not be negative");
        }
    }

    /**
     * @return whether the accept rate is limited.
     */
    public boolean limitsAcceptRate()
    {
        return acceptPerSecond != Double.POSITIVE_INFINITY;
    }
}
