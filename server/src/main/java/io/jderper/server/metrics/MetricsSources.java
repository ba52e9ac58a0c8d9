package io.jderper.server.metrics;

import io.jderper.core.router.RelayMetrics;
import io.jderper.core.router.Router;
import io.jderper.stun.server.StunCounters;

import java.util.Optional;

/**
 * Where the exported metrics are read from. Everything here is counted by the relay whether or not it is exported;
 * the exporter only reads it at scrape time.
 *
 * @param relay       the relay's counters and gauges.
 * @param router      key tables and queued bytes (read under the control-plane lock, once per scrape).
 * @param stun        the STUN server's counters, if it runs.
 * @param version     jderper's version.
 * @param tlsProvider the TLS engine serving the main listener ({@code none} for plain HTTP).
 * @param transport   the I/O transport: {@code io_uring}, {@code epoll} or {@code nio}.
 */
public record MetricsSources(RelayMetrics relay, Router<?> router, Optional<StunCounters> stun, String version,
    String tlsProvider, String transport)
{
}
