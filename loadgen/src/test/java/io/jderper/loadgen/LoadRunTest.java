package io.jderper.loadgen;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Short runs of every scenario against a jderper relay in this JVM.
 */
class LoadRunTest
{
    @TempDir
    static Path certdir;
    private static TestRelay relay;

    @BeforeAll
    static void startRelay() throws Exception
    {
        relay = new TestRelay(certdir);
    }

    @AfterAll
    static void stopRelay()
    {
        relay.close();
    }

    @Test
    void shouldDeliverEveryPacketOfFiftyPairedClientsInTheLosslessProfile(@TempDir final Path out) throws Exception
    {
        final LoadGenRun run = run(out, "--clients", "50", "--scenario", "pairs", "--duration", "3s",
            "--server-pid", Long.toString(ProcessHandle.current().pid()));
        assertThat(run.code()).as(run.output()).isZero();
        final JsonNode summary = summary(out);
        assertThat(summary.at("/result/ok").asBoolean()).isTrue();
        assertThat(summary.at("/settings/scenario").asText()).isEqualTo("pairs");
        assertThat(summary.at("/settings/window").asInt()).isEqualTo(16);
        assertThat(summary.at("/settings/lossless").asBoolean()).isTrue();
        assertThat(summary.at("/commandLine").isArray()).isTrue();
        assertThat(summary.at("/connect/succeeded").asLong()).isEqualTo(50);
        assertThat(summary.at("/connect/failed").asLong()).isZero();
        assertThat(summary.at("/connect/timeUs/p50").asDouble()).isPositive();
        final long sent = summary.at("/traffic/sent").asLong();
        assertThat(sent).isPositive();
        assertThat(summary.at("/traffic/delivered").asLong()).isEqualTo(sent);
        assertThat(summary.at("/traffic/lost").asLong()).isZero();
        assertThat(summary.at("/traffic/flows").asInt()).isEqualTo(25);
        assertThat(summary.at("/traffic/latencyUs/count").asLong()).isEqualTo(sent);
        for (final String p : List.of("p50", "p90", "p99", "p99_9", "max"))
        {
            assertThat(summary.at("/traffic/latencyUs/" + p).asDouble()).as(p).isPositive();
        }
        assertThat(summary.at("/traffic/packetsPerSecond").asDouble()).isPositive();
        assertThat(summary.at("/traffic/gbitPerSecond").asDouble()).isPositive();
        assertThat(summary.at("/errors/total").asLong()).isZero();
        assertThat(summary.at("/loadgen/cpuSeconds").asDouble()).isPositive();
        assertThat(summary.at("/server/cpuSecondsScenario").asDouble()).isPositive();
        assertThat(summary.at("/server/cpuSecondsPerMillionPackets").asDouble()).isPositive();
        assertThat(summary.at("/server/rssKiBMax").asLong()).isPositive();
        assertThat(summary.at("/timeSeries").size()).isGreaterThanOrEqualTo(3);
        assertThat(Files.size(out.resolve(Report.LATENCY_PNG))).isPositive();
        assertThat(Files.size(out.resolve(Report.THROUGHPUT_PNG))).isPositive();
        assertThat(Files.readAllLines(out.resolve(Report.LATENCY_HLOG))).anyMatch(l -> l.startsWith("#[StartTime:"))
            .anyMatch(l -> !l.startsWith("#") && !l.startsWith("\"") && !l.isBlank());
        assertThat(run.stdout()).contains("loadgen: OK");
    }

    @Test
    void shouldMixDiscoAndDataPacketsInBothDirections(@TempDir final Path out) throws Exception
    {
        final LoadGenRun run = run(out, "--clients", "10", "--scenario", "pairs", "--bidirectional", "--duration", "2s",
            "--disco-fraction", "0.3", "--packet-size", "200", "--rate", "500");
        assertThat(run.code()).as(run.output()).isZero();
        final JsonNode summary = summary(out);
        assertThat(summary.at("/traffic/flows").asInt()).isEqualTo(10);
        assertThat(summary.at("/traffic/delivered").asLong()).isEqualTo(summary.at("/traffic/sent").asLong());
        // 10 senders at 500 packets/s for 2 s: about 10 x 1001 at most; less on a busy machine.
        assertThat(summary.at("/traffic/sent").asLong()).isBetween(1_000L, 10_100L);
    }

    @Test
    void shouldFanInWithoutLossInTheLosslessProfile(@TempDir final Path out) throws Exception
    {
        final LoadGenRun run = run(out, "--clients", "12", "--scenario", "fanin", "--fanin-senders", "3", "--window",
            "8", "--duration", "2s");
        assertThat(run.code()).as(run.output()).isZero();
        final JsonNode summary = summary(out);
        assertThat(summary.at("/traffic/flows").asInt()).isEqualTo(9);
        assertThat(summary.at("/settings/failOnLoss").asBoolean()).isTrue();
        assertThat(summary.at("/traffic/lost").asLong()).isZero();
    }

