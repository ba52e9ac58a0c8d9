package io.jderper.server;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;

import io.jderper.server.cli.DerperOptions;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code jderper config}: the effective configuration with each value's source, secrets masked, every endpoint;
 * exit 0, or non-zero with the reason for a configuration the server would refuse.
 */
class ConfigCommandTest
{
    @TempDir
    Path dir;

    private final ByteArrayOutputStream out = new ByteArrayOutputStream();
    private final ByteArrayOutputStream err = new ByteArrayOutputStream();

    private int run(final Map<String, String> environment, final String... args)
    {
        return ConfigCommand.run(args, environment, new PrintStream(out, true, StandardCharsets.UTF_8),
            new PrintStream(err, true, StandardCharsets.UTF_8));
    }

    private String out()
    {
        return out.toString(StandardCharsets.UTF_8);
    }

    @Test
    void shouldPrintEachSettingWithItsSourceAndEveryEndpoint() throws IOException
    {
        final Path config = Files.writeString(dir.resolve("jderper.yaml"), """
            region-code: home
            mesh-psk-file: /etc/jderper/mesh.key
            mesh-with: [derp2.example.com]
            acme-eab-key: c2VjcmV0LWtleQ
            derp-map-json: true
            """);

        final int status = run(Map.of("DERP_DOMAIN", "derp.example.com", "DERP_CERT_MODE", "manual",
            "DERP_VERIFY_CLIENT_URL", "https://hs.example.com/verify?key=abc123"),
            "-a", ":8443", "-config-file", config.toString());

        assertThat(status).isZero();
        assertThat(err.toString(StandardCharsets.UTF_8)).isEmpty();
        assertThat(out()).containsPattern("  -a  +:8443  +flag\n")
            .containsPattern("  -hostname  +derp.example.com  +env DERP_DOMAIN\n")
            .containsPattern("  -certmode  +manual  +env DERP_CERT_MODE\n")
            .containsPattern("  -region-code  +home  +file " + config + "\n")
            .containsPattern("  -mesh-psk-file  +/etc/jderper/mesh.key  +file ")
            .containsPattern("  -stun-port  +3478  +default\n")
            .containsPattern("  -tcp-write-timeout  +2s  +default\n")
            .containsPattern("  -acme-eab-key  +<secret, not shown>  +file ")
            .contains("  DERP        https://derp.example.com:8443/derp on TCP *:8443, TLS (-certmode manual)\n")
            .contains("  DERP map    https://derp.example.com:8443/derp-map.json (-derp-map-json)\n")
            .contains("  plain HTTP  TCP *:80: captive-portal check")
            .contains("  STUN        UDP *:3478\n")
            .contains("  mesh peer   dials https://derp2.example.com/derp\n")
            .contains("  admission   asks https://hs.example.com/verify?***\n")
            .doesNotContain("c2VjcmV0LWtleQ")
            .doesNotContain("abc123")
            .doesNotContain("more at their defaults");
    }

    @Test
    void shouldListPlainHttpServersWithoutTheHttpPortAndWithoutStunWhenOff()
    {
        assertThat(run(Map.of("DERP_STUN", "false"), "-a", "127.0.0.1:3340")).isZero();

        assertThat(out()).contains("  DERP        http://127.0.0.1:3340/derp on TCP 127.0.0.1:3340, plain HTTP\n")
            .doesNotContain("plain HTTP  TCP").doesNotContain("STUN        UDP");
    }

    @Test
    void shouldListTheHomePageBootstrapDnsAndDebugPages()
    {
        assertThat(run(Map.of("DERP_HOME", "blank"), "-a", "127.0.0.1:3340", "-bootstrap-dns-names",
            "controlplane.example.com,log.example.com", "-unpublished-bootstrap-dns-names", "hidden.example.com",
            "-debug-allow-from", "10.0.0.0/8")).isZero();

        assertThat(out()).contains("  home page   http://127.0.0.1:3340/: an empty page (-home)\n")
            .contains("  bootstrap   http://127.0.0.1:3340/bootstrap-dns: controlplane.example.com, log.example.com " +
                "(and 1 unpublished)\n")
            .contains("  debug       http://127.0.0.1:3340/debug/ from loopback, 10.0.0.0/8\n");
    }

