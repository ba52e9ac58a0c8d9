package io.jderper.core.router;

import io.jderper.core.protocol.Violation;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

class RelayMetricsTest
{
    @Test
    void shouldSummariseRelayedAndDroppedTrafficUnderDerpersNames()
    {
        final RelayMetrics metrics = new RelayMetrics();
        metrics.accepts.add(2);
        metrics.packetsReceived.add(5);
        metrics.bytesReceived.add(6_000);
        metrics.packetsSent.add(4);
        metrics.bytesSent.add(4_800);
        metrics.currentConnections.set(2);
        metrics.dropped(DropReason.UNKNOWN_DEST, true, 100);
        metrics.dropped(DropReason.QUEUE_HEAD, false, 1_200);
        metrics.dropped(DropReason.QUEUE_HEAD, false, 1_200);
        metrics.packetsForwardedIn.add(7);
        metrics.violation(Violation.FRAME_STALLED);

        assertThat(metrics.summary().split(" ")).contains(
            "accepts=2", "current_connections=2", "packets_received=5", "bytes_received=6000", "packets_sent=4",
            "bytes_sent=4800", "packets_dropped=3", "got_ping=0", "packets_forwarded_in=7", "packets_forwarded_out=0",
            "dropped_unknown_dest=1", "dropped_queue_head=2", "closed_frame_stalled=1");
        assertThat(metrics.summary()).as("only what happened").doesNotContain("dropped_queue_bytes", "closed_http");
    }

    @Test
    void shouldMapSessionProtocolsToDerpersTlsLabels()
    {
        assertThat(TlsVersion.ofProtocol("TLSv1.3").label()).isEqualTo("1.3");
        assertThat(TlsVersion.ofProtocol("TLSv1.2").label()).isEqualTo("1.2");
        assertThat(TlsVersion.ofProtocol("TLSv1.1")).isEqualTo(TlsVersion.UNKNOWN);
        assertThat(TlsVersion.ofProtocol("NONE")).isEqualTo(TlsVersion.UNKNOWN);
        assertThat(TlsVersion.ofProtocol("")).isEqualTo(TlsVersion.UNKNOWN);
        assertThat(TlsVersion.ofProtocol(null).label()).isEqualTo("unknown");
    }

    @Test
    void shouldCountTlsConnectionsByVersionAndKeepThoseOpen()
    {
        final RelayMetrics metrics = new RelayMetrics();
        metrics.tlsOpened(TlsVersion.TLS_1_3);
        metrics.tlsOpened(TlsVersion.TLS_1_3);
        metrics.tlsOpened(TlsVersion.TLS_1_2);
        metrics.tlsClosed(TlsVersion.TLS_1_3);

        assertThat(metrics.tlsHandshakes(TlsVersion.TLS_1_3)).isEqualTo(2);
        assertThat(metrics.tlsHandshakes(TlsVersion.TLS_1_2)).isEqualTo(1);
        assertThat(metrics.tlsHandshakes(TlsVersion.UNKNOWN)).isZero();
        assertThat(metrics.tlsOpen(TlsVersion.TLS_1_3)).isEqualTo(1);
        assertThat(metrics.tlsOpen(TlsVersion.TLS_1_2)).isEqualTo(1);

        metrics.tlsClosed(TlsVersion.TLS_1_2);

        assertThat(metrics.tlsOpen(TlsVersion.TLS_1_2)).isZero();
        assertThat(metrics.tlsHandshakes(TlsVersion.TLS_1_2)).as("cumulative").isEqualTo(1);
    }
}
