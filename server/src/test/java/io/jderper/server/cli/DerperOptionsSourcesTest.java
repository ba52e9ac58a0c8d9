package io.jderper.server.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.jderper.transport.mesh.MeshPeerAddress;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Function;
import java.util.stream.Collectors;
import java.util.stream.Stream;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * derper's flags from the environment ({@code DERP_*}, and the names derper container images use) and from a
 * {@code -config-file}: precedence, aliases, and the errors for what cannot be meant.
 */
class DerperOptionsSourcesTest
{
    @TempDir
    Path dir;

    private static DerperOptions.Resolved resolve(final Map<String, String> environment, final String... args)
    {
        return DerperOptions.resolve(args, environment);
    }

    private static Map<String, String> origins(final DerperOptions.Resolved resolved)
    {
        return resolved.settings().stream()
            .collect(Collectors.toMap(EffectiveSetting::name, EffectiveSetting::origin));
    }

    private Path file(final String name, final String text) throws IOException
    {
        final Path file = dir.resolve(name);
        Files.writeString(file, text);
        return file;
    }

    @Test
    void shouldTakeAFlagOverTheEnvironmentOverTheFileOverTheDefault() throws IOException
    {
        final Path config = file("jderper.yaml", """
            hostname: file.example.com
            certmode: gcp
            region-code: fromfile
            """);
        final DerperOptions.Resolved resolved = resolve(Map.of("DERP_HOSTNAME", "env.example.com",
            "DERP_CERTMODE", "manual"), "-hostname", "flag.example.com", "-config-file", config.toString());
        final DerperOptions options = resolved.options();

        assertThat(options.hostname()).isEqualTo("flag.example.com");
        assertThat(options.certMode()).isEqualTo("manual");
        assertThat(options.regionCode()).isEqualTo("fromfile");
        assertThat(options.stunPort()).isEqualTo(3478);
        assertThat(origins(resolved)).containsEntry("hostname", "flag")
            .containsEntry("certmode", "env DERP_CERTMODE")
            .containsEntry("region-code", "file " + config)
            .containsEntry("stun-port", "default")
            .containsEntry("config-file", "flag");
    }

