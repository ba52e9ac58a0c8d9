package io.jderper.transport.http;

import static org.assertj.core.api.Assertions.assertThat;

import io.jderper.core.router.DropReason;
import io.jderper.core.router.RelayMetrics;
import io.netty.handler.codec.http.FullHttpResponse;
import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;
import java.util.List;

class StatusPageTest
{
    private static final long SECOND_NS = 1_000_000_000L;

    private final RelayMetrics metrics = new RelayMetrics();
    private final StatusPage page = new StatusPage(metrics, 0, () -> List.of(
        new StatusPage.MeshPeerStatus("derp.example.com via jderper-1.jderper:443", true),
        new StatusPage.MeshPeerStatus("<b>derp2</b>", false)), () -> "{\"Name\": \"900a\"}");

    @Test
    void shouldShowTheCountersWithTheirRawValues()
    {
        metrics.currentConnections.set(7);
        metrics.currentHomeConnections.set(3);
        metrics.packetsReceived.add(1000);
        metrics.packetsSent.add(990);
        metrics.bytesReceived.add(1_200_000);
        metrics.bytesSent.add(1_188_000);
        metrics.dropped(DropReason.UNKNOWN_DEST, false, 100);
        metrics.dropped(DropReason.QUEUE_HEAD, true, 100);
        metrics.dropped(DropReason.QUEUE_HEAD, false, 100);

        final String html = page.section(3723 * SECOND_NS);

        assertThat(html).contains("id=\"uptime\" data-value=\"3723\">1h 2m 3s<")
            .contains("id=\"connections\" data-value=\"7\">7<")
            .contains("id=\"home-connections\" data-value=\"3\">3<")
            .contains("id=\"packets-received\" data-value=\"1000\">")
            .contains("id=\"packets-sent\" data-value=\"990\">")
            .contains("id=\"bytes-sent\" data-value=\"1188000\">1.1 MiB<")
            .contains("id=\"drops\" data-value=\"3\">3 (")
            .contains("data-reason=\"unknown_dest\" data-value=\"1\"")
            .contains("data-reason=\"queue_head\" data-value=\"2\"")
            .contains("id=\"throughput\">measuring<");
    }

    @Test
    void shouldMeasureThroughputOverTheSamples()
    {
        page.sample(0);
        metrics.packetsSent.add(500);
        metrics.bytesSent.add(500_000);
        page.sample(10 * SECOND_NS);

        assertThat(page.section(10 * SECOND_NS)).contains("data-packets-per-second=\"50.0\">50.0 packets/s, " +
            "400.0 kbit/s over 10 s<");
    }

    @Test
    void shouldForgetSamplesOlderThanAMinute()
    {
        page.sample(0);
        metrics.packetsSent.add(1_000_000);
        for (int i = 1; i <= StatusPage.SAMPLES; i++)
        {
            page.sample(i * 5 * SECOND_NS);
        }

        assertThat(page.section(0)).as("the burst before the first sample kept is out of the window")
            .contains("data-packets-per-second=\"0.0\"");
    }

    @Test
    void shouldListMeshPeersAndTheMapEntryEscaped()
    {
        final String html = page.section(0);

        assertThat(html).contains("<ul id=\"mesh\" data-value=\"2\">")
            .contains("<li data-connected=\"true\">derp.example.com via jderper-1.jderper:443: connected</li>")
            .contains("<li data-connected=\"false\">&lt;b&gt;derp2&lt;/b&gt;: not connected</li>")
            .contains("<pre id=\"derp-map-entry\">{&quot;Name&quot;: &quot;900a&quot;}</pre>");
    }

    @Test
    void shouldAddNothingWithoutAStatusAndOnlyToTheDefaultPage()
    {
        assertThat(StatusPage.NONE.section(0)).isEmpty();

        final String section = page.section(0);
        assertThat(body(HomePage.DEFAULT.response(true, true, section))).contains("Operator status")
            .contains("This is a");
        assertThat(body(HomePage.parse(HomePage.BLANK).response(true, true, section))).isEmpty();
        assertThat(body(HomePage.parse("https://example.com/").response(true, true, section))).isEmpty();
    }

    private static String body(final FullHttpResponse response)
    {
        try
        {
            return response.content().toString(StandardCharsets.UTF_8);
        }
        finally
        {
            response.release();
        }
    }
}
