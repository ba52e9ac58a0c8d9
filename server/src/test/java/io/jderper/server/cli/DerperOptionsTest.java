package io.jderper.server.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.lang.reflect.Field;
import java.net.InetAddress;
import java.nio.file.Path;
import io.jderper.core.router.QueueLimits;
import io.jderper.server.logging.LogFormat;
import io.jderper.transport.http.DebugAccess;
import io.jderper.transport.http.HomePage;
import io.jderper.transport.io.InputLimits;
import java.time.Duration;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.stream.Stream;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * derper v1.102.3's command line (spec §4.17): its defaults, what this build refuses and what it tolerates.
 */
class DerperOptionsTest
{
    /** Every flag jderper does not implement yet, with a value that asks for something other than the default. */
    private static final Map<String, String[]> NOT_YET_NON_DEFAULT = new TreeMap<>(Map.ofEntries(
        Map.entry("ace", new String[] {"-ace"})));

    private static DerperOptions parse(final String... args)
    {
        return DerperOptions.parse(args);
    }

    @Test
    void shouldUseDerpersDefaults()
    {
        final DerperOptions options = parse();

        assertThat(options.listen()).isEqualTo(":443");
        assertThat(options.httpPort()).isEqualTo(80);
        assertThat(options.configPath()).isEmpty();
        assertThat(options.certMode()).isEqualTo("letsencrypt");
        assertThat(options.certDir()).endsWithRaw(Path.of("tailscale", "derper-certs"));
        assertThat(options.hostname()).isEqualTo("derp.tailscale.com");
        assertThat(options.dev()).isFalse();
        assertThat(options.version()).isFalse();
        assertThat(options.runStun()).isTrue();
        assertThat(options.tcpWriteTimeout()).isEqualTo(Duration.ofSeconds(2));
        assertThat(options.tlsProvider()).isEqualTo("auto");
    }

    @Test
    void shouldListenOnPort3340InDevMode()
    {
        final DerperOptions options = parse("-dev");

        assertThat(options.dev()).isTrue();
        assertThat(options.listen()).isEqualTo(":3340");
        assertThat(options.servesTls(3340)).as("dev mode is plain HTTP unless -certmode manual").isFalse();
    }

    @Test
    void shouldOverrideAnExplicitListenAddressInDevModeAsDerperDoes()
    {
        final DerperOptions options = parse("-dev", "-a", "127.0.0.1:4000");
        assertThat(options.listen()).isEqualTo(":3340");
        assertThat(options.warnings()).anyMatch(w -> w.contains("-dev overrides -a"));
    }

    @Test
    void shouldReadTheImplementedFlags()
    {
        final DerperOptions options = parse("-a", "127.0.0.1:3340", "--http-port=-1", "-c", "derper.json",
            "-certmode", "manual", "-certdir=certs", "-hostname", "203.0.113.10", "-tcp-write-timeout", "500ms",
            "-version", "-stun=false");

        assertThat(options.listen()).isEqualTo("127.0.0.1:3340");
        assertThat(options.httpPort()).isEqualTo(-1);
        assertThat(options.configPath()).isEqualTo("derper.json");
        assertThat(options.certMode()).isEqualTo("manual");
        assertThat(options.certDir()).isEqualTo(Path.of("certs"));
        assertThat(options.hostname()).isEqualTo("203.0.113.10");
        assertThat(options.tcpWriteTimeout()).isEqualTo(Duration.ofMillis(500));
        assertThat(options.version()).isTrue();
        assertThat(options.runStun()).isFalse();
    }

    @ParameterizedTest
    @ValueSource(strings = {"letsencrypt", "manual", "gcp"})
    void shouldAcceptDerpersCertModes(final String mode)
    {
        assertThat(parse("-certmode", mode).certMode()).isEqualTo(mode);
    }

    @ParameterizedTest
    @ValueSource(strings = {"bogus", "", "Manual"})
    void shouldRefuseAnUnknownCertMode(final String mode)
    {
        assertThatThrownBy(() -> parse("-certmode", mode))
            .isInstanceOf(GoFlags.FlagException.class)
            .hasMessage("unsupported cert mode: \"" + mode + "\"");
    }