    static Stream<Arguments> aliases()
    {
        final Function<DerperOptions, Object> hostname = DerperOptions::hostname;
        final Function<DerperOptions, Object> certMode = DerperOptions::certMode;
        final Function<DerperOptions, Object> certDir = options -> options.certDir().toString();
        final Function<DerperOptions, Object> listen = DerperOptions::listen;
        return Stream.of(
            Arguments.of("DERP_DOMAIN", "derp.example.com", hostname),
            Arguments.of("DERP_HOST", "derp.example.com", hostname),
            Arguments.of("DERP_HOSTNAME", "derp.example.com", hostname),
            Arguments.of("DERP_CERT_MODE", "manual", certMode),
            Arguments.of("DERP_CERTMODE", "manual", certMode),
            Arguments.of("DERP_CERT_DIR", "/etc/derp/certs", certDir),
            Arguments.of("DERP_CERTS", "/etc/derp/certs", certDir),
            Arguments.of("DERP_CERTDIR", "/etc/derp/certs", certDir),
            Arguments.of("DERP_ADDR", ":12345", listen),
            Arguments.of("DERP_A", ":12345", listen),
            Arguments.of("DERP_HTTP_PORT", "8080", (Function<DerperOptions, Object>)o -> String.valueOf(o.httpPort())),
            Arguments.of("DERP_STUN", "false", (Function<DerperOptions, Object>)o -> String.valueOf(o.runStun())),
            Arguments.of("DERP_STUN_PORT", "3479", (Function<DerperOptions, Object>)o -> String.valueOf(o.stunPort())),
            Arguments.of("DERP_VERIFY_CLIENTS", "true",
                (Function<DerperOptions, Object>)o -> String.valueOf(o.admission().verifyClients())),
            Arguments.of("DERP_VERIFY_CLIENT_URL", "https://headscale.example.com/verify",
                (Function<DerperOptions, Object>)o -> o.admission().verifyClientUrl()));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("aliases")
    void shouldReadEachVariableDerperImagesUse(final String variable, final String value,
        final Function<DerperOptions, Object> read)
    {
        final DerperOptions.Resolved resolved = resolve(Map.of(variable, value));

        assertThat(read.apply(resolved.options())).isEqualTo(value);
        assertThat(resolved.settings()).anyMatch(setting -> setting.origin().equals("env " + variable));
        assertThat(read.apply(resolve(Map.of()).options())).as("the default differs").isNotEqualTo(value);
    }

    @Test
    void shouldRefuseAliasesThatDisagreeNamingBoth()
    {
        assertThatThrownBy(() -> resolve(Map.of("DERP_HOST", "a.example.com", "DERP_HOSTNAME", "b.example.com")))
            .isInstanceOf(GoFlags.FlagException.class)
            .hasMessage("-hostname is set differently by the environment variables DERP_HOSTNAME=\"b.example.com\" " +
                "and DERP_HOST=\"a.example.com\": set only one of them");
    }

    @Test
    void shouldAcceptAliasesThatAgree()
    {
        final DerperOptions.Resolved resolved = resolve(Map.of("DERP_DOMAIN", "a.example.com", "DERP_HOSTNAME",
            "a.example.com", "DERP_HOST", ""));

        assertThat(resolved.options().hostname()).isEqualTo("a.example.com");
        assertThat(origins(resolved)).containsEntry("hostname", "env DERP_HOSTNAME, DERP_DOMAIN");
    }

    @Test
    void shouldLetAFlagOverrideDisagreeingAliasesWithoutLookingAtThem()
    {
        assertThat(resolve(Map.of("DERP_HOST", "a", "DERP_HOSTNAME", "b"), "-hostname", "c").options().hostname())
            .isEqualTo("c");
    }

    @Test
    void shouldTakeAnEmptyVariableForUnset()
    {
        final DerperOptions options = resolve(Map.of("DERP_STUN", "", "DERP_HOSTNAME", "")).options();

        assertThat(options.runStun()).isTrue();
        assertThat(options.hostname()).isEqualTo("derp.tailscale.com");
    }

    @Test
    void shouldParseVariablesWithTheFlagsSyntax()
    {
        final DerperOptions options = resolve(Map.of("DERP_TCP_KEEPALIVE_TIME", "1m30s", "DERP_STUN", "0",
            "DERP_ACCEPT_CONNECTION_BURST", "0x10", "DERP_MESH_WITH", "a.example.com,b.example.com")).options();

        assertThat(options.limits().tcpKeepAlive()).isEqualTo(Duration.ofSeconds(90));
        assertThat(options.runStun()).isFalse();
        assertThat(options.limits().acceptBurst()).isEqualTo(16);
        assertThat(options.meshWith()).extracting(MeshPeerAddress::name).containsExactly("a.example.com",
            "b.example.com");
    }

    @Test
    void shouldNameTheVariableAndTheFlagOfAMalformedValue()
    {
        assertThatThrownBy(() -> resolve(Map.of("DERP_STUN_PORT", "abc")))
            .isInstanceOf(GoFlags.FlagException.class)
            .hasMessage("invalid value \"abc\" for flag -stun-port: parse error (-stun-port is from env " +
                "DERP_STUN_PORT)");
        assertThatThrownBy(() -> resolve(Map.of("DERP_STUN", "yes")))
            .hasMessage("invalid boolean value \"yes\" for -stun: parse error (-stun is from env DERP_STUN)");
        assertThatThrownBy(() -> resolve(Map.of("DERP_STUN_PORT", "70000")))
            .hasMessage("-stun-port must be a port number (0 picks a free one), got 70000 (-stun-port is from env " +
                "DERP_STUN_PORT)");
        assertThatThrownBy(() -> resolve(Map.of("DERP_CERT_MODE", "bogus")))
            .hasMessage("unsupported cert mode: \"bogus\"");
    }

    @Test
    void shouldRefuseAnUnsupportedFlagFromTheEnvironmentAsFromTheCommandLine()
    {
        assertThatThrownBy(() -> resolve(Map.of("DERP_SECRETS_URL", "https://setec.example.com")))
            .isInstanceOf(GoFlags.FlagException.class)
            .hasMessageStartingWith("-secrets-url (setec secrets) is not supported")
            .hasMessageEndingWith("(-secrets-url is from env DERP_SECRETS_URL)");
    }

    @Test
    void shouldWarnAboutVariablesThatNameNoFlag()
    {
        final DerperOptions options = resolve(Map.of("DERP_HOSTNAM", "x", "DERP_EMPTY", "", "PATH", "/bin"))
            .options();

        assertThat(options.warnings()).anyMatch(warning -> warning.startsWith("environment variables that name no " +
            "flag, ignored: DERP_HOSTNAM (")).noneMatch(warning -> warning.contains("DERP_EMPTY"));
    }

    @Test
    void shouldParseDerpersSeedStyleCommandLineAndTheSameSettingsFromTheEnvironmentAlike() throws IOException
    {
        final Path certs = Files.createDirectories(dir.resolve("certs"));
        final DerperOptions fromFlags = resolve(Map.of(), "-hostname", "derp.example.com", "-certmode", "manual",
            "-certdir", certs.toString(), "-a", ":12345", "-stun", "-verify-clients", "-http-port", "-1",
            "-stun-port", "3479", "-verify-client-url", "https://hs.example.com/verify").options();
        final Map<String, String> environment = new HashMap<>(Map.of("DERP_DOMAIN", "derp.example.com",
            "DERP_CERT_MODE", "manual", "DERP_CERT_DIR", certs.toString(), "DERP_ADDR", ":12345", "DERP_STUN", "true",
            "DERP_VERIFY_CLIENTS", "true", "DERP_HTTP_PORT", "-1", "DERP_STUN_PORT", "3479"));
        environment.put("DERP_VERIFY_CLIENT_URL", "https://hs.example.com/verify");
        final DerperOptions fromEnvironment = resolve(environment).options();

        assertThat(fromFlags.hostname()).isEqualTo("derp.example.com");
        assertThat(fromFlags.certMode()).isEqualTo("manual");
        assertThat(fromFlags.certDir()).isEqualTo(certs);
        assertThat(fromFlags.listen()).isEqualTo(":12345");
        assertThat(fromFlags.runStun()).isTrue();
        assertThat(fromFlags.admission().verifyClients()).isTrue();
        assertThat(fromFlags.warnings()).isEmpty();
        assertThat(fromEnvironment).isEqualTo(fromFlags);
    }

    @Test
    void shouldReadAYamlFile() throws IOException
    {
        final Path config = file("jderper.yml", """
            # jderper settings
            hostname: derp.example.com
            verify-clients: true
            stun-port: 3479
            tcp-write-timeout: 500ms
            mesh-with: [a.example.com, b.example.com/10.0.0.2]
            """);

        final DerperOptions options = resolve(Map.of(), "-config-file", config.toString()).options();

        assertThat(options.hostname()).isEqualTo("derp.example.com");
        assertThat(options.admission().verifyClients()).isTrue();
        assertThat(options.stunPort()).isEqualTo(3479);
        assertThat(options.tcpWriteTimeout()).isEqualTo(Duration.ofMillis(500));
        assertThat(options.meshWith()).containsExactly(new MeshPeerAddress("a.example.com", null),
            new MeshPeerAddress("b.example.com", "10.0.0.2"));
    }

    @ParameterizedTest
    @ValueSource(strings = {"jderper.json", "jderper.conf"})
    void shouldReadAJsonFileByItsNameOrContents(final String name) throws IOException
    {
        final Path config = file(name, """
            {"hostname": "derp.example.com", "stun": false, "http-port": -1, "mesh-with": "a.example.com"}
            """);

        final DerperOptions options = resolve(Map.of("DERP_CONFIG_FILE", config.toString())).options();

        assertThat(options.hostname()).isEqualTo("derp.example.com");
        assertThat(options.runStun()).isFalse();
        assertThat(options.httpPort()).isEqualTo(-1);
        assertThat(options.meshWith()).containsExactly(new MeshPeerAddress("a.example.com", null));
    }

    @Test
    void shouldAcceptAnEmptyFile() throws IOException
    {
        final Path config = file("empty.yaml", "# nothing yet\n");

        assertThat(resolve(Map.of(), "-config-file", config.toString()).options().hostname())
            .isEqualTo("derp.tailscale.com");
    }

    @Test
    void shouldRefuseUnknownKeysNamingEachWithTheNearestFlag() throws IOException
    {
        final Path config = file("jderper.yaml", """
            hostname: derp.example.com
            verify_clients: true
            DERP_STUN_PORT: 3479
            colour: blue
            """);

        assertThatThrownBy(() -> resolve(Map.of(), "-config-file", config.toString()))
            .isInstanceOf(GoFlags.FlagException.class)
            .hasMessage("-config-file " + config + ": unknown key \"verify_clients\" (did you mean " +
                "\"verify-clients\"?); unknown key \"DERP_STUN_PORT\" (did you mean \"stun-port\"?); unknown key " +
                "\"colour\"");
    }

    @Test
    void shouldRefuseValuesOfTheWrongType() throws IOException
    {
        final Path config = file("jderper.yaml", """
            verify-clients: 1
            hostname: [a, b]
            stun-port:
            mesh-with: [{host: a}]
            stun: maybe
            """);

        assertThatThrownBy(() -> resolve(Map.of(), "-config-file", config.toString()))
            .isInstanceOf(GoFlags.FlagException.class)
            .hasMessage("-config-file " + config + ": \"verify-clients\" must be true or false, got the number 1; " +
                "\"hostname\" must be a string or a number, got a list; \"stun-port\" must be a string or a number, " +
                "got no value; \"mesh-with\" must list strings, got a mapping in the list; \"stun\" must be true or " +
                "false, got \"maybe\"");
    }

    @Test
    void shouldNameTheFileOfAValueThatDoesNotParse() throws IOException
    {
        final Path config = file("jderper.yaml", "tcp-write-timeout: 10\n");

        assertThatThrownBy(() -> resolve(Map.of(), "-config-file", config.toString()))
            .hasMessage("invalid value \"10\" for flag -tcp-write-timeout: invalid duration \"10\" " +
                "(-tcp-write-timeout is from file " + config + ")");
    }

    @Test
    void shouldRefuseAKeyGivenTwice() throws IOException
    {
        final Path config = file("jderper.yaml", "hostname: a\nhostname: b\n");

        assertThatThrownBy(() -> resolve(Map.of(), "-config-file", config.toString()))
            .hasMessageStartingWith("-config-file " + config + ": not valid YAML: ")
            .hasMessageContaining("hostname");
    }

    @Test
    void shouldRefuseAFileThatNamesAnother() throws IOException
    {
        final Path config = file("jderper.yaml", "config-file: other.yaml\n");

        assertThatThrownBy(() -> resolve(Map.of(), "-config-file", config.toString()))
            .hasMessage("-config-file " + config + ": \"config-file\" cannot be set inside a config file");
    }

    @Test
    void shouldRefuseAFileThatIsNotAMapping() throws IOException
    {
        final Path config = file("jderper.yaml", "- hostname\n");

        assertThatThrownBy(() -> resolve(Map.of(), "-config-file", config.toString()))
            .hasMessageStartingWith("-config-file " + config + ": want a mapping of flag names to values");
    }

    @Test
    void shouldRefuseAMissingFile()
    {
        final Path missing = dir.resolve("missing.yaml");

        assertThatThrownBy(() -> resolve(Map.of("DERP_CONFIG_FILE", missing.toString())))
            .hasMessageStartingWith("-config-file " + missing + ": cannot read it: ")
            .hasMessageContaining("NoSuchFile");
    }

    @Test
    void shouldListEverySettingWithItsDefaultButNeverTheSecretValue()
    {
        final DerperOptions.Resolved resolved = resolve(Map.of("DERP_ACME_EAB_KEY", "c2VjcmV0LWtleQ"));

        assertThat(resolved.settings()).extracting(EffectiveSetting::name)
            .contains("a", "hostname", "certmode", "stun-port", "tcp-write-timeout", "acme-eab-key");
        assertThat(resolved.settings()).filteredOn(setting -> setting.name().equals("tcp-write-timeout"))
            .singleElement().extracting(EffectiveSetting::value).isEqualTo("2s");
        assertThat(resolved.settings()).filteredOn(setting -> setting.name().equals("acme-eab-key"))
            .singleElement().extracting(EffectiveSetting::shown).isEqualTo(EffectiveSetting.MASK);
        assertThat(List.copyOf(resolved.settings()).toString()).as("the raw record shows the value; shown() must " +
            "be what is printed").contains("c2VjcmV0LWtleQ");
    }
}