    @Test
    void shouldLeaveOutTheDefaultHomePageAndBootstrapDnsWhenUnset()
    {
        assertThat(run(Map.of(), "-a", "127.0.0.1:3340")).isZero();

        assertThat(out()).doesNotContain("home page   ").doesNotContain("bootstrap   ")
            .contains("  debug       http://127.0.0.1:3340/debug/ from loopback\n");
    }

    @Test
    void shouldListTheMetricsListenerFromTheFlagOrTheEnvironment()
    {
        assertThat(run(Map.of())).isZero();
        assertThat(out()).contains("  metrics     TCP 127.0.0.1:9340: /metrics, /debug/varz (skipped with a warning if " +
            "taken)\n");
        out.reset();

        assertThat(run(Map.of("DERP_METRICS_ADDR", ":9341"))).isZero();
        assertThat(out()).contains("  metrics     TCP *:9341: /metrics, /debug/varz\n")
            .containsPattern("  -metrics-addr  +:9341  +env DERP_METRICS_ADDR\n");
        out.reset();

        assertThat(run(Map.of("DERP_METRICS_ADDR", ":9341"), "-metrics-addr", "off")).isZero();
        assertThat(out()).contains("  metrics     off (-metrics-addr)\n");
    }

    @Test
    void shouldPrintWarnings()
    {
        assertThat(run(Map.of("DERP_HOSTNAM", "derp.example.com"))).isZero();

        assertThat(out()).contains("warning: environment variables that name no flag, ignored: DERP_HOSTNAM");
    }

    @Test
    void shouldExitNonZeroWithTheErrorForABadConfiguration()
    {
        final int status = run(Map.of("DERP_HOST", "a.example.com", "DERP_DOMAIN", "b.example.com"));

        assertThat(status).isEqualTo(2);
        assertThat(out()).isEmpty();
        assertThat(err.toString(StandardCharsets.UTF_8)).isEqualTo("jderper config: -hostname is set differently "  +
            "by the environment variables DERP_DOMAIN=\"b.example.com\" and DERP_HOST=\"a.example.com\": set only "  +
            "one of them"  + System.lineSeparator());
    }

    @Test
    void shouldExitNonZeroForWhatTheServerWouldRefuseAtStart()
    {
        assertThat(run(Map.of("DERP_ADDR", "nonsense:x"))).isEqualTo(2);
        assertThat(err.toString(StandardCharsets.UTF_8)).startsWith("jderper config: -a: ");

        err.reset();
        assertThat(run(Map.of("DERP_HOSTNAME", "203.0.113.10"))).isEqualTo(2);
        assertThat(err.toString(StandardCharsets.UTF_8)).contains("--hostname is an IP address");
    }

    @Test
    void shouldPrintUsageForHelp()
    {
        assertThat(run(Map.of(), "-h")).isZero();

        assertThat(out()).startsWith("Usage: jderper config").contains("DERP_<NAME>")
            .contains("-hostname\t(env DERP_HOSTNAME, DERP_DOMAIN, DERP_HOST)");
    }

    @Test
    void shouldFitTheStartupSummaryOnOneScreen()
    {
        final DerperOptions.Resolved resolved = DerperOptions.resolve(new String[] {"-hostname", "derp.example.com",
            "-verify-clients", "-mesh-with", "a.example.com,b.example.com", "-mesh-psk-file", "/k"}, Map.of());

        final List<String> lines = ConfigSummary.lines(resolved, ListenAddress.parse(":443"), false);

        assertThat(lines).hasSizeLessThanOrEqualTo(30)
            .anyMatch(line -> line.matches("  -verify-clients  +true  +flag"))
            .anyMatch(line -> line.matches("  -stun-port  +3478  +default"))
            .noneMatch(line -> line.startsWith("  -tcp-write-timeout"))
            .anyMatch(line -> line.matches("  \\.\\.\\. and \\d+ more at their defaults \\(jderper config lists " +
                "every setting\\)"));
        assertThat(ConfigSummary.lines(resolved, ListenAddress.parse(":443"), true))
            .anyMatch(line -> line.startsWith("  -tcp-write-timeout"));
    }
}