    @Test
    void shouldCoverEveryNotYetSupportedFlag() throws ReflectiveOperationException
    {
        final Field field = DerperOptions.class.getDeclaredField("NOT_YET");
        field.setAccessible(true);
        final Set<String> notYet = new TreeSet<>(((Map<?, ?>)field.get(null)).keySet().stream()
            .map(String::valueOf).toList());

        assertThat(NOT_YET_NON_DEFAULT.keySet()).as("flags this test refuses one by one").isEqualTo(notYet);
    }

    static Stream<Arguments> notYetSupported()
    {
        return NOT_YET_NON_DEFAULT.entrySet().stream().map(e -> Arguments.of(e.getKey(), e.getValue()));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("notYetSupported")
    void shouldRefuseANotYetSupportedFlag(final String name, final String[] args)
    {
        assertThatThrownBy(() -> parse(args))
            .isInstanceOf(GoFlags.FlagException.class)
            .hasMessageStartingWith("-" + name + " ")
            .hasMessageContaining("not supported yet");
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("notYetSupported")
    void shouldRefuseANotYetSupportedFlagAfterOthers(final String name, final String[] args)
    {
        final String[] line = Stream.concat(Stream.of("-stun=false", "-dev"), Stream.of(args)).toArray(String[]::new);

        assertThatThrownBy(() -> parse(line))
            .isInstanceOf(GoFlags.FlagException.class)
            .hasMessageContaining("-" + name)
            .hasMessageContaining("not supported yet");
    }

    static Stream<Arguments> derperDefaults()
    {
        return Stream.of(
            Arguments.of((Object)new String[] {"-acme-ip-certs=false"}),
            Arguments.of((Object)new String[] {"-ace=false"}),
            Arguments.of((Object)new String[] {"-home", ""}),
            Arguments.of((Object)new String[] {"-home="}),
            Arguments.of((Object)new String[] {"-bootstrap-dns-names", ""}),
            Arguments.of((Object)new String[] {"-unpublished-bootstrap-dns-names", ""}),
            Arguments.of((Object)new String[] {"-acme-eab-kid", ""}),
            Arguments.of((Object)new String[] {"-acme-eab-key", ""}),
            Arguments.of((Object)new String[] {"-acme-email", ""}),
            Arguments.of((Object)new String[] {"-home", "", "--ace=false", "-dev"}));
    }

    @Test
    void shouldParseTheHomePage()
    {
        assertThat(parse().pages().home()).isSameAs(HomePage.DEFAULT);
        assertThat(parse("-home", "blank").pages().home()).hasToString("an empty page");
        assertThat(parse("-home=https://example.com/").pages().home())
            .hasToString("a redirect to https://example.com/");
    }

    @ParameterizedTest
    @ValueSource(strings = {"none", "example.com", "ftp://example.com/"})
    void shouldRefuseAnUnknownHomePage(final String value)
    {
        assertThatThrownBy(() -> parse("-home", value))
            .isInstanceOf(GoFlags.FlagException.class)
            .hasMessage("-home must be empty (the default page), \"blank\" (an empty page) or an http:// or " +
                "https:// URL to redirect to, got \"" + value + "\"");
    }

    @Test
    void shouldParseTheBootstrapDnsNames()
    {
        final DerperOptions.Pages pages = parse("-bootstrap-dns-names", "controlplane.example.com,log.example.com",
            "-unpublished-bootstrap-dns-names", "hidden.example.com").pages();

        assertThat(pages.bootstrapDnsNames()).containsExactly("controlplane.example.com", "log.example.com");
        assertThat(pages.unpublishedBootstrapDnsNames()).containsExactly("hidden.example.com");
        assertThat(parse().pages().bootstrapDnsNames()).isEmpty();
        assertThat(parse().pages().unpublishedBootstrapDnsNames()).isEmpty();
    }

    @Test
    void shouldReadTheBootstrapDnsRolloutSuffixAndRefuseBadNames()
    {
        assertThat(parse("-unpublished-bootstrap-dns-names", "hidden.example.com/txt.example.com").pages()
            .unpublishedBootstrapDnsNames()).containsExactly("hidden.example.com/txt.example.com");
        assertThatThrownBy(() -> parse("-unpublished-bootstrap-dns-names", "hidden.example.com/txt example.com"))
            .isInstanceOf(GoFlags.FlagException.class)
            .hasMessageStartingWith("-unpublished-bootstrap-dns-names: \"txt example.com\" is not a DNS name");
        assertThatThrownBy(() -> parse("-bootstrap-dns-names", "a.example.com,not a name"))
            .isInstanceOf(GoFlags.FlagException.class)
            .hasMessageStartingWith("-bootstrap-dns-names: \"not a name\" is not a DNS name");
    }

    @Test
    void shouldParseTheDebugAccess()
    {
        assertThat(parse().pages().debugAccess()).isSameAs(DebugAccess.LOOPBACK_ONLY);
        final DebugAccess access = parse("-debug-allow-from", "10.0.0.0/8,fd00::/8").pages().debugAccess();
        assertThat(access.allows(InetAddress.ofLiteral("10.1.2.3"))).isTrue();
        assertThat(access.allows(InetAddress.ofLiteral("192.0.2.1"))).isFalse();
        assertThatThrownBy(() -> parse("-debug-allow-from", "10.0.0.0/40"))
            .isInstanceOf(GoFlags.FlagException.class)
            .hasMessage("-debug-allow-from: \"10.0.0.0/40\" needs a prefix length from 0 to 32 after the /");
        assertThat(DerperOptions.usage()).contains("-debug-allow-from\t(jderper only) ");
    }

    @Test
    void shouldParseTheMeshFlags()
    {
        final DerperOptions options = parse("-mesh-psk-file", "/etc/derp/mesh.key", "-mesh-with",
            "derp1.example.com,derp2.example.com:8443/10.0.0.2");

        assertThat(options.meshPskFile()).isEqualTo("/etc/derp/mesh.key");
        assertThat(options.meshWith()).extracting(address -> address.name() + "/" + address.dialHost())
            .containsExactly("derp1.example.com/null", "derp2.example.com:8443/10.0.0.2");
        assertThat(parse().meshWith()).isEmpty();
        assertThat(parse().meshPskFile()).isEmpty();
    }

    @Test
    void shouldParseTheAdmissionFlagsWithDerpersDefaults()
    {
        final DerperOptions.Admission defaults = parse().admission();
        assertThat(defaults.any()).isFalse();
        assertThat(defaults.failOpen()).as("derper fails open by default").isTrue();
        assertThat(defaults.cacheTtl()).isEqualTo(Duration.ofSeconds(60));

        final DerperOptions.Admission set = parse("-verify-clients", "-socket", "/run/ts.sock", "-verify-client-url",
            "https://headscale.example.com/verify", "-verify-client-url-fail-open=false",
            "-verify-client-url-cache-ttl", "5s", "-allowlist", "keys.txt", "-bearer-token-file", "token").admission();
        assertThat(set).isEqualTo(new DerperOptions.Admission(true, "/run/ts.sock",
            "https://headscale.example.com/verify", false, Duration.ofSeconds(5), "keys.txt", "token"));
        assertThat(set.any()).isTrue();
    }

    @ParameterizedTest
    @ValueSource(strings = {"headscale.example.com/verify", "ftp://x/verify", "https://", "http://a b/"})
    void shouldRefuseAnAdmissionUrlThatIsNotHttp(final String url)
    {
        assertThatThrownBy(() -> parse("-verify-client-url", url))
            .isInstanceOf(GoFlags.FlagException.class)
            .hasMessageStartingWith("-verify-client-url");
    }

    @Test
    void shouldParseTheLimitFlagsWithDerpersDefaults()
    {
        final DerperOptions.Limits defaults = parse().limits();
        assertThat(defaults).isEqualTo(new DerperOptions.Limits("", 0, 0, Double.POSITIVE_INFINITY,
            Integer.MAX_VALUE, 0, 0, Duration.ofMinutes(10), Duration.ofSeconds(15), InputLimits.DEFAULTS,
            QueueLimits.DEFAULT_PER_CLIENT_BYTES, 0));

        assertThat(parse("-accept-connection-limit", "+Inf").limits().acceptLimit()).isInfinite();
        assertThat(parse("-accept-connection-limit", "inf").limits().acceptLimit()).isInfinite();
        final DerperOptions.Limits set = parse("-accept-connection-limit", "2.5", "-accept-connection-burst", "20",
            "-per-client-rate-limit", "1000000", "-per-client-rate-burst", "2000000", "-max-connections", "5000",
            "-max-connections-per-ip", "50", "-tcp-keepalive-time", "1m", "-tcp-user-timeout", "5s",
            "-handshake-timeout", "5s", "-http-read-timeout", "20s", "-http-max-header-bytes", "8192",
            "-frame-read-timeout", "1m", "-max-client-queue-bytes", "1000000", "-max-total-queue-bytes", "5000000")
            .limits();
        assertThat(set).isEqualTo(new DerperOptions.Limits("", 1_000_000, 2_000_000, 2.5, 20, 5000, 50,
            Duration.ofMinutes(1), Duration.ofSeconds(5), new InputLimits(Duration.ofSeconds(5), Duration.ofSeconds(20),
            8192, Duration.ofMinutes(1)), 1_000_000, 5_000_000));
        assertThatThrownBy(() -> parse("-max-client-queue-bytes", "1000")).isInstanceOf(GoFlags.FlagException.class)
            .hasMessageContaining("one largest packet");
        assertThatThrownBy(() -> parse("-max-total-queue-bytes", "100000")).isInstanceOf(GoFlags.FlagException.class)
            .hasMessageContaining("at least -max-client-queue-bytes");
        assertThatThrownBy(() -> parse("-handshake-timeout", "0s")).isInstanceOf(GoFlags.FlagException.class)
            .hasMessageContaining("-handshake-timeout");
        assertThatThrownBy(() -> parse("-http-max-header-bytes", "100")).isInstanceOf(GoFlags.FlagException.class)
            .hasMessageContaining("1 KiB to 1 MiB");
        assertThat(parse("-rate-config", "rates.json").limits().rateConfig()).isEqualTo("rates.json");
    }

    @Test
    void shouldRefuseBadLimitFlagsNamingThem()
    {
        assertThatThrownBy(() -> parse("-accept-connection-limit", "fast")).hasMessageContaining(
            "-accept-connection-limit");
        assertThatThrownBy(() -> parse("-accept-connection-limit", "-1")).hasMessageContaining(
            "-accept-connection-limit");
        assertThatThrownBy(() -> parse("-per-client-rate-limit", "1MB")).hasMessageContaining("-per-client-rate-limit");
        assertThatThrownBy(() -> parse("-max-connections-per-ip", "-2")).hasMessageContaining("must not be negative");
        assertThatThrownBy(() -> parse("-tcp-user-timeout", "-1s")).hasMessageContaining("-tcp-user-timeout");
        assertThatThrownBy(() -> parse("-rate-config", "r.json", "-per-client-rate-limit", "1000"))
            .hasMessageContaining("give one");
    }

    @Test
    void shouldRefuseANegativeCacheTtl()
    {
        assertThatThrownBy(() -> parse("-verify-client-url-cache-ttl", "-1s"))
            .isInstanceOf(GoFlags.FlagException.class).hasMessageContaining("must not be negative");
    }

    @Test
    void shouldRefuseAMalformedMeshEntryNamingIt()
    {
        assertThatThrownBy(() -> parse("-mesh-with", "ok.example.com,a/b/c"))
            .isInstanceOf(GoFlags.FlagException.class)
            .hasMessageStartingWith("-mesh-with: ")
            .hasMessageContaining("a/b/c");
    }

    @ParameterizedTest
    @MethodSource("derperDefaults")
    void shouldAcceptANotYetSupportedFlagSetToDerpersDefault(final String[] args)
    {
        final DerperOptions options = parse(args);

        assertThat(options.certMode()).isEqualTo("letsencrypt");
    }

    @ParameterizedTest
    @ValueSource(strings = {"-secrets-url=https://setec.example", "-secrets-path-prefix=prod/derp",
        "-secrets-cache-dir=cache", "-secrets-url="})
    void shouldRefuseSetecFlags(final String arg)
    {
        final String name = arg.substring(1, arg.indexOf('='));

        assertThatThrownBy(() -> parse(arg))
            .isInstanceOf(GoFlags.FlagException.class)
            .hasMessageStartingWith("-" + name + " ")
            .hasMessageContaining("not supported");
    }

    @Test
    void shouldRunStunOnDerpersPortByDefault()
    {
        final DerperOptions options = parse();

        assertThat(options.runStun()).isTrue();
        assertThat(options.stunPort()).isEqualTo(3478);
        assertThat(options.stunAnyClient()).isFalse();
        assertThat(options.runDerp()).isTrue();
        assertThat(options.warnings()).isEmpty();
        assertThatThrownBy(() -> options.warnings().add("x")).isInstanceOf(UnsupportedOperationException.class);
    }

    @ParameterizedTest
    @ValueSource(strings = {"-stun", "-stun=true", "--stun=1"})
    void shouldAcceptAskingForStunExplicitly(final String arg)
    {
        assertThat(parse(arg).runStun()).isTrue();
    }

    @Test
    void shouldTakeStunPortAnyClientAndDerpOff()
    {
        final DerperOptions options = parse("-stun-port", "3479", "-stun-any-client", "-derp=false");

        assertThat(options.stunPort()).isEqualTo(3479);
        assertThat(options.stunAnyClient()).isTrue();
        assertThat(options.runDerp()).isFalse();
    }

    @ParameterizedTest
    @ValueSource(strings = {"-1", "65536", "x"})
    void shouldRefuseABadStunPort(final String port)
    {
        assertThatThrownBy(() -> parse("-stun-port", port))
            .isInstanceOf(GoFlags.FlagException.class)
            .hasMessageContaining("-stun-port");
    }

    @Test
    void shouldWarnAboutFlagsThatCannotTakeEffect()
    {
        assertThat(parse("-stun=false", "-stun-any-client").warnings()).singleElement().asString()
            .contains("-stun-any-client has no effect");
        assertThat(parse("-stun=false", "-derp=false").warnings()).singleElement().asString()
            .contains("only the probe and home page");
    }

    @Test
    void shouldRunWithoutStunAndWithoutWarningWhenStunIsOff()
    {
        final DerperOptions options = parse("-stun=false");

        assertThat(options.runStun()).isFalse();
        assertThat(options.warnings()).isEmpty();
    }

    @ParameterizedTest
    @ValueSource(strings = {"auto", "conscrypt", "openssl", "jdk"})
    void shouldAcceptEachTlsProvider(final String provider)
    {
        assertThat(parse("-tls-provider", provider).tlsProvider()).isEqualTo(provider);
    }

    @ParameterizedTest
    @ValueSource(strings = {"boringssl", "", "JDK"})
    void shouldRefuseAnUnknownTlsProvider(final String provider)
    {
        assertThatThrownBy(() -> parse("-tls-provider", provider))
            .isInstanceOf(GoFlags.FlagException.class)
            .hasMessage("-tls-provider must be one of [auto, conscrypt, openssl, jdk], got \"" + provider + "\"");
    }

    @Test
    void shouldSelectTheLogFormatTextByDefault()
    {
        assertThat(parse().logFormat()).isEqualTo(LogFormat.TEXT);
        assertThat(parse("-log-format", "logfmt").logFormat()).isEqualTo(LogFormat.LOGFMT);
        assertThat(parse("--log-format=json").logFormat()).isEqualTo(LogFormat.JSON);
        assertThatThrownBy(() -> parse("-log-format", "xml"))
            .isInstanceOf(GoFlags.FlagException.class)
            .hasMessage("-log-format must be one of [text, logfmt, json], got \"xml\"");
    }

    @Test
    void shouldMarkJderpersOwnFlagsInTheUsage()
    {
        assertThat(DerperOptions.usage()).contains("-tls-provider\t(jderper only) auto|conscrypt|openssl|jdk");
    }

    @Test
    void shouldAcceptAZeroWriteTimeoutMeaningNone()
    {
        assertThat(parse("-tcp-write-timeout", "0").tcpWriteTimeout()).isZero();
    }

    @ParameterizedTest
    @ValueSource(strings = {"-1s", "-1ns", "-2m"})
    void shouldRefuseANegativeWriteTimeout(final String value)
    {
        assertThatThrownBy(() -> parse("-tcp-write-timeout", value))
            .isInstanceOf(GoFlags.FlagException.class)
            .hasMessageContaining("-tcp-write-timeout must not be negative");
    }

    @Test
    void shouldRefuseAWriteTimeoutWithoutUnit()
    {
        assertThatThrownBy(() -> parse("-tcp-write-timeout", "2"))
            .isInstanceOf(GoFlags.FlagException.class)
            .hasMessageStartingWith("invalid value \"2\" for flag -tcp-write-timeout");
    }

    @ParameterizedTest
    @ValueSource(ints = {-1, 0, 1, 80, 8080, 65535})
    void shouldAcceptAnHttpPortOrMinusOne(final int port)
    {
        assertThat(parse("-http-port", Integer.toString(port)).httpPort()).isEqualTo(port);
    }

    @ParameterizedTest
    @ValueSource(strings = {"70000", "65536", "-2"})
    void shouldRefuseAnHttpPortOutOfRange(final String port)
    {
        assertThatThrownBy(() -> parse("-http-port", port))
            .isInstanceOf(GoFlags.FlagException.class)
            .hasMessage("-http-port must be -1 or a port number, got " + port);
    }

    @Test
    void shouldRefuseAnHttpPortThatIsNotANumber()
    {
        assertThatThrownBy(() -> parse("-http-port", "http"))
            .isInstanceOf(GoFlags.FlagException.class)
            .hasMessage("invalid value \"http\" for flag -http-port: parse error");
    }

    @Test
    void shouldRefuseAnUnknownFlag()
    {
        assertThatThrownBy(() -> parse("-nope"))
            .isInstanceOf(GoFlags.FlagException.class)
            .hasMessage("flag provided but not defined: -nope");
    }

    @Test
    void shouldRefuseAValueFlagAtTheEnd()
    {
        assertThatThrownBy(() -> parse("-dev", "-a"))
            .isInstanceOf(GoFlags.FlagException.class)
            .hasMessage("flag needs an argument: -a");
    }

    @Test
    void shouldRefusePositionalLeftovers()
    {
        assertThatThrownBy(() -> parse("-a", ":8080", "extra"))
            .isInstanceOf(GoFlags.FlagException.class)
            .hasMessageContaining("unexpected arguments")
            .hasMessageContaining("extra");
    }

    @Test
    void shouldRefuseABooleanFollowedByASeparateValue()
    {
        // Go's flag package reads "-dev false" as -dev plus a positional "false": refuse it rather than run dev mode.
        assertThatThrownBy(() -> parse("-dev", "false"))
            .isInstanceOf(GoFlags.FlagException.class)
            .hasMessageContaining("unexpected arguments")
            .hasMessageContaining("false");
    }

    @Test
    void shouldRefuseEverythingAfterDoubleDash()
    {
        assertThatThrownBy(() -> parse("-stun=false", "--", "-dev"))
            .isInstanceOf(GoFlags.FlagException.class)
            .hasMessageContaining("unexpected arguments")
            .hasMessageContaining("-dev");
    }

    @Test
    void shouldServeTlsOnPort443WhateverTheCertMode()
    {
        assertThat(parse().servesTls(443)).isTrue();
        assertThat(parse("-certmode", "gcp").servesTls(443)).isTrue();
        assertThat(parse("-certmode", "manual").servesTls(443)).isTrue();
    }

    @ParameterizedTest
    @ValueSource(ints = {80, 3340, 8443, 0})
    void shouldServePlainHttpOffPort443UnlessCertModeIsManual(final int port)
    {
        assertThat(parse().servesTls(port)).isFalse();
        assertThat(parse("-certmode", "gcp").servesTls(port)).isFalse();
        assertThat(parse("-certmode", "manual").servesTls(port)).isTrue();
    }

    @Test
    void shouldRefuseAcmeForAnIpHostnameInDerpersWords()
    {
        assertThat(parse("-hostname", "203.0.113.7").certProviderRefusal()).hasValue("--hostname is an IP address; " +
            "use --certmode=manual for a self-signed cert, or set --acme-ip-certs to get LetsEncrypt IP address certs");
        assertThat(parse("-hostname", "2001:db8::1", "-certmode", "gcp").certProviderRefusal())
            .hasValue("--certmode=gcp requires --hostname to be a DNS name, not an IP address");
        assertThat(parse("-hostname", "203.0.113.7", "-acme-ip-certs").certProviderRefusal()).isEmpty();
        assertThat(parse("-hostname", "203.0.113.7", "-certmode", "manual", "-acme-ip-certs").certProviderRefusal())
            .hasValue("--acme-ip-certs requires --certmode=letsencrypt");
        assertThat(parse("-hostname", "derp.example.com", "-certmode", "gcp").certProviderRefusal())
            .hasValue("--certmode=gcp requires --acme-eab-kid and --acme-eab-key flags");
        assertThat(parse("-hostname", "derp.example.com", "-certmode", "gcp", "-acme-eab-kid", "k",
            "-acme-eab-key", "a2V5").certProviderRefusal()).hasValue("--certmode=gcp requires --acme-email flag");
        assertThat(parse("-hostname", "203.0.113.7", "-certmode", "manual").certProviderRefusal()).isEmpty();
        assertThat(parse("-hostname", "derp.example.com").certProviderRefusal()).isEmpty();
    }
}
