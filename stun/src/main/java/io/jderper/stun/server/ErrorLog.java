package io.jderper.stun.server;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Logs socket errors without flooding: the first one, then at most one line per interval saying how many were
 * suppressed. Used only on the serving thread.
 */
final class ErrorLog
{
    private static final Logger LOG = LoggerFactory.getLogger(StunServer.class);
    private static final long INTERVAL_NS = 10_000_000_000L;

    private long lastLogNs;
    private long suppressed;
    private boolean logged;

    void log(final String operation, final String reason)
    {
        final long now = System.nanoTime();
        if (logged && now - lastLogNs < INTERVAL_NS)
        {
            suppressed++;
            return;
        }
        if (suppressed > 0)
        {
            LOG.warn("STUN {} failed: {} ({} more errors in the last {} s not logged)", operation, reason,
                suppressed, (now - lastLogNs) / 1_000_000_000L);
        }
        else
        {
            LOG.warn("STUN {} failed: {}", operation, reason);
        }
        logged = true;
        lastLogNs = now;
        suppressed = 0;
    }
}
