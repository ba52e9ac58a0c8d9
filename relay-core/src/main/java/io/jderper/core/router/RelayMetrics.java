package io.jderper.core.router;

import io.jderper.core.admission.DenialReason;
import io.jderper.core.protocol.Violation;

import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.LongAdder;

/**
 * Counters and gauges of the relay, named after derper's (spec §4.10). Hot-path counters are {@link LongAdder}s:
 * after warm-up an increment touches only a per-thread cell and allocates nothing.
 */
public final class RelayMetrics
{
    /** Index of the disco kind in per-kind arrays. */
    public static final int KIND_DISCO = 0;
    /** Index of the other (non-disco) kind in per-kind arrays. */
    public static final int KIND_OTHER = 1;
    private static final String[] KIND_LABELS = {"disco", "other"};

    /** Connections that reached the DERP layer. */
    public final LongAdder accepts = new LongAdder();
    /** Of those, connections that came over WebSocket (derper's {@code derp_websocket_accepts}). */
    public final LongAdder websocketAccepts = new LongAdder();
    /** SendPacket frames received. */
    public final LongAdder packetsReceived = new LongAdder();
    /** Packet bytes received in SendPacket frames. */
    public final LongAdder bytesReceived = new LongAdder();
    /** RecvPacket frames written. */
    public final LongAdder packetsSent = new LongAdder();
    /** Packet bytes written in RecvPacket frames. */
    public final LongAdder bytesSent = new LongAdder();
    /** Packets received by kind. */
    public final LongAdder[] packetsReceivedKind = {new LongAdder(), new LongAdder()};
    /** Pings received. */
    public final LongAdder gotPing = new LongAdder();
    /** Pongs written. */
    public final LongAdder sentPong = new LongAdder();
    /** PeerGone(Disconnected) frames written. */
    public final LongAdder peerGoneDisconnectedFrames = new LongAdder();
    /** PeerGone(NotHere) frames written. */
    public final LongAdder peerGoneNotHereFrames = new LongAdder();
    /** Connections closed because a write did not complete in time. */
    public final LongAdder writeTimeouts = new LongAdder();
    /** Frames of unknown type skipped. */
    public final LongAdder unknownFrames = new LongAdder();
    /** KeepAlive frames written. */
    public final LongAdder keepAlivesSent = new LongAdder();
    /** Restarting frames written at a graceful shutdown. */
    public final LongAdder restartingFrames = new LongAdder();
    /** Duplicate connections ever seen. */
    public final LongAdder totalDupClientConns = new LongAdder();
    /** Moves of a client's home to this server after its first 5 s. */
    public final LongAdder homeMovesIn = new LongAdder();
    /** Moves of a client's home away from this server after its first 5 s. */
    public final LongAdder homeMovesOut = new LongAdder();
    /** Local connections past the handshake. */
    public final AtomicLong currentConnections = new AtomicLong();
    /** Connections that said this is their home DERP. */
    public final AtomicLong currentHomeConnections = new AtomicLong();
    /** Connections that sent an Ideal-Node header. */
    public final AtomicLong currentNotIdealConnections = new AtomicLong();
    /** Keys with more than one connection. */
    public final AtomicLong currentDupClientKeys = new AtomicLong();
    /** Connections of keys with more than one connection. */
    public final AtomicLong currentDupClientConns = new AtomicLong();
    /** Mesh watchers. */
    public final AtomicLong watchers = new AtomicLong();
    /** SendPackets handed to a mesh peer because the destination is connected to another node. */
    public final LongAdder packetsForwardedOut = new LongAdder();
    /** ForwardPackets received from mesh peers. */
    public final LongAdder packetsForwardedIn = new LongAdder();
    /** Keys that gained a second mesh route. */
    public final LongAdder multiForwarderCreated = new LongAdder();
    /** Keys that went back to one mesh route. */
    public final LongAdder multiForwarderDeleted = new LongAdder();
    /** Mesh route removals for a route that was not registered (harmless repeats). */
    public final LongAdder packetForwarderDeleteOtherValue = new LongAdder();
    /** Keys reachable through a mesh peer. */
    public final AtomicLong remoteKeys = new AtomicLong();

