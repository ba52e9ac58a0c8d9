package io.jderper.server.metrics;

import io.jderper.core.admission.DenialReason;
import io.jderper.core.protocol.Violation;
import io.jderper.core.router.BootstrapDnsCounters;
import io.jderper.core.router.DropReason;
import io.jderper.core.router.RelayMetrics;
import io.jderper.core.router.Router;
import io.jderper.core.router.TcpRtt;
import io.jderper.core.router.TlsVersion;
import io.jderper.stun.server.StunCounters;

import java.lang.management.ManagementFactory;
import java.lang.management.OperatingSystemMXBean;
import java.lang.management.RuntimeMXBean;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.LongAdder;
import java.util.function.LongSupplier;

/**
 * The families jderper exports: derper's names one to one where derper has the metric (spec §4.10), with derper's
 * label values where ours match and our extra drop reasons beside them, then jderper's own under {@code jderper_}.
 */
public final class RelayMetricFamilies
{
    private static final List<String> REASON_KIND = List.of("reason", "kind");
    private static final double NANOS_PER_SECOND = 1e9;
    private static final long MILLIS_PER_SECOND = 1000;
    /** derper's {@code version} metric names the binary; ours is jderper. */
    private static final String BINARY = "jderper";

    private RelayMetricFamilies()
    {
    }

    /**
     * @param sources where the values are read from.
     * @return every family, in a stable order.
     */
    public static List<MetricFamily> of(final MetricsSources sources)
    {
        final List<MetricFamily> families = new ArrayList<>();
        derpGauges(families, sources.relay(), sources.router());
        derpCounters(families, sources.relay());
        drops(families, sources.relay());
        sources.stun().ifPresent(stun -> stun(families, stun));
        tls(families, sources.relay());
        tcpRtt(families, sources.relay());
        bootstrapDns(families, sources.relay().bootstrapDns);
        process(families, sources.version());
        jderper(families, sources);
        return List.copyOf(families);
    }

    private static void derpGauges(final List<MetricFamily> families, final RelayMetrics relay, final Router<?> router)
    {
        gauge(families, "derp_current_connections", "Local client connections past the handshake.",
            relay.currentConnections);
        gauge(families, "derp_current_home_connections", "Connections whose client says this is its home DERP.",
            relay.currentHomeConnections);
        gauge(families, "derp_current_notideal_connections", "Connections that sent an Ideal-Node header.",
            relay.currentNotIdealConnections);
        gauge(families, "derp_current_dup_client_keys", "Keys with more than one connection.",
            relay.currentDupClientKeys);
        gauge(families, "derp_current_dup_client_conns", "Connections of keys with more than one connection.",
            relay.currentDupClientConns);
        gauge(families, "derp_watchers", "Mesh peers watching this node's connections.", relay.watchers);
        families.add(single("derp_clients_local", "Keys connected to this node.", false, router::localKeyCount));
        families.add(single("derp_clients_remote", "Keys reachable only through mesh peers.", false,
            router::remoteOnlyKeyCount));
        families.add(single("derp_clients_total", "Keys known in the region: local and mesh-only.", false,
            () -> (long)router.localKeyCount() + router.remoteOnlyKeyCount()));
        final OperatingSystemMXBean os = ManagementFactory.getOperatingSystemMXBean();
        if (os instanceof final com.sun.management.UnixOperatingSystemMXBean unix)
        {
            families.add(single("derp_current_file_descriptors", "File descriptors open in the process.", false,
                unix::getOpenFileDescriptorCount));
        }
        families.add(single("derp_rate_limit_per_client_bytes_per_second",
            "Per-client receive rate limit in force (0: none).", false,
            () -> router.receiveRateLimit().bytesPerSecond()));
        families.add(single("derp_rate_limit_per_client_burst_bytes", "Per-client receive burst in force.", false,
            () -> router.receiveRateLimit().burstBytes()));
    }

