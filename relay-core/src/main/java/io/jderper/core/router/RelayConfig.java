package io.jderper.core.router;

import io.jderper.core.protocol.ProtocolLimits;

/**
 * Tunables of the relay core, validated on construction.
 *
 * @param sendQueueDepth     depth of each per-client queue (data and disco); a power of two.
 * @param writeTimeoutMs     how long a client's outbound buffer may stay full before it is closed; 0 disables.
 * @param handshakeTimeoutMs how long ClientInfo and admission may take.
 * @param keepAliveMs        base KeepAlive period.
 * @param keepAliveJitterMs  exclusive upper bound of the per-connection random jitter.
 * @param inboxCapacity      packets a loop's inbox holds before new ones are dropped; a power of two.
 * @param pooledQueues       spare queue rings a loop keeps.
 * @param tcpRttIntervalMs   how often each connection's TCP RTT is sampled for {@code derp_tcp_rtt}; 0 disables
 *                           (derper's {@code TS_DERP_DISABLE_RTT_STATS}).
 */
public record RelayConfig(
    int sendQueueDepth,
    long writeTimeoutMs,
    long handshakeTimeoutMs,
    long keepAliveMs,
    long keepAliveJitterMs,
    int inboxCapacity,
    int pooledQueues,
    long tcpRttIntervalMs)
{
    /** derper's period of TCP RTT samples per connection. */
    public static final long DEFAULT_TCP_RTT_INTERVAL_MS = 10_000;

    /**
     * Checks every field.
     */
    public RelayConfig
    {
        if (sendQueueDepth < 1 || Integer.bitCount(sendQueueDepth) != 1)
        {
            throw new IllegalArgumentException("sendQueueDepth must be a power of two, sendQueueDepth=" + sendQueueDepth);
        }
        if (writeTimeoutMs < 0)
        {
            throw new IllegalArgumentException("writeTimeoutMs=" + writeTimeoutMs);
        }
        if (handshakeTimeoutMs <= 0 || keepAliveMs <= 0 || keepAliveJitterMs < 0)
        {
            throw new IllegalArgumentException("handshakeTimeoutMs=" + handshakeTimeoutMs + " keepAliveMs=" +
                keepAliveMs + " keepAliveJitterMs=" + keepAliveJitterMs);
        }
        if (inboxCapacity < 2 || Integer.bitCount(inboxCapacity) != 1)
        {
            throw new IllegalArgumentException("inboxCapacity must be a power of two, inboxCapacity=" + inboxCapacity);
        }
        if (pooledQueues < 0)
        {
            throw new IllegalArgumentException("pooledQueues=" + pooledQueues);
        }
        if (tcpRttIntervalMs < 0)
        {
            throw new IllegalArgumentException("tcpRttIntervalMs=" + tcpRttIntervalMs);
        }
    }

    /**
     * With TCP RTT samples every {@link #DEFAULT_TCP_RTT_INTERVAL_MS}.
     *
     * @param sendQueueDepth     depth of each per-client queue; a power of two.
     * @param writeTimeoutMs     how long a client's outbound buffer may stay full before it is closed; 0 disables.
     * @param handshakeTimeoutMs how long ClientInfo and admission may take.
     * @param keepAliveMs        base KeepAlive period.
     * @param keepAliveJitterMs  exclusive upper bound of the per-connection random jitter.
     * @param inboxCapacity      packets a loop's inbox holds before new ones are dropped; a power of two.
     * @param pooledQueues       spare queue rings a loop keeps.
     */
    public RelayConfig(final int sendQueueDepth, final long writeTimeoutMs, final long handshakeTimeoutMs,
        final long keepAliveMs, final long keepAliveJitterMs, final int inboxCapacity, final int pooledQueues)
    {
        this(sendQueueDepth, writeTimeoutMs, handshakeTimeoutMs, keepAliveMs, keepAliveJitterMs, inboxCapacity,
            pooledQueues, DEFAULT_TCP_RTT_INTERVAL_MS);
    }

    /**
     * @param writeTimeoutMs the {@code -tcp-write-timeout} value.
     * @return derper's defaults with the given write timeout.
     */
    public static RelayConfig defaults(final long writeTimeoutMs)
    {
        return new RelayConfig(
            ProtocolLimits.DEFAULT_SEND_QUEUE_DEPTH,
            writeTimeoutMs,
            ProtocolLimits.HANDSHAKE_TIMEOUT_MS,
            ProtocolLimits.KEEP_ALIVE_MS,
            ProtocolLimits.KEEP_ALIVE_JITTER_MS,
            16384,
            4096);
    }

    /**
     * @param timeoutMs how long ClientInfo and admission may take.
     * @return this configuration with that handshake timeout.
     */
    public RelayConfig withHandshakeTimeoutMs(final long timeoutMs)
    {
        return new RelayConfig(sendQueueDepth, writeTimeoutMs, timeoutMs, keepAliveMs, keepAliveJitterMs, inboxCapacity,
            pooledQueues, tcpRttIntervalMs);
    }

    /**
     * @param intervalMs how often each connection's TCP RTT is sampled; 0 disables.
     * @return this configuration with that period.
     */
    public RelayConfig withTcpRttIntervalMs(final long intervalMs)
    {
        return new RelayConfig(sendQueueDepth, writeTimeoutMs, handshakeTimeoutMs, keepAliveMs, keepAliveJitterMs,
            inboxCapacity, pooledQueues, intervalMs);
    }
}
