package io.jderper.server.metrics;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.jderper.core.admission.AdmissionPolicy;
import io.jderper.core.handshake.ServerHandshake;
import io.jderper.core.key.NodePrivateKey;
import io.jderper.core.protocol.ProtocolLimits;
import io.jderper.core.router.RelayConfig;
import io.jderper.core.router.RelayMetrics;
import io.jderper.core.router.Router;
import io.jderper.stun.server.StunCounters;
import io.netty.buffer.ByteBuf;
import org.junit.jupiter.api.Test;

import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.SecureRandom;
import java.util.Optional;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The Grafana dashboard in deploy/grafana asks only for series that {@code /metrics} serves.
 */
class GrafanaDashboardTest
{
    private static final Path DASHBOARD = Path.of("..", "deploy", "grafana", "jderper.json");
    /** A metric name followed by its label selector, as every query of the dashboard writes it. */
    private static final Pattern SELECTED = Pattern.compile("([a-zA-Z_:][a-zA-Z0-9_:]*)\\{");
    private static final Pattern LABEL_VALUES = Pattern.compile("label_values\\(([a-zA-Z_:][a-zA-Z0-9_:]*)");

    @Test
    void shouldQueryOnlyServedSeries() throws Exception
    {
        final JsonNode dashboard = new ObjectMapper().readTree(Files.readString(DASHBOARD));
        final Set<String> queried = new TreeSet<>();
        dashboard.findValues("expr").forEach(expr -> collect(SELECTED, expr.asText(), queried));
        dashboard.findValues("definition").forEach(query -> collect(LABEL_VALUES, query.asText(), queried));
        assertThat(queried).as("the dashboard's queries were found").hasSizeGreaterThan(30)
            .contains("derp_packets_dropped_total", "jvm_gc_collection_seconds_sum", "stun_requests_total");

        assertThat(servedSeriesNames()).containsAll(queried);
    }

    private static void collect(final Pattern pattern, final String text, final Set<String> into)
    {
        final Matcher matcher = pattern.matcher(text);
        while (matcher.find())
        {
            into.add(matcher.group(1));
        }
    }

    /**
     * @return the names of the series a fresh relay's {@code /metrics} serves.
     */
    static Set<String> servedSeriesNames() throws Exception
    {
        final SecureRandom random = new SecureRandom();
        final RelayMetrics metrics = new RelayMetrics();
        final Router<ByteBuf> router = new Router<>(new ServerHandshake(NodePrivateKey.generate(random),
            Optional.empty(), random), AdmissionPolicy.ADMIT_ALL,
            RelayConfig.defaults(ProtocolLimits.DEFAULT_WRITE_TIMEOUT_MS), metrics);
        final Set<String> names = new TreeSet<>();
        try (MetricsServer server = MetricsServer.start(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0),
            new MetricsSources(metrics, router, Optional.of(new StunCounters()), "test", "openssl", "epoll"));
            HttpClient http = HttpClient.newHttpClient())
        {
            final String page = http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" +
                server.address().getPort() + MetricsServer.METRICS_PATH)).build(),
                HttpResponse.BodyHandlers.ofString()).body();
            for (final String line : page.split("\n"))
            {
                if (!line.isEmpty() && !line.startsWith("#"))
                {
                    names.add(line.split("[{ ]", 2)[0]);
                }
            }
        }
        return names;
    }
}