    private static void derpCounters(final List<MetricFamily> families, final RelayMetrics relay)
    {
        counter(families, "derp_accepts", "Connections that reached the DERP layer.", relay.accepts);
        counter(families, "derp_websocket_accepts", "Of those, connections over WebSocket.", relay.websocketAccepts);
        counter(families, "derp_packets_received", "SendPacket frames received.", relay.packetsReceived);
        counter(families, "derp_bytes_received", "Packet bytes received in SendPacket frames.", relay.bytesReceived);
        counter(families, "derp_packets_sent", "RecvPacket frames written.", relay.packetsSent);
        counter(families, "derp_bytes_sent", "Packet bytes written in RecvPacket frames.", relay.bytesSent);
        final List<MetricFamily.Series> kinds = new ArrayList<>();
        for (final int kind : new int[] {RelayMetrics.KIND_DISCO, RelayMetrics.KIND_OTHER})
        {
            kinds.add(new MetricFamily.Series(List.of(RelayMetrics.kindLabel(kind)),
                relay.packetsReceivedKind[kind]::sum));
        }
        families.add(new MetricFamily.Scalar("derp_packets_received_kind", "SendPacket frames received, by kind.",
            true, List.of("kind"), kinds));
        counter(families, "derp_got_ping", "Ping frames received.", relay.gotPing);
        counter(families, "derp_sent_pong", "Pong frames written.", relay.sentPong);
        counter(families, "derp_peer_gone_disconnected_frames", "PeerGone(Disconnected) frames written.",
            relay.peerGoneDisconnectedFrames);
        counter(families, "derp_peer_gone_not_here_frames", "PeerGone(NotHere) frames written.",
            relay.peerGoneNotHereFrames);
        counter(families, "derp_unknown_frames", "Frames of unknown type skipped.", relay.unknownFrames);
        counter(families, "derp_home_moves_in", "Clients that made this their home DERP after their first 5 s.",
            relay.homeMovesIn);
        counter(families, "derp_home_moves_out", "Clients that moved their home DERP away after their first 5 s.",
            relay.homeMovesOut);
        counter(families, "derp_total_dup_client_conns", "Duplicate connections of a key ever seen.",
            relay.totalDupClientConns);
        counter(families, "derp_sclient_write_timeouts", "Connections closed because a write did not complete in time.",
            relay.writeTimeouts);
        counter(families, "derp_packets_forwarded_out", "SendPackets handed to a mesh peer.", relay.packetsForwardedOut);
        counter(families, "derp_packets_forwarded_in", "ForwardPackets received from mesh peers.",
            relay.packetsForwardedIn);
        counter(families, "derp_multiforwarder_created", "Keys that gained a second mesh route.",
            relay.multiForwarderCreated);
        counter(families, "derp_multiforwarder_deleted", "Keys that went back to one mesh route.",
            relay.multiForwarderDeleted);
        counter(families, "derp_packet_forwarder_delete_other_value",
            "Removals of a mesh route that was not registered.", relay.packetForwarderDeleteOtherValue);
        counter(families, "derp_rate_limit_per_client_waited", "Frames that waited for the receive rate limit.",
            relay.rateLimitWaited);
        counter(families, "tls_listener_accepted_connections", "Connections the main listener let in.",
            relay.tlsListenerAccepted);
        counter(families, "tls_listener_rejected_connections", "Connections closed by the accept rate limit.",
            relay.tlsListenerRejected);
    }

    private static void drops(final List<MetricFamily> families, final RelayMetrics relay)
    {
        final List<MetricFamily.Series> packets = new ArrayList<>();
        final List<MetricFamily.Series> bytes = new ArrayList<>();
        for (final DropReason reason : DropReason.values())
        {
            for (final int kind : new int[] {RelayMetrics.KIND_DISCO, RelayMetrics.KIND_OTHER})
            {
                final List<String> labels = List.of(reason.label(), RelayMetrics.kindLabel(kind));
                packets.add(new MetricFamily.Series(labels, () -> relay.packetsDropped(reason, kind)));
                bytes.add(new MetricFamily.Series(labels, () -> relay.bytesDropped(reason, kind)));
            }
        }
        families.add(new MetricFamily.Scalar("derp_packets_dropped", "Packets not delivered, by reason and kind.",
            true, REASON_KIND, packets));
        families.add(new MetricFamily.Scalar("derp_bytes_dropped", "Packet bytes not delivered, by reason and kind.",
            true, REASON_KIND, bytes));
    }

