package io.jderper.loadgen;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine.ParameterException;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class LoadGenOptionsTest
{
    private static final String URL = "https://127.0.0.1:3340/derp";
    private static final String PIN = "sha256-raw:" + "ab".repeat(32);

    @Test
    void shouldApplyDefaults()
    {
        final LoadSettings s = LoadGen.parse("--url", URL, "--cert-name", PIN);
        assertThat(s.clients()).isEqualTo(100);
        assertThat(s.scenario()).isEqualTo(Scenario.PAIRS);
        assertThat(s.packetSize()).isEqualTo(1200);
        assertThat(s.window()).isEqualTo(16);
        assertThat(s.ratePerSender()).isZero();
        assertThat(s.duration()).isEqualTo(Duration.ofSeconds(30));
        assertThat(s.hold()).isEqualTo(Duration.ZERO);
        assertThat(s.connectConcurrency()).isEqualTo(256);
        assertThat(s.lossless()).isTrue();
        assertThat(s.failOnLoss()).isTrue();
        assertThat(s.maxErrorFraction()).isZero();
        assertThat(s.threads()).isEqualTo(Runtime.getRuntime().availableProcessors());
        assertThat(s.sourceAddresses()).containsExactly(address(2));
        assertThat(s.trust().toString()).isEqualTo(PIN);
        assertThat(s.commandLine()).containsExactly("--url", URL, "--cert-name", PIN);
        assertThat(s.out().toString()).startsWith("loadgen-results").endsWith("-pairs");
    }

    @Test
    void shouldReadTheBearerTokenFile(@TempDir final Path dir) throws IOException
    {
        final Path file = Files.writeString(dir.resolve("token"), "  t0k3n-abc\n");
        assertThat(LoadGen.parse("--url", URL, "--bearer-token-file", file.toString()).bearerToken())
            .isEqualTo("t0k3n-abc");
        assertThat(LoadGen.parse("--url", URL).bearerToken()).isNull();
        Files.writeString(file, "two words");
        assertBad("want one token of printable ASCII", "--url", URL, "--bearer-token-file", file.toString());
        assertBad("cannot read it", "--url", URL, "--bearer-token-file", dir.resolve("missing").toString());
    }

    @Test
    void shouldSpreadManyClientsOverSourceAddresses()
    {
        assertThat(LoadGen.parse("--url", URL, "--clients", "45000").sourceAddresses())
            .containsExactly(address(2), address(3), address(4));
        assertThat(LoadGen.parse("--url", URL, "--source-addresses", "5").sourceAddresses()).hasSize(5)
            .endsWith(address(6));
        assertThat(LoadGen.parse("--url", URL, "--source-addresses", "0").sourceAddresses()).isEmpty();
    }

    @Test
    void shouldParseScenarioAndDurations()
    {
        final LoadSettings s = LoadGen.parse("--url", "http://127.0.0.1:80/derp", "--scenario", "IDLE", "--hold",
            "90", "--duration", "500ms", "--drain", "PT1S");
        assertThat(s.scenario()).isEqualTo(Scenario.IDLE);
        assertThat(s.duration()).as("idle runs for --hold").isEqualTo(Duration.ofSeconds(90));
        assertThat(s.drain()).isEqualTo(Duration.ofSeconds(1));
        assertThat(LoadGen.parse("--url", URL, "--scenario", "idle", "--duration", "2m").duration())
            .isEqualTo(Duration.ofMinutes(2));
        assertThat(LoadGen.parse("--url", URL, "--duration", "1.5").duration()).isEqualTo(Duration.ofMillis(1500));
    }

    @Test
    void shouldDeriveTheLosslessProfileFromWindowAndFanIn()
    {
        assertThat(LoadGen.parse("--url", URL, "--window", "32").failOnLoss()).isTrue();
        assertThat(LoadGen.parse("--url", URL, "--window", "33").failOnLoss()).isFalse();
        final LoadSettings fanin = LoadGen.parse("--url", URL, "--scenario", "fanin", "--fanin-senders", "4",
            "--window", "16");
        assertThat(fanin.lossless()).isFalse();
        assertThat(fanin.failOnLoss()).isFalse();
        assertThat(LoadGen.parse("--url", URL, "--scenario", "fanin", "--fanin-senders", "2", "--window", "16")
            .failOnLoss()).isTrue();
        assertThat(LoadGen.parse("--url", URL, "--window", "64", "--fail-on-loss").failOnLoss()).isTrue();
        assertThat(LoadGen.parse("--url", URL, "--fail-on-loss=false").failOnLoss()).isFalse();
    }

    @Test
    void shouldFindTheStunServerFromTheFlagOrTheUrl()
    {
        assertThat(LoadGen.parse("--scenario", "stun", "--stun-server", "127.0.0.1").stunServer())
            .isEqualTo(new InetSocketAddress(address(1), 3478));
        assertThat(LoadGen.parse("--scenario", "stun", "--stun-server", "127.0.0.1:3479").stunServer())
            .isEqualTo(new InetSocketAddress(address(1), 3479));
        assertThat(LoadGen.parse("--scenario", "stun", "--stun-server", "[::1]:3480").stunServer().getPort())
            .isEqualTo(3480);
        assertThat(LoadGen.parse("--scenario", "stun", "--stun-server", "::1").stunServer().getPort())
            .isEqualTo(3478);
        final LoadSettings fromUrl = LoadGen.parse("--scenario", "stun", "--url", URL);
        assertThat(fromUrl.stunServer()).isEqualTo(new InetSocketAddress(address(1), 3478));
        assertThat(fromUrl.stunTimeout()).isEqualTo(Duration.ofSeconds(1));
        assertThat(fromUrl.sourceAddresses()).containsExactly(address(2));
        assertThat(LoadGen.parse("--url", URL).stunServer()).isNull();
    }

    @Test
    void shouldRejectBadValuesNamingTheOption()
    {
        assertBad("--url is required (only --scenario stun can do with --stun-server alone)", "--clients", "10");
        assertBad("--url=ftp://x/derp: scheme must be https or http", "--url", "ftp://x/derp");
        assertBad("--clients=1, must be >= 2 for --scenario pairs", "--url", URL, "--clients", "1");
        assertBad("--clients=8, must be >= 9 for --scenario fanin", "--url", URL, "--scenario", "fanin",
            "--clients", "8");
        assertBad("--disco-fraction=1.5, must be between 0 and 1", "--url", URL, "--disco-fraction", "1.5");
        assertBad("--packet-size=40, must be 62 to 65536 with disco packets", "--url", URL, "--disco-fraction",
            "0.5", "--packet-size", "40");
        assertBad("--packet-size=19, must be 20 to 65536", "--url", URL, "--packet-size", "19");
        assertBad("--window=0, must be 1 to 1048576", "--url", URL, "--window", "0");
        assertBad("--rate=-1.0, must be >= 0", "--url", URL, "--rate", "-1");
        assertBad("--duration=0s, must be > 0", "--url", URL, "--duration", "0");
        assertBad("is not a duration", "--url", URL, "--duration", "soon");
        assertBad("'walk' is not one of idle, pairs, fanin, churn, stun", "--url", URL, "--scenario", "walk");
        assertBad("--stun-server is for --scenario stun", "--url", URL, "--stun-server", "127.0.0.1");
        assertBad("--scenario stun needs --stun-server HOST[:PORT]", "--scenario", "stun");
        assertBad("--stun-server=127.0.0.1:0: port must be 1 to 65535", "--scenario", "stun", "--stun-server",
            "127.0.0.1:0");
        assertBad("--stun-server=127.0.0.1:x: port must be 1 to 65535", "--scenario", "stun", "--stun-server",
            "127.0.0.1:x");
        assertBad("--stun-server=[::1: want HOST, HOST:PORT or [IPv6]:PORT", "--scenario", "stun",
            "--stun-server", "[::1");
        assertBad("--window=65537, must be at most 65536 for --scenario stun", "--scenario", "stun",
            "--stun-server", "127.0.0.1", "--window", "65537");
        assertBad("--stun-timeout=5ms, must be 10ms to 10s", "--scenario", "stun", "--stun-server", "127.0.0.1",
            "--stun-timeout", "5ms");
        assertBad("--churn-rate=0.0, must be > 0 for --scenario churn", "--url", URL, "--scenario", "churn",
            "--churn-rate", "0");
        assertBad("--cert-name=sha256-raw:12: want sha256-raw:<64 hex characters>", "--url", URL, "--cert-name",
            "sha256-raw:12");
        assertBad("--cert-name and --ca-file are exclusive", "--url", URL, "--cert-name", PIN, "--ca-file", "x.pem");
        assertBad("--cert-name needs an https URL", "--url", "http://127.0.0.1/derp", "--cert-name", PIN);
        assertBad("--ca-file=does-not-exist.pem is not a readable file", "--url", URL, "--ca-file",
            "does-not-exist.pem");
        assertBad("--source-addresses=255, must be 0 to 254", "--url", URL, "--source-addresses", "255");
        assertBad("the server must be on IPv4 loopback", "--url", "https://192.0.2.1/derp", "--source-addresses",
            "2");
        assertBad("--max-error-fraction=2.0, must be between 0 and 1", "--url", URL, "--max-error-fraction", "2");
        assertBad("--threads=0, must be 1 to 1024", "--url", URL, "--threads", "0");
        assertBad("--server-pid=999999999: no such process", "--url", URL, "--server-pid", "999999999");
        assertBad("--ping-interval=10ms, must be 0 (never) or >= 100ms", "--url", URL, "--ping-interval", "10ms");
        assertBad("--connect-concurrency=0, must be >= 1", "--url", URL, "--connect-concurrency", "0");
    }

    @Test
    void shouldExitWithTwoAndAMessageForBadArguments()
    {
        final ByteArrayOutputStream err = new ByteArrayOutputStream();
        final int code = LoadGen.run(new String[] {"--url", URL, "--clients", "0"}, new PrintStream(
            new ByteArrayOutputStream()), new PrintStream(err, true, StandardCharsets.UTF_8));
        assertThat(code).isEqualTo(2);
        assertThat(err.toString(StandardCharsets.UTF_8))
            .startsWith("loadgen: --clients=0, must be >= 2 for --scenario pairs");
    }

    @Test
    void shouldPrintHelpListingEveryOption()
    {
        final ByteArrayOutputStream out = new ByteArrayOutputStream();
        final int code = LoadGen.run(new String[] {"--help"}, new PrintStream(out, true, StandardCharsets.UTF_8),
            System.err);
        assertThat(code).isZero();
        assertThat(out.toString(StandardCharsets.UTF_8)).contains("--url", "--cert-name", "--ca-file", "--clients",
            "--scenario", "--disco-fraction", "--packet-size", "--rate", "--window", "--duration", "--connect-rate",
            "--churn-rate", "--hold", "--source-addresses", "--threads", "--server-pid", "--out", "--seed",
            "--max-error-fraction", "--fail-on-loss", "--bidirectional", "--fanin-senders", "--stun-server",
            "--stun-timeout");
    }

    private static void assertBad(final String message, final String... args)
    {
        assertThatThrownBy(() -> LoadGen.parse(args)).isInstanceOf(ParameterException.class)
            .message().contains(message);
    }

    private static InetAddress address(final int last)
    {
        try
        {
            return InetAddress.getByAddress(new byte[] {127, 0, 0, (byte)last});
        }
        catch (final java.net.UnknownHostException ex)
        {
            throw new AssertionError(ex);
        }
    }
}