    /** Connections the main listener let in (derper's {@code tls_listener_accepted_connections}). */
    public final LongAdder tlsListenerAccepted = new LongAdder();
    /** Connections closed by the accept rate limit (derper's {@code tls_listener_rejected_connections}). */
    public final LongAdder tlsListenerRejected = new LongAdder();
    /** Connections closed because the cap on open connections was reached. */
    public final LongAdder connectionsOverMax = new LongAdder();
    /** Connections closed because their IP address had the most connections allowed open. */
    public final LongAdder connectionsOverMaxPerIp = new LongAdder();
    /** Frames that had to wait for the receive rate limit (derper's {@code rate_limit_per_client_waited}). */
    public final LongAdder rateLimitWaited = new LongAdder();
    /** Clients admitted by fail-open while the admission URL could not be asked. */
    public final LongAdder admissionFailOpen = new LongAdder();
    /** What {@code /bootstrap-dns} was asked (derper's {@code bootstrap_dns_*}). */
    public final BootstrapDnsCounters bootstrapDns = new BootstrapDnsCounters();

    /**
     * Nanoseconds from the {@code /derp} upgrade to ServerInfo (ClientInfo, admission), one value per connection
     * that got that far. Bounds from 1 ms to 10 s, the default handshake timeout.
     */
    public final BucketCounts handshakeNanos = new BucketCounts(1_000_000L, 2_500_000L, 5_000_000L, 10_000_000L,
        25_000_000L, 50_000_000L, 100_000_000L, 250_000_000L, 500_000_000L, 1_000_000_000L, 2_500_000_000L,
        5_000_000_000L, 10_000_000_000L);
    /**
     * Packets waiting in each established connection's two queues, sampled for every connection at every
     * housekeeping tick (not per packet). At most twice the queue depth of 32.
     */
    public final BucketCounts queueDepth = new BucketCounts(0, 1, 2, 4, 8, 16, 32, 64);

    private final LongAdder[] admissionDenied = newAdders(DenialReason.values().length);
    private final LongAdder[][] packetsDropped = newGrid();
    private final LongAdder[][] bytesDropped = newGrid();
    private final LongAdder[] violations = new LongAdder[Violation.values().length];
    private final LongAdder[] tlsHandshakes = newAdders(TlsVersion.values().length);
    private final LongAdder[] tcpRtt = newAdders(TcpRtt.values().length);
    private final AtomicLong[] tlsOpen = new AtomicLong[TlsVersion.values().length];

    /**
     * Creates all series at zero, as derper pre-creates its drop counters.
     */
    public RelayMetrics()
    {
        for (int i = 0; i < violations.length; i++)
        {
            violations[i] = new LongAdder();
        }
        for (int i = 0; i < tlsOpen.length; i++)
        {
            tlsOpen[i] = new AtomicLong();
        }
    }

    private static LongAdder[] newAdders(final int count)
    {
        final LongAdder[] adders = new LongAdder[count];
        for (int i = 0; i < count; i++)
        {
            adders[i] = new LongAdder();
        }
        return adders;
    }

    private static LongAdder[][] newGrid()
    {
        final LongAdder[][] grid = new LongAdder[DropReason.values().length][2];
        for (final LongAdder[] row : grid)
        {
            row[KIND_DISCO] = new LongAdder();
            row[KIND_OTHER] = new LongAdder();
        }
        return grid;
    }

    /**
     * @param disco whether the packet is disco.
     * @return the kind index.
     */
    public static int kind(final boolean disco)
    {
        return disco ? KIND_DISCO : KIND_OTHER;
    }

    /**
     * @param kind a kind index.
     * @return its label.
     */
    public static String kindLabel(final int kind)
    {
        return KIND_LABELS[kind];
    }

    /**
     * Counts one dropped packet.
     *
     * @param reason      why.
     * @param disco       whether it was disco.
     * @param packetBytes its length.
     */
    public void dropped(final DropReason reason, final boolean disco, final int packetBytes)
    {
        final int kind = kind(disco);
        packetsDropped[reason.ordinal()][kind].increment();
        bytesDropped[reason.ordinal()][kind].add(packetBytes);
    }

    /**
     * @param reason a drop reason.
     * @param kind   a kind index.
     * @return packets dropped so far.
     */
    public long packetsDropped(final DropReason reason, final int kind)
    {
        return packetsDropped[reason.ordinal()][kind].sum();
    }

    /**
     * @param reason a drop reason.
     * @param kind   a kind index.
     * @return bytes dropped so far.
     */
    public long bytesDropped(final DropReason reason, final int kind)
    {
        return bytesDropped[reason.ordinal()][kind].sum();
    }