    private static void stun(final List<MetricFamily> families, final StunCounters stun)
    {
        // derper's dispositions: a reply sent, a datagram not answered, a failed receive, a reply the kernel refused.
        families.add(new MetricFamily.Scalar("stun_requests", "STUN datagrams by what became of them.", true,
            List.of("disposition"), List.of(
                new MetricFamily.Series(List.of("success"), stun.replies::sum),
                new MetricFamily.Series(List.of("not_stun"), stun.ignored::sum),
                new MetricFamily.Series(List.of("read_error"), stun.readErrors::sum),
                new MetricFamily.Series(List.of("write_error"), stun.writeErrors::sum))));
        families.add(new MetricFamily.Scalar("stun_addrfamily", "Answered STUN requests by address family.", true,
            List.of("family"), List.of(
                new MetricFamily.Series(List.of("ipv4"), stun.ipv4::sum),
                new MetricFamily.Series(List.of("ipv6"), stun.ipv6::sum))));
        counter(families, "jderper_stun_datagrams", "STUN datagrams received, answered or not.", stun.datagrams);
        counter(families, "jderper_stun_truncated",
            "STUN datagrams longer than the receive buffer (counted as not_stun too).", stun.truncated);
    }

    /**
     * derper's per-version TLS figures. derper counts each HTTP request over TLS and holds the gauge while it is
     * served; jderper counts each connection at its handshake and holds the gauge until the close, which is the same
     * for {@code /derp} (one request for the connection's life). Every version's series exists from the start.
     */
    private static void tls(final List<MetricFamily> families, final RelayMetrics relay)
    {
        final List<MetricFamily.Series> handshakes = new ArrayList<>();
        final List<MetricFamily.Series> open = new ArrayList<>();
        for (final TlsVersion version : TlsVersion.values())
        {
            handshakes.add(new MetricFamily.Series(List.of(version.label()), () -> relay.tlsHandshakes(version)));
            open.add(new MetricFamily.Series(List.of(version.label()), () -> relay.tlsOpen(version)));
        }
        families.add(new MetricFamily.Scalar("derper_tls_request_version",
            "TLS connections by negotiated version, counted once per connection at the handshake (derper counts " +
                "each HTTP request over TLS; a /derp connection is one request either way).", true,
            List.of("version"), handshakes));
        families.add(new MetricFamily.Scalar("derper_tls_active_version",
            "TLS connections open now by negotiated version, from the handshake to the close (derper: HTTP " +
                "requests being served, which for /derp is the connection's life).", false, List.of("version"), open));
    }

    private static void tcpRtt(final List<MetricFamily> families, final RelayMetrics relay)
    {
        final List<MetricFamily.Series> samples = new ArrayList<>();
        for (final TcpRtt label : TcpRtt.values())
        {
            samples.add(new MetricFamily.Series(List.of(label.label()), () -> relay.tcpRtt(label)));
        }
        families.add(new MetricFamily.Scalar("derp_tcp_rtt",
            "TCP round-trip-time samples of the connections, one per connection every 10 s, by the smallest bound " +
                "at or above the kernel's smoothed RTT; non-tcp and error count connections whose RTT cannot be " +
                "read, once each (TS_DERP_DISABLE_RTT_STATS turns the samples off).", true, List.of("le"), samples));
    }

    private static void bootstrapDns(final List<MetricFamily> families, final BootstrapDnsCounters dns)
    {
        counter(families, "bootstrap_dns_requests", "/bootstrap-dns requests.", dns.requests);
        counter(families, "bootstrap_dns_published_hits",
            "?q= names among -bootstrap-dns-names, answered with their addresses.", dns.publishedHits);
        counter(families, "bootstrap_dns_published_misses",
            "?q= names among -bootstrap-dns-names that never resolved (derper forgets a name whose last lookup " +
                "failed and counts it as an unpublished miss; jderper keeps its previous addresses).",
            dns.publishedMisses);
        counter(families, "bootstrap_dns_unpublished_hits",
            "?q= names among -unpublished-bootstrap-dns-names with addresses (answered with them alone, if the " +
                "client is within the name's rollout percentage).", dns.unpublishedHits);
        counter(families, "bootstrap_dns_unpublished_misses",
            "?q= names that neither list answers, or whose rollout left the client out.", dns.unpublishedMisses);
        counter(families, "bootstrap_dns_unpublished_percent_misses",
            "?q= unpublished names withheld from a client outside the rollout percentage of the name's TXT record " +
                "(-unpublished-bootstrap-dns-names name/txtname).", dns.unpublishedPercentMisses);
        families.add(single("bootstrap_dns_queried_domains",
            "Distinct ?q= names asked for, forgotten all at once past " + BootstrapDnsCounters.MAX_QUERIED_DOMAINS +
                " as derper does (a counter in derper's /debug/varz, though it falls at each clearing).", false,
            dns::queriedDomains));
    }

