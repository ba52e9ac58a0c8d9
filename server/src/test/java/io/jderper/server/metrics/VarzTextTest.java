package io.jderper.server.metrics;

import static org.assertj.core.api.Assertions.assertThat;

import io.jderper.core.router.BucketCounts;
import org.junit.jupiter.api.Test;

import java.util.List;

class VarzTextTest
{
    @Test
    void shouldWriteDerpersTextFormat()
    {
        final BucketCounts latency = new BucketCounts(1_000_000L, 2_500_000L);
        latency.record(500_000L);
        latency.record(2_000_000L);
        latency.record(9_000_000L);
        final List<MetricFamily> families = List.of(
            new MetricFamily.Scalar("derp_accepts", "help is not written", true, List.of(),
                List.of(new MetricFamily.Series(List.of(), () -> 7))),
            new MetricFamily.Scalar("derp_packets_dropped", "", true, List.of("reason", "kind"), List.of(
                new MetricFamily.Series(List.of("unknown_dest", "disco"), () -> 0),
                new MetricFamily.Series(List.of("queue_head", "other"), () -> 3))),
            new MetricFamily.Scalar("derp_watchers", "", false, List.of(),
                List.of(new MetricFamily.Series(List.of(), () -> 1))),
            new MetricFamily.Histogram("jderper_handshake_seconds", "", latency, 1e9),
            new MetricFamily.Info("jderper", "", List.of("version", "odd"), List.of("1.0", "a\"b\\c\nd")));

        assertThat(VarzText.render(families)).isEqualTo("""
            # TYPE derp_accepts counter
            derp_accepts 7
            # TYPE derp_packets_dropped counter
            derp_packets_dropped{reason="unknown_dest",kind="disco"} 0
            derp_packets_dropped{reason="queue_head",kind="other"} 3
            # TYPE derp_watchers gauge
            derp_watchers 1
            # TYPE jderper_handshake_seconds histogram
            jderper_handshake_seconds_bucket{le="0.001"} 1
            jderper_handshake_seconds_bucket{le="0.0025"} 2
            jderper_handshake_seconds_bucket{le="+Inf"} 3
            jderper_handshake_seconds_sum 0.0115
            jderper_handshake_seconds_count 3
            # TYPE jderper_info gauge
            jderper_info{version="1.0",odd="a\\"b\\\\c\\nd"} 1
            """);
    }
}