    /**
     * One line of the main counters under derper's names (spec §4.10, without the {@code derp_} prefix), for the
     * log when the server stops: enough to tell from a log alone how much was relayed and dropped.
     *
     * @return {@code name=value} pairs separated by spaces.
     */
    public String summary()
    {
        long dropped = 0;
        for (final LongAdder[] row : packetsDropped)
        {
            dropped += row[KIND_DISCO].sum() + row[KIND_OTHER].sum();
        }
        return "accepts=" + accepts.sum() + " websocket_accepts=" + websocketAccepts.sum() +
            " current_connections=" + currentConnections.get() +
            " packets_received=" + packetsReceived.sum() + " bytes_received=" + bytesReceived.sum() +
            " packets_sent=" + packetsSent.sum() + " bytes_sent=" + bytesSent.sum() +
            " packets_dropped=" + dropped +
            " got_ping=" + gotPing.sum() + " sent_pong=" + sentPong.sum() +
            " peer_gone_disconnected_frames=" + peerGoneDisconnectedFrames.sum() +
            " peer_gone_not_here_frames=" + peerGoneNotHereFrames.sum() +
            " packets_forwarded_out=" + packetsForwardedOut.sum() +
            " packets_forwarded_in=" + packetsForwardedIn.sum() +
            " sclient_write_timeouts=" + writeTimeouts.sum() + nonZeroBreakdown();
    }

    /**
     * The drops by reason and the connections closed by violation, those that happened: until the metrics are
     * served, the shutdown line is where an operator sees which limits were hit.
     */
    private String nonZeroBreakdown()
    {
        final StringBuilder out = new StringBuilder();
        for (final DropReason reason : DropReason.values())
        {
            final long packets = packetsDropped(reason, KIND_DISCO) + packetsDropped(reason, KIND_OTHER);
            if (packets > 0)
            {
                out.append(" dropped_").append(reason.label()).append('=').append(packets);
            }
        }
        for (final Violation violation : Violation.values())
        {
            final long closed = violations(violation);
            if (closed > 0)
            {
                out.append(" closed_").append(violation.label()).append('=').append(closed);
            }
        }
        return out.toString();
    }

    /**
     * Counts a TLS connection to the main listener whose handshake succeeded, open until {@link #tlsClosed} (derper's
     * {@code derper_tls_request_version} and {@code derper_tls_active_version}). Once per connection, never per
     * packet.
     *
     * @param version the version it negotiated.
     */
    public void tlsOpened(final TlsVersion version)
    {
        tlsHandshakes[version.ordinal()].increment();
        tlsOpen[version.ordinal()].incrementAndGet();
    }

    /**
     * @param version the version of a connection counted by {@link #tlsOpened} that has now closed.
     */
    public void tlsClosed(final TlsVersion version)
    {
        tlsOpen[version.ordinal()].decrementAndGet();
    }

    /**
     * Counts one TCP RTT sample, or a connection whose RTT cannot be read (derper's {@code derp_tcp_rtt}). Every ten
     * seconds per connection at most, on its loop's housekeeping tick: never on the packet path.
     *
     * @param label the sample's label.
     */
    public void countTcpRtt(final TcpRtt label)
    {
        tcpRtt[label.ordinal()].increment();
    }

    /**
     * @param label a label.
     * @return the samples counted under it.
     */
    public long tcpRtt(final TcpRtt label)
    {
        return tcpRtt[label.ordinal()].sum();
    }

    /**
     * @param version a TLS version.
     * @return connections that completed a handshake with it so far.
     */
    public long tlsHandshakes(final TlsVersion version)
    {
        return tlsHandshakes[version.ordinal()].sum();
    }

    /**
     * @param version a TLS version.
     * @return connections with it open now.
     */
    public long tlsOpen(final TlsVersion version)
    {
        return tlsOpen[version.ordinal()].get();
    }

    /**
     * @param reason why a client was refused.
     */
    public void countAdmissionDenied(final DenialReason reason)
    {
        admissionDenied[reason.ordinal()].increment();
    }

    /**
     * @param reason why clients were refused.
     * @return how many were refused for it.
     */
    public long admissionDenied(final DenialReason reason)
    {
        return admissionDenied[reason.ordinal()].sum();
    }

    /**
     * @param violation a kind of bad input.
     */
    public void violation(final Violation violation)
    {
        violations[violation.ordinal()].increment();
    }

    /**
     * @param violation a kind of bad input.
     * @return how many connections were closed for it.
     */
    public long violations(final Violation violation)
    {
        return violations[violation.ordinal()].sum();
    }
}
