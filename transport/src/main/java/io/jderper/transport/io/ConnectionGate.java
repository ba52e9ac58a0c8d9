package io.jderper.transport.io;

import io.jderper.core.router.RelayMetrics;
import io.netty.channel.Channel;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Lets an accepted connection in or closes it at once: derper's accept rate limit (a token bucket over all
 * accepts), then jderper's caps on connections open at once, in all and per source IP. Each refusal is counted; the
 * log says how many were refused at most once every {@link #LOG_INTERVAL_NS} ns, so a flood cannot flood the log.
 * Called from every event loop.
 */
public final class ConnectionGate
{
    static final long LOG_INTERVAL_NS = 10_000_000_000L;
    private static final Logger LOG = LoggerFactory.getLogger(ConnectionGate.class);

    private final ConnectionLimits limits;
    private final RelayMetrics metrics;
    private final AtomicInteger open = new AtomicInteger();
    private final ConcurrentHashMap<InetAddress, AtomicInteger> openByIp = new ConcurrentHashMap<>();
    private final AtomicLong nextLogNs = new AtomicLong(System.nanoTime());
    private final AtomicLong refusedSinceLog = new AtomicLong();
    /** Guarded by this. */
    private double acceptTokens;
    /** Guarded by this. */
    private long acceptRefillNs = System.nanoTime();

    /**
     * @param limits  the bounds.
     * @param metrics where accepts and refusals are counted.
     */
    public ConnectionGate(final ConnectionLimits limits, final RelayMetrics metrics)
    {
        this.limits = limits;
        this.metrics = metrics;
        this.acceptTokens = limits.acceptBurst();
    }

    /**
     * Decides about a connection the listener just accepted; a refused one is closed.
     *
     * @param channel the connection.
     * @return whether it may go on.
     */
    public boolean admit(final Channel channel)
    {
        if (!takeAcceptToken())
        {
            metrics.tlsListenerRejected.increment();
            refuse(channel, "the accept rate limit (-accept-connection-limit)");
            return false;
        }
        metrics.tlsListenerAccepted.increment();
        if (limits.maxConnections() > 0 && open.incrementAndGet() > limits.maxConnections())
        {
            open.decrementAndGet();
            metrics.connectionsOverMax.increment();
            refuse(channel, "the cap on open connections (-max-connections " + limits.maxConnections() + ")");
            return false;
        }
        final InetAddress ip = channel.remoteAddress() instanceof InetSocketAddress address ? address.getAddress() :
            null;
        if (limits.maxConnectionsPerIp() > 0 && null != ip &&
            openByIp.computeIfAbsent(ip, any -> new AtomicInteger()).incrementAndGet() > limits.maxConnectionsPerIp())
        {
            release(ip);
            if (limits.maxConnections() > 0)
            {
                open.decrementAndGet();
            }
            metrics.connectionsOverMaxPerIp.increment();
            refuse(channel, "the cap on open connections per IP address (-max-connections-per-ip " +
                limits.maxConnectionsPerIp() + ")");
            return false;
        }
        if (limits.maxConnections() > 0 || (limits.maxConnectionsPerIp() > 0 && null != ip))
        {
            channel.closeFuture().addListener(closed ->
            {
                if (limits.maxConnections() > 0)
                {
                    open.decrementAndGet();
                }
                if (limits.maxConnectionsPerIp() > 0 && null != ip)
                {
                    release(ip);
                }
            });
        }
        return true;
    }

    private void release(final InetAddress ip)
    {
        // Drops the entry when the last connection of the address goes, so the map holds only open addresses.
        openByIp.computeIfPresent(ip, (any, count) -> 0 == count.decrementAndGet() ? null : count);
    }

    private synchronized boolean takeAcceptToken()
    {
        if (!limits.limitsAcceptRate())
        {
            return true;
        }
        final long nowNs = System.nanoTime();
        acceptTokens = Math.min(limits.acceptBurst(),
            acceptTokens + (nowNs - acceptRefillNs) * limits.acceptPerSecond() / 1e9);
        acceptRefillNs = nowNs;
        if (acceptTokens < 1)
        {
            return false;
        }
        acceptTokens -= 1;
        return true;
    }

    private void refuse(final Channel channel, final String bound)
    {
        channel.close();
        final long refused = refusedSinceLog.incrementAndGet();
        final long nowNs = System.nanoTime();
        final long next = nextLogNs.get();
        if (nowNs - next >= 0 && nextLogNs.compareAndSet(next, nowNs + LOG_INTERVAL_NS))
        {
            refusedSinceLog.addAndGet(-refused);
            LOG.warn("refused {} connection(s) in the last {} s, the latest from {} over {}", refused,
                LOG_INTERVAL_NS / 1_000_000_000L, channel.remoteAddress(), bound);
        }
    }

    /**
     * @return connections counted as open (only while a cap is set).
     */
    public int openConnections()
    {
        return open.get();
    }

    /**
     * @return addresses with connections counted as open (only while a per-IP cap is set).
     */
    public int openAddresses()
    {
        return openByIp.size();
    }
}
