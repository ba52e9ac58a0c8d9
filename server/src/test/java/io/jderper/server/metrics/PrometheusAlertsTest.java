package io.jderper.server.metrics;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import org.junit.jupiter.api.Test;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The alerting rules in deploy/prometheus are well formed and ask only for series that {@code /metrics} serves.
 */
class PrometheusAlertsTest
{
    private static final Path RULES = Path.of("..", "deploy", "prometheus", "jderper-alerts.yml");
    /** A metric name followed by its label selector, as every rule writes it. */
    private static final Pattern SELECTED = Pattern.compile("([a-zA-Z_:][a-zA-Z0-9_:]*)\\{");
    /** Series Prometheus makes itself for every target. */
    private static final Set<String> SYNTHETIC = Set.of("up");

    @Test
    void shouldBeWellFormedAndAskOnlyForServedSeries() throws Exception
    {
        final JsonNode groups = new ObjectMapper(new YAMLFactory()).readTree(RULES.toFile()).path("groups");
        assertThat(groups.isArray() && !groups.isEmpty()).as("a groups list").isTrue();
        final List<String> alerts = new ArrayList<>();
        final Set<String> queried = new TreeSet<>();
        for (final JsonNode group : groups)
        {
            for (final JsonNode rule : group.path("rules"))
            {
                final String name = rule.path("alert").asText();
                assertThat(name).as("every rule is an alert with a name").isNotEmpty();
                assertThat(rule.path("expr").asText()).as(name + "'s expression").isNotBlank();
                assertThat(rule.path("labels").path("severity").asText()).as(name + "'s severity")
                    .isIn("critical", "warning", "info");
                assertThat(rule.path("annotations").path("summary").asText()).as(name + "'s summary").isNotBlank();
                final Matcher matcher = SELECTED.matcher(rule.path("expr").asText());
                while (matcher.find())
                {
                    queried.add(matcher.group(1));
                }
                alerts.add(name);
            }
        }
        assertThat(alerts).doesNotHaveDuplicates().contains("JderperDown", "JderperAdmissionFailingOpen");
        queried.removeAll(SYNTHETIC);
        assertThat(queried).as("the rules' series were found").contains("derp_packets_dropped_total",
            "jderper_admission_fail_open_total", "process_open_fds");

        assertThat(GrafanaDashboardTest.servedSeriesNames()).containsAll(queried);
    }
}