    /** derper's generic process figures, which the JVM's collectors export only under other names. */
    private static void process(final List<MetricFamily> families, final String version)
    {
        final RuntimeMXBean runtime = ManagementFactory.getRuntimeMXBean();
        final long startSeconds = runtime.getStartTime() / MILLIS_PER_SECOND;
        families.add(single("process_start_unix_time", "When the process started, in Unix seconds.", false,
            () -> startSeconds));
        families.add(single("uptime_sec", "Seconds since the process started.", true,
            () -> runtime.getUptime() / MILLIS_PER_SECOND));
        families.add(new MetricFamily.Scalar("version", "The running build, always 1 (derper's version metric).",
            false, List.of("version", "binary"), List.of(new MetricFamily.Series(List.of(version, BINARY), () -> 1))));
    }

    private static void jderper(final List<MetricFamily> families, final MetricsSources sources)
    {
        final RelayMetrics relay = sources.relay();
        final List<MetricFamily.Series> violations = new ArrayList<>();
        for (final Violation violation : Violation.values())
        {
            violations.add(new MetricFamily.Series(List.of(violation.label()), () -> relay.violations(violation)));
        }
        families.add(new MetricFamily.Scalar("jderper_connections_closed_by_violation",
            "Connections closed for bad or missing input, by kind.", true, List.of("violation"), violations));
        final List<MetricFamily.Series> denials = new ArrayList<>();
        for (final DenialReason reason : DenialReason.values())
        {
            denials.add(new MetricFamily.Series(List.of(reason.label()), () -> relay.admissionDenied(reason)));
        }
        families.add(new MetricFamily.Scalar("jderper_admission_denied", "Clients refused by admission, by reason.",
            true, List.of("reason"), denials));
        counter(families, "jderper_admission_fail_open",
            "Clients admitted because the admission URL could not be asked (-verify-client-url-fail-open).",
            relay.admissionFailOpen);
        families.add(new MetricFamily.Scalar("jderper_connections_refused",
            "Connections closed on arrival by a cap on open connections, by cap.", true, List.of("limit"), List.of(
                new MetricFamily.Series(List.of("max_connections"), relay.connectionsOverMax::sum),
                new MetricFamily.Series(List.of("max_connections_per_ip"), relay.connectionsOverMaxPerIp::sum))));
        counter(families, "jderper_keepalives_sent", "KeepAlive frames written.", relay.keepAlivesSent);
        counter(families, "jderper_restarting_frames", "Restarting frames written at a graceful shutdown.",
            relay.restartingFrames);
        families.add(single("jderper_queued_bytes", "Packet bytes waiting in every client's queues now.", false,
            sources.router()::queuedBytes));
        families.add(new MetricFamily.Histogram("jderper_queue_depth_packets",
            "Packets waiting per connection, sampled for every connection at each 250 ms housekeeping tick.",
            relay.queueDepth, 1));
        families.add(new MetricFamily.Histogram("jderper_handshake_seconds",
            "Time from the /derp upgrade to ServerInfo (ClientInfo and admission), one per connection.",
            relay.handshakeNanos, NANOS_PER_SECOND));
        families.add(new MetricFamily.Info("jderper", "The running jderper: version, TLS provider and I/O transport.",
            List.of("version", "tls_provider", "transport"),
            List.of(sources.version(), sources.tlsProvider(), sources.transport())));
    }

    private static MetricFamily.Scalar single(final String name, final String help, final boolean counter,
        final LongSupplier value)
    {
        return new MetricFamily.Scalar(name, help, counter, List.of(), List.of(new MetricFamily.Series(List.of(),
            value)));
    }

    private static void counter(final List<MetricFamily> families, final String name, final String help,
        final LongAdder adder)
    {
        families.add(single(name, help, true, adder::sum));
    }

    private static void gauge(final List<MetricFamily> families, final String name, final String help,
        final AtomicLong value)
    {
        families.add(single(name, help, false, value::get));
    }
}