    @Test
    void shouldHoldIdleConnectionsAndAnswerPings(@TempDir final Path out) throws Exception
    {
        final LoadGenRun run = run(out, "--clients", "20", "--scenario", "idle", "--hold", "2s", "--ping-interval",
            "500ms");
        assertThat(run.code()).as(run.output()).isZero();
        final JsonNode summary = summary(out);
        assertThat(summary.at("/connect/succeeded").asLong()).isEqualTo(20);
        assertThat(summary.at("/idle/pings").asLong()).isGreaterThanOrEqualTo(40);
        assertThat(summary.at("/idle/pongs").asLong()).isEqualTo(summary.at("/idle/pings").asLong());
        assertThat(summary.at("/idle/rttUs/p99").asDouble()).isPositive();
        assertThat(summary.at("/traffic/sent").asLong()).isZero();
        assertThat(summary.at("/errors/total").asLong()).isZero();
        assertThat(Files.size(out.resolve(Report.LATENCY_PNG))).isPositive();
        assertThat(Files.size(out.resolve(Report.THROUGHPUT_PNG))).isPositive();
    }

    @Test
    void shouldChurnConnectionsAndMeasureReconnects(@TempDir final Path out) throws Exception
    {
        final LoadGenRun run = run(out, "--clients", "20", "--scenario", "churn", "--churn-rate", "20", "--duration",
            "2s");
        assertThat(run.code()).as(run.output()).isZero();
        final JsonNode summary = summary(out);
        final long cycles = summary.at("/churn/cycles").asLong();
        // 20 a second for 2 s: at most 40; fewer only if reconnects lag on a busy machine.
        assertThat(cycles).isBetween(10L, 40L);
        assertThat(summary.at("/churn/reconnected").asLong()).isEqualTo(cycles);
        assertThat(summary.at("/churn/connectTimeUs/p50").asDouble()).isPositive();
        assertThat(summary.at("/churn/handshakesPerSecond").asDouble()).isPositive();
        assertThat(summary.at("/errors/total").asLong()).isZero();
    }

    @Test
    void shouldChurnPairsWithTrafficWithoutLosingPackets(@TempDir final Path out) throws Exception
    {
        final LoadGenRun run = run(out, "--clients", "20", "--scenario", "churn", "--churn-traffic", "--churn-rate",
            "20", "--rate", "200", "--window", "16", "--duration", "3s");
        assertThat(run.code()).as(run.output()).isZero();
        final JsonNode summary = summary(out);
        final long cycles = summary.at("/churn/cycles").asLong();
        assertThat(summary.at("/churn/pairCycles").asLong()).isPositive();
        assertThat(cycles).isEqualTo(2 * summary.at("/churn/pairCycles").asLong());
        assertThat(summary.at("/churn/reconnected").asLong()).isEqualTo(cycles);
        assertThat(summary.at("/churn/drainTimeouts").asLong()).isZero();
        assertThat(summary.at("/settings/lossless").asBoolean()).isTrue();
        assertThat(summary.at("/traffic/delivered").asLong()).isPositive();
        assertThat(summary.at("/traffic/lost").asLong()).isZero();
        assertThat(summary.at("/errors/total").asLong()).isZero();
    }

    @Test
    void shouldFailWithOneLineWhenTheServerIsUnreachable(@TempDir final Path out) throws Exception
    {
        final int port;
        try (ServerSocket socket = new ServerSocket(0))
        {
            port = socket.getLocalPort();
        }
        final LoadGenRun run = runAt("https://127.0.0.1:" + port + "/derp", out, "--clients", "10", "--duration", "1s");
        assertThat(run.code()).isEqualTo(1);
        assertThat(run.stderr().lines().toList()).as(run.output()).hasSize(1).first().asString()
            .startsWith("loadgen: FAILED: cannot reach https://127.0.0.1:" + port + "/derp: ")
            .containsIgnoringCase("refused");
    }

    private static JsonNode summary(final Path out) throws Exception
    {
        return new ObjectMapper().readTree(out.resolve(Report.SUMMARY_JSON).toFile());
    }

    private static LoadGenRun run(final Path out, final String... args)
    {
        return runAt(relay.url(), out, args);
    }

    private static LoadGenRun runAt(final String url, final Path out, final String... args)
    {
        final List<String> all = new ArrayList<>(List.of("--url", url, "--out", out.toString(), "--threads", "2",
            "--seed", "7"));
        if (url.startsWith("https"))
        {
            all.addAll(List.of("--cert-name", relay.pin()));
        }
        all.addAll(List.of(args));
        return LoadGenRun.of(all);
    }
}
