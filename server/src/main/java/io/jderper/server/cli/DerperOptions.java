package io.jderper.server.cli;

import io.jderper.core.protocol.ProtocolLimits;
import io.jderper.core.router.QueueLimits;
import io.jderper.server.logging.LogFormat;
import io.jderper.server.metrics.MetricsAddress;
import io.jderper.tls.Hostnames;
import io.jderper.tls.TlsProvider;
import io.jderper.transport.http.BootstrapDns;
import io.jderper.transport.http.DebugAccess;
import io.jderper.transport.http.HomePage;
import io.jderper.transport.io.InputLimits;
import io.jderper.transport.mesh.MeshPeerAddress;

import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * derper v1.102.3's command line (spec §4.17), parsed with Go's flag syntax. Each flag is implemented here or
 * refused at start with a message that says so; none is silently ignored.
 *
 * @param listen           {@code -a}.
 * @param httpPort         {@code -http-port}.
 * @param configPath       {@code -c}, empty if not given.
 * @param certMode         {@code -certmode}.
 * @param certDir          {@code -certdir}.
 * @param hostname         {@code -hostname}.
 * @param dev              {@code -dev}.
 * @param version          {@code -version}.
 * @param runStun          {@code -stun}.
 * @param stunPort         {@code -stun-port}.
 * @param stunAnyClient    {@code -stun-any-client} (jderper's own): answer every RFC 5389 binding request.
 * @param runDerp          {@code -derp}.
 * @param regionId         {@code -region-id} (jderper's own): the DERP map region this server is published in.
 * @param regionCode       {@code -region-code} (jderper's own).
 * @param regionName       {@code -region-name} (jderper's own).
 * @param publicIpv4       {@code -public-ipv4} (jderper's own): the IPv4 address clients reach, for the DERP map.
 * @param publicIpv6       {@code -public-ipv6} (jderper's own).
 * @param derpMapJson      {@code -derp-map-json} (jderper's own): serve the DERP map at {@code /derp-map.json}.
 * @param pages            {@code -home}, the bootstrap DNS names and {@code -debug-allow-from}.
 * @param acme             the {@code -acme-*} flags.
 * @param tcpWriteTimeout  {@code -tcp-write-timeout}.
 * @param tlsProvider      {@code -tls-provider} (jderper's own): auto, conscrypt, openssl or jdk.
 * @param logFormat        {@code -log-format} (jderper's own): how log lines are written.
 * @param metricsAddr      {@code -metrics-addr} (jderper's own): where {@code /metrics} and {@code /debug/varz} are
 *                         served; empty when turned off.
 * @param meshPskFile      {@code -mesh-psk-file}, empty if not given (derper's default paths are looked up at start).
 * @param meshWith         {@code -mesh-with}, parsed; empty for none.
 * @param admission        the client admission flags.
 * @param limits           the rate limit and connection cap flags.
 * @param warnings         things worth a startup warning (defaults we do not act on).
 */
public record DerperOptions(
    String listen,
    int httpPort,
    String configPath,
    String certMode,
    Path certDir,
    String hostname,
    boolean dev,
    boolean version,
    boolean runStun,
    int stunPort,
    boolean stunAnyClient,
    boolean runDerp,
    int regionId,
    String regionCode,
    String regionName,
    Optional<String> publicIpv4,
    Optional<String> publicIpv6,
    boolean derpMapJson,
    Pages pages,
    Acme acme,
    Duration tcpWriteTimeout,
    String tlsProvider,
    LogFormat logFormat,
    Optional<MetricsAddress> metricsAddr,
    String meshPskFile,
    List<MeshPeerAddress> meshWith,
    Admission admission,
    Limits limits,
    List<String> warnings)
{
    /** TLS engines {@code -tls-provider} accepts; auto is Conscrypt when its native library loads, else the JDK. */
    public static final List<String> TLS_PROVIDERS = TlsProvider.NAMES;

    /** Flags derper does not have, with what they do. */
    private static final Map<String, String> JDERPER_ONLY = Map.ofEntries(
        Map.entry("tls-provider", "auto|conscrypt|openssl|jdk: the TLS engine; Conscrypt takes 3 file descriptors " +
            "per connection"),
        Map.entry("log-format", "text|logfmt|json: how log lines are written (default text; logfmt and json put one " +
            "event on each line, for log shippers)"),
        Map.entry("stun-any-client", "also answer STUN binding requests from non-Tailscale clients (derper answers " +
            "only Tailscale's); their bare 20-byte requests get 32- or 44-byte replies, a small amplifier"),
        Map.entry("region-id", "DERP map region ID of this server (default 900; 900-999 are for your own DERPs)"),
        Map.entry("region-code", "DERP map region code (default jderper)"),
        Map.entry("region-name", "DERP map region name (default jderper)"),
        Map.entry("public-ipv4", "the IPv4 address clients reach this server at, for the DERP map"),
        Map.entry("public-ipv6", "the IPv6 address clients reach this server at, for the DERP map"),
        Map.entry("derp-map-json", "serve this server's DERP map at /derp-map.json (for Headscale's derp.urls)"),
        Map.entry("debug-allow-from", "comma-separated CIDR prefixes besides loopback that may open /debug/ on the " +
            "main listener (derper also admits 100.64.0.0/10,fd7a:115c:a1e0::/48, Tailscale's)"),
        Map.entry("metrics-addr", "host:port of the metrics listener serving /metrics (Prometheus, OpenMetrics) " +
            "and /debug/varz (derper's names); off or empty turns it off (default " + MetricsAddress.DEFAULT + ")"),
        Map.entry("acme-directory", "ACME directory URL instead of the cert mode's CA (a private or test CA)"),
        Map.entry("acme-ca-file", "PEM file of CAs to trust for the ACME directory's HTTPS"),
        Map.entry("allowlist", "file of node keys to admit (nodekey:<hex>) or refuse (deny nodekey:<hex>), one " +
            "per line; reloaded when it changes"),
        Map.entry("bearer-token-file", "file holding a token that admits a client sending it as Authorization: " +
            "Bearer (for your own probes and load tests; Tailscale clients send none)"),
        Map.entry("per-client-rate-limit", "per-client receive rate limit in bytes/s, as -rate-config's " +
            "PerClientRateLimitBytesPerSec (0: none)"),
        Map.entry("per-client-rate-burst", "per-client receive burst in bytes (at least 65568), as -rate-config's " +
            "PerClientRateBurstBytes"),
        Map.entry("max-connections", "most connections open at once; more are closed as they arrive (0, the " +
            "default: as many as the open-file limit leaves room for)"),
        Map.entry("max-connections-per-ip", "most connections open at once from one IP address (0: no cap)"),
        Map.entry("handshake-timeout", "how long the TLS handshake (from accept) and the DERP handshake (ClientInfo " +
            "and admission, after the upgrade) may each take (default 10s)"),
        Map.entry("http-read-timeout", "how long an HTTP request, head and body, may take to arrive, however slowly " +
            "it trickles in (default 30s, derper's read timeout)"),
        Map.entry("http-max-header-bytes", "largest HTTP request header block; a larger one gets 431 (default 16384)"),
        Map.entry("frame-read-timeout", "how long a DERP frame already begun may go without a byte arriving before " +
            "the connection is closed (default 30s)"),
        Map.entry("max-client-queue-bytes", "most packet bytes queued for one slow client, oldest dropped first " +
            "(default 2097152)"),
        Map.entry("max-total-queue-bytes", "most packet bytes queued for all clients together, new packets dropped " +
            "past it (0, the default: half the JVM's direct memory limit)"),
        Map.entry(ConfigFileSettings.FLAG, "a YAML or JSON file of settings keyed by flag name (hostname: " +
            "derp.example.com); flags and DERP_* environment variables override it"),
        Map.entry("verify-client-url-cache-ttl", "how long -verify-client-url answers are remembered (default 60s, " +
            "refusals at most 10s; 0 asks every time)"));

    /** Flags of derper that a later part of jderper will implement, with the reason shown to the operator. */
    private static final Map<String, String> NOT_YET = Map.ofEntries(
        Map.entry("ace", "the experimental CONNECT proxy"));

    /** Flags for Tailscale's internal secrets service, which jderper does not plan to support. */
    private static final List<String> UNSUPPORTED = List.of("secrets-url", "secrets-path-prefix",
        "secrets-cache-dir");

    /**
     * Reads the command line only, as derper does.
     *
     * @param args the command line.
     * @return the options.
     * @throws GoFlags.FlagException if the command line is malformed or asks for something not supported.
     */
    public static DerperOptions parse(final String[] args)
    {
        return resolve(args, Map.of()).options();
    }

    /**
     * Reads every configuration source: the command line, then the environment ({@link EnvironmentSettings}), then
     * the {@code -config-file} ({@link ConfigFileSettings}), then the defaults.
     *
     * @param args        the command line.
     * @param environment the process environment.
     * @return the options, and each flag's effective value with where it came from.
     * @throws GoFlags.FlagException if a source is malformed, sets something unsupported or contradicts itself; the
     *                               message names the variable or file a bad value came from.
     */
    public static Resolved resolve(final String[] args, final Map<String, String> environment)
    {
        final GoFlags flags = declare(new GoFlags()).parse(args);
        final EnvironmentSettings fromEnvironment = new EnvironmentSettings(environment);
        final List<SettingSource> sources = new ArrayList<>(List.of(fromEnvironment));
        // The file's own name comes from the sources above it.
        final Optional<SettingSource.Setting> configFile = flags.isSet(ConfigFileSettings.FLAG) ?
            Optional.of(new SettingSource.Setting(flags.string(ConfigFileSettings.FLAG, ""), GoFlags.FROM_FLAG)) :
            fromEnvironment.lookup(ConfigFileSettings.FLAG);
        configFile.filter(file -> !file.value().isEmpty())
            .ifPresent(file -> sources.add(ConfigFileSettings.load(Path.of(file.value()), flags)));
        flags.fallBackTo(sources);
        final List<String> unknown = fromEnvironment.unknown(flags.declared());
        final List<String> warnings = unknown.isEmpty() ? List.of() : List.of("environment variables that name no " +
            "flag, ignored: " + String.join(", ", unknown) + " (a flag's variable is DERP_ and its name in capitals, " +
            "dashes as underscores: DERP_STUN_PORT)");
        final DerperOptions options = flags.explain(() -> parse(flags, warnings));
        final List<EffectiveSetting> settings = new ArrayList<>();
        for (final String name : flags.declared())
        {
            flags.effective(name).ifPresent(value -> settings.add(new EffectiveSetting(name, value,
                flags.origin(name))));
        }
        return new Resolved(options, List.copyOf(settings));
    }

    /**
     * The options and where each of their values came from.
     *
     * @param options  the options.
     * @param settings every flag that is set or has a default, in declaration order.
     */
    public record Resolved(DerperOptions options, List<EffectiveSetting> settings)
    {
    }

    private static DerperOptions parse(final GoFlags flags, final List<String> sourceWarnings)
    {
        if (!flags.positional().isEmpty())
        {
            throw new GoFlags.FlagException("unexpected arguments after the flags: " + flags.positional());
        }
        for (final String name : flags.given())
        {
            if (UNSUPPORTED.contains(name))
            {
                throw new GoFlags.FlagException("-" + name + " (setec secrets) is not supported by jderper; " +
                    "give the mesh key with -mesh-psk-file");
            }
            if (NOT_YET.containsKey(name) && !isHarmless(flags, name))
            {
                throw new GoFlags.FlagException("-" + name + " is not supported yet (" + NOT_YET.get(name) +
                    " is still to come in jderper)");
            }
        }
        final boolean dev = flags.bool("dev", false);
        final boolean runStun = flags.bool("stun", true);
        final int stunPort = flags.integer("stun-port", 3478);
        if (stunPort < 0 || stunPort > 65535)
        {
            throw new GoFlags.FlagException("-stun-port must be a port number (0 picks a free one), got " + stunPort);
        }
        final boolean stunAnyClient = flags.bool("stun-any-client", false);
        final boolean runDerp = flags.bool("derp", true);
        final int regionId = flags.integer("region-id", 900);
        if (regionId <= 0)
        {
            throw new GoFlags.FlagException("-region-id must be positive, got " + regionId);
        }
        final String regionCode = flags.string("region-code", "jderper");
        final String regionName = flags.string("region-name", regionCode);
        if (regionCode.isBlank() || regionName.isBlank())
        {
            throw new GoFlags.FlagException("-region-code and -region-name must not be empty");
        }
        final Optional<String> publicIpv4 = address(flags, "public-ipv4", 4);
        final Optional<String> publicIpv6 = address(flags, "public-ipv6", 16);
        final String certMode = flags.string("certmode", "letsencrypt");
        if (!List.of("letsencrypt", "manual", "gcp").contains(certMode))
        {
            throw new GoFlags.FlagException("unsupported cert mode: \"" + certMode + "\"");
        }
        final Duration writeTimeout = flags.duration("tcp-write-timeout",
            Duration.ofMillis(ProtocolLimits.DEFAULT_WRITE_TIMEOUT_MS));
        if (writeTimeout.isNegative())
        {
            throw new GoFlags.FlagException("-tcp-write-timeout must not be negative, got " + writeTimeout);
        }
        final int httpPort = flags.integer("http-port", 80);
        if (httpPort > 65535 || httpPort < -1)
        {
            throw new GoFlags.FlagException("-http-port must be -1 or a port number, got " + httpPort);
        }
        final String tlsProvider = flags.string("tls-provider", "auto");
        if (!TLS_PROVIDERS.contains(tlsProvider))
        {
            throw new GoFlags.FlagException("-tls-provider must be one of " + TLS_PROVIDERS + ", got \"" +
                tlsProvider + "\"");
        }
        final LogFormat logFormat;
        try
        {
            logFormat = LogFormat.parse(flags.string("log-format", "text"));
        }
        catch (final IllegalArgumentException ex)
        {
            throw new GoFlags.FlagException(ex.getMessage());
        }
        final List<MeshPeerAddress> meshWith;
        try
        {
            meshWith = MeshPeerAddress.parseList(flags.string("mesh-with", ""));
        }
        catch (final IllegalArgumentException ex)
        {
            throw new GoFlags.FlagException("-mesh-with: " + ex.getMessage());
        }
        final Optional<MetricsAddress> metricsAddr;
        try
        {
            metricsAddr = MetricsAddress.parse(flags.string("metrics-addr", MetricsAddress.DEFAULT),
                flags.isSet("metrics-addr"));
        }
        catch (final IllegalArgumentException ex)
        {
            throw new GoFlags.FlagException("-metrics-addr: " + ex.getMessage() + "; or off for no metrics listener");
        }
        final Admission admission = admission(flags);
        final Limits limits = limits(flags);
        final Pages pages = pages(flags);
        final List<String> warnings = new ArrayList<>(sourceWarnings);
        if (dev && flags.isSet("a"))
        {
            warnings.add("-dev overrides -a: listening on :3340, as derper does");
        }
        if (regionId < 900 || regionId > 999)
        {
            warnings.add("-region-id " + regionId + " is outside 900-999, the IDs Tailscale leaves for your own DERPs");
        }
        if (stunAnyClient && !runStun)
        {
            warnings.add("-stun-any-client has no effect with -stun=false");
        }
        if (!runDerp && !runStun)
        {
            warnings.add("-derp=false and -stun=false: only the probe and home page endpoints are served");
        }
        final String listen = flags.string("a", ":443");
        return new DerperOptions(
            dev ? ":3340" : listen,
            httpPort,
            flags.string("c", ""),
            certMode,
            Path.of(flags.string("certdir", defaultCertDir())),
            flags.string("hostname", "derp.tailscale.com"),
            dev,
            flags.bool("version", false),
            runStun,
            stunPort,
            stunAnyClient,
            runDerp,
            regionId,
            regionCode,
            regionName,
            publicIpv4,
            publicIpv6,
            flags.bool("derp-map-json", false),
            pages,
            new Acme(flags.string("acme-email", ""), flags.string("acme-eab-kid", ""), flags.string("acme-eab-key", ""),
                flags.bool("acme-ip-certs", false), flags.string("acme-directory", ""),
                flags.string("acme-ca-file", "")),
            writeTimeout,
            tlsProvider,
            logFormat,
            metricsAddr,
            flags.string("mesh-psk-file", ""),
            List.copyOf(meshWith),
            admission,
            limits,
            List.copyOf(warnings));
    }

    private static Limits limits(final GoFlags flags)
    {
        final String rateConfig = flags.string("rate-config", "");
        final long rate = nonNegativeLong(flags, "per-client-rate-limit", 0);
        final long burst = nonNegativeLong(flags, "per-client-rate-burst", 0);
        if (!rateConfig.isEmpty() && (flags.isSet("per-client-rate-limit") || flags.isSet("per-client-rate-burst")))
        {
            throw new GoFlags.FlagException("-rate-config and -per-client-rate-limit/-per-client-rate-burst both set " +
                "the per-client rate limit: give one");
        }
        final String acceptText = flags.string("accept-connection-limit", "+Inf");
        final double acceptLimit = parseGoFloat(acceptText);
        if (Double.isNaN(acceptLimit) || acceptLimit < 0)
        {
            throw new GoFlags.FlagException("-accept-connection-limit must be a number of connections per second, 0 " +
                "or more, got \"" + acceptText + "\"");
        }
        final int acceptBurst = flags.integer("accept-connection-burst", Integer.MAX_VALUE);
        final int maxConnections = flags.integer("max-connections", 0);
        final int maxPerIp = flags.integer("max-connections-per-ip", 0);
        if (acceptBurst < 0 || maxConnections < 0 || maxPerIp < 0)
        {
            throw new GoFlags.FlagException("-accept-connection-burst, -max-connections and -max-connections-per-ip " +
                "must not be negative");
        }
        final Duration keepAlive = flags.duration("tcp-keepalive-time", Duration.ofMinutes(10));
        final Duration userTimeout = flags.duration("tcp-user-timeout", Duration.ofSeconds(15));
        if (userTimeout.isNegative() || keepAlive.toSeconds() > 32_767 || userTimeout.toMillis() > Integer.MAX_VALUE)
        {
            throw new GoFlags.FlagException("-tcp-keepalive-time must be at most 32767s and -tcp-user-timeout 0 or " +
                "more (up to 24 days), got " + keepAlive + " and " + userTimeout);
        }
        final InputLimits defaults = InputLimits.DEFAULTS;
        final InputLimits inputs;
        try
        {
            inputs = new InputLimits(flags.duration("handshake-timeout", defaults.handshake()),
                flags.duration("http-read-timeout", defaults.httpRequest()),
                flags.integer("http-max-header-bytes", defaults.httpHeaderBytes()),
                flags.duration("frame-read-timeout", defaults.frameRead()));
        }
        catch (final IllegalArgumentException ex)
        {
            throw new GoFlags.FlagException("-handshake-timeout, -http-read-timeout, -http-max-header-bytes, " +
                "-frame-read-timeout: " + ex.getMessage());
        }
        final long clientQueueBytes = nonNegativeLong(flags, "max-client-queue-bytes",
            QueueLimits.DEFAULT_PER_CLIENT_BYTES);
        final long totalQueueBytes = nonNegativeLong(flags, "max-total-queue-bytes", 0);
        if (clientQueueBytes < ProtocolLimits.MAX_PACKET_SIZE)
        {
            throw new GoFlags.FlagException("-max-client-queue-bytes must hold one largest packet (" +
                ProtocolLimits.MAX_PACKET_SIZE + " bytes) at least, got " + clientQueueBytes);
        }
        if (0 != totalQueueBytes && totalQueueBytes < clientQueueBytes)
        {
            throw new GoFlags.FlagException("-max-total-queue-bytes must be 0 or at least -max-client-queue-bytes, " +
                "got " + totalQueueBytes);
        }
        return new Limits(rateConfig, rate, burst, acceptLimit, acceptBurst, maxConnections, maxPerIp, keepAlive,
            userTimeout, inputs, clientQueueBytes, totalQueueBytes);
    }

    private static long nonNegativeLong(final GoFlags flags, final String name, final long fallback)
    {
        final String text = flags.string(name, String.valueOf(fallback));
        try
        {
            final long value = Long.parseLong(text);
            if (value >= 0)
            {
                return value;
            }
        }
        catch (final NumberFormatException ex)
        {
            // Reported below.
        }
        throw new GoFlags.FlagException("-" + name + " must be a whole number of bytes, 0 or more, got \"" + text +
            "\"");
    }

    /** Go's {@code strconv.ParseFloat} spellings of infinity, which Java's parser does not take. */
    private static double parseGoFloat(final String text)
    {
        final String lower = text.strip().toLowerCase(java.util.Locale.ROOT);
        if (List.of("inf", "+inf", "infinity", "+infinity").contains(lower))
        {
            return Double.POSITIVE_INFINITY;
        }
        try
        {
            return Double.parseDouble(lower);
        }
        catch (final NumberFormatException ex)
        {
            return Double.NaN;
        }
    }

    private static Pages pages(final GoFlags flags)
    {
        try
        {
            return new Pages(HomePage.parse(flags.string("home", "")),
                BootstrapDns.parseNames("bootstrap-dns-names", flags.string("bootstrap-dns-names", "")),
                BootstrapDns.parseNames("unpublished-bootstrap-dns-names",
                    flags.string("unpublished-bootstrap-dns-names", "")),
                DebugAccess.parse(flags.string("debug-allow-from", "")));
        }
        catch (final IllegalArgumentException ex)
        {
            throw new GoFlags.FlagException(ex.getMessage());
        }
    }

    private static Admission admission(final GoFlags flags)
    {
        final String url = flags.string("verify-client-url", "");
        if (!url.isEmpty())
        {
            final java.net.URI parsed;
            try
            {
                parsed = new java.net.URI(url);
            }
            catch (final java.net.URISyntaxException ex)
            {
                throw new GoFlags.FlagException("-verify-client-url: not a URL: " + ex.getMessage());
            }
            if (!"http".equalsIgnoreCase(parsed.getScheme()) && !"https".equalsIgnoreCase(parsed.getScheme()) ||
                null == parsed.getHost())
            {
                throw new GoFlags.FlagException("-verify-client-url must be an http:// or https:// URL, got \"" + url +
                    "\"");
            }
        }
        final Duration cacheTtl = flags.duration("verify-client-url-cache-ttl", Duration.ofSeconds(60));
        if (cacheTtl.isNegative())
        {
            throw new GoFlags.FlagException("-verify-client-url-cache-ttl must not be negative, got " + cacheTtl);
        }
        return new Admission(flags.bool("verify-clients", false), flags.string("socket", ""), url,
            flags.bool("verify-client-url-fail-open", true), cacheTtl, flags.string("allowlist", ""),
            flags.string("bearer-token-file", ""));
    }

    private static Optional<String> address(final GoFlags flags, final String name, final int length)
    {
        final String text = flags.string(name, "");
        if (text.isEmpty())
        {
            return Optional.empty();
        }
        final java.net.InetAddress address = Hostnames.parseIp(text);
        if (null == address || address.getAddress().length != length)
        {
            throw new GoFlags.FlagException("-" + name + " must be an " + (4 == length ? "IPv4" : "IPv6") +
                " address, got \"" + text + "\"");
        }
        return Optional.of(text);
    }

    /**
     * Values of a not-yet-supported flag that ask for exactly what this build already does.
     */
    private static boolean isHarmless(final GoFlags flags, final String name)
    {
        return switch (name)
        {
            case "ace" -> !flags.bool(name, false);
            default -> false;
        };
    }

    /**
     * @return a usage text listing every flag and whether this build implements it.
     */
    public static String usage()
    {
        final StringBuilder text = new StringBuilder("Usage of jderper (derper-compatible flags):\n" +
            "Each flag can also be set by the environment variable DERP_<NAME> (-stun-port: DERP_STUN_PORT) or a key " +
            "in the -config-file; a flag wins over the environment, the environment over the file.\n");
        for (final String name : declare(new GoFlags()).declared())
        {
            text.append("  -").append(name);
            if (NOT_YET.containsKey(name))
            {
                text.append("\t(not supported yet: ").append(NOT_YET.get(name)).append(')');
            }
            else if (UNSUPPORTED.contains(name))
            {
                text.append("\t(not supported)");
            }
            else if (JDERPER_ONLY.containsKey(name))
            {
                text.append("\t(jderper only) ").append(JDERPER_ONLY.get(name));
            }
            final List<String> variables = EnvironmentSettings.variables(name);
            if (variables.size() > 1)
            {
                text.append("\t(env ").append(String.join(", ", variables)).append(')');
            }
            text.append('\n');
        }
        return text.toString();
    }

    private static GoFlags declare(final GoFlags flags)
    {
        for (final String name : List.of("a", "c", "certmode", "certdir", "hostname", "stun-port", "http-port",
            "acme-eab-kid", "acme-eab-key", "acme-email", "home", "mesh-psk-file", "mesh-with", "secrets-url",
            "secrets-path-prefix", "secrets-cache-dir", "bootstrap-dns-names", "unpublished-bootstrap-dns-names",
            "verify-client-url", "socket", "accept-connection-limit", "accept-connection-burst", "rate-config",
            "tcp-keepalive-time", "tcp-user-timeout", "tcp-write-timeout", "tls-provider", "log-format", "region-id",
            "region-code",
            "region-name", "public-ipv4", "public-ipv6", "acme-directory", "acme-ca-file", "allowlist",
            "debug-allow-from",
            "bearer-token-file", "verify-client-url-cache-ttl", "per-client-rate-limit", "per-client-rate-burst",
            "max-connections", "max-connections-per-ip", "handshake-timeout", "http-read-timeout",
            "http-max-header-bytes", "frame-read-timeout", "max-client-queue-bytes", "max-total-queue-bytes",
            "metrics-addr"))
        {
            flags.declare(name, GoFlags.Kind.VALUE);
        }
        for (final String name : List.of("dev", "version", "stun", "derp", "acme-ip-certs", "verify-clients",
            "verify-client-url-fail-open", "ace", "stun-any-client", "derp-map-json"))
        {
            flags.declare(name, GoFlags.Kind.BOOLEAN);
        }
        flags.declare(ConfigFileSettings.FLAG, GoFlags.Kind.VALUE);
        // Comma-separated lists, which a config file may also give as lists.
        for (final String name : List.of("mesh-with", "bootstrap-dns-names", "unpublished-bootstrap-dns-names"))
        {
            flags.declare(name, GoFlags.Kind.LIST);
        }
        return flags;
    }

    private static String defaultCertDir()
    {
        final String xdg = System.getenv("XDG_CACHE_HOME");
        final Path cache = null != xdg && !xdg.isEmpty() ? Path.of(xdg) :
            Path.of(System.getProperty("user.home"), ".cache");
        return cache.resolve("tailscale").resolve("derper-certs").toString();
    }

    /**
     * derper's refusals of a cert mode and hostname that cannot work together (cmd/derper/cert.go), word for word;
     * they apply when the main listener serves TLS.
     *
     * @return the reason, or empty if the combination can work.
     */
    public Optional<String> certProviderRefusal()
    {
        final boolean ipHostname = null != Hostnames.parseIp(hostname);
        if (acme.ipCertificates() && !"letsencrypt".equals(certMode))
        {
            return Optional.of("--acme-ip-certs requires --certmode=letsencrypt");
        }
        return switch (certMode)
        {
            case "gcp" ->
            {
                if (ipHostname)
                {
                    yield Optional.of("--certmode=gcp requires --hostname to be a DNS name, not an IP address");
                }
                if (acme.eabKeyId().isEmpty() || acme.eabKey().isEmpty())
                {
                    yield Optional.of("--certmode=gcp requires --acme-eab-kid and --acme-eab-key flags");
                }
                yield acme.email().isEmpty() ? Optional.of("--certmode=gcp requires --acme-email flag") :
                    Optional.empty();
            }
            case "letsencrypt" -> ipHostname && !acme.ipCertificates() ? Optional.of("--hostname is an IP address; " +
                "use --certmode=manual for a self-signed cert, or set --acme-ip-certs to get LetsEncrypt IP address " +
                "certs") : Optional.empty();
            default -> Optional.empty();
        };
    }

    /**
     * The rate limit and connection cap flags (spec §4.8, and jderper's own).
     *
     * @param rateConfig          {@code -rate-config}, empty for none.
     * @param perClientRate       {@code -per-client-rate-limit} in bytes/s (jderper's own); 0 for none.
     * @param perClientBurst      {@code -per-client-rate-burst} in bytes (jderper's own).
     * @param acceptLimit         {@code -accept-connection-limit} per second; +Inf for none.
     * @param acceptBurst         {@code -accept-connection-burst}.
     * @param maxConnections      {@code -max-connections} (jderper's own); 0 for what the open-file limit allows.
     * @param maxConnectionsPerIp {@code -max-connections-per-ip} (jderper's own); 0 for no cap.
     * @param tcpKeepAlive        {@code -tcp-keepalive-time} (derper: 10m; zero or negative turns it off).
     * @param tcpUserTimeout      {@code -tcp-user-timeout} (derper: 15s).
     * @param inputs              {@code -handshake-timeout}, {@code -http-read-timeout}, {@code -http-max-header-bytes}
     *                            and {@code -frame-read-timeout} (jderper's own).
     * @param maxClientQueueBytes {@code -max-client-queue-bytes} (jderper's own).
     * @param maxTotalQueueBytes  {@code -max-total-queue-bytes} (jderper's own); 0 for half the direct memory limit.
     */
    public record Limits(String rateConfig, long perClientRate, long perClientBurst, double acceptLimit,
        int acceptBurst, int maxConnections, int maxConnectionsPerIp, Duration tcpKeepAlive, Duration tcpUserTimeout,
        InputLimits inputs, long maxClientQueueBytes, long maxTotalQueueBytes)
    {
    }

    /**
     * What the main listener's pages show (spec §4.11, §4.12, §4.15).
     *
     * @param home                         {@code -home}.
     * @param bootstrapDnsNames            {@code -bootstrap-dns-names}.
     * @param unpublishedBootstrapDnsNames {@code -unpublished-bootstrap-dns-names}, each {@code name} or
     *                                     {@code name/txtname} (rolled out by the TXT record's percentage).
     * @param debugAccess                  {@code -debug-allow-from} (jderper's own): who may open {@code /debug/}.
     */
    public record Pages(HomePage home, List<String> bootstrapDnsNames, List<String> unpublishedBootstrapDnsNames,
        DebugAccess debugAccess)
    {
    }

    /**
     * The client admission flags (spec §4.9, and jderper's own).
     *
     * @param verifyClients   {@code -verify-clients}: ask the local tailscaled.
     * @param socket          {@code -socket}: tailscaled's LocalAPI socket, empty for its default.
     * @param verifyClientUrl {@code -verify-client-url}, empty for none.
     * @param failOpen        {@code -verify-client-url-fail-open} (derper's default true).
     * @param cacheTtl        {@code -verify-client-url-cache-ttl} (jderper's own).
     * @param allowlist       {@code -allowlist} (jderper's own), empty for none.
     * @param bearerTokenFile {@code -bearer-token-file} (jderper's own), empty for none.
     */
    public record Admission(boolean verifyClients, String socket, String verifyClientUrl, boolean failOpen,
        Duration cacheTtl, String allowlist, String bearerTokenFile)
    {
        /**
         * @return whether any admission control is configured.
         */
        public boolean any()
        {
            return verifyClients || !verifyClientUrl.isEmpty() || !allowlist.isEmpty() || !bearerTokenFile.isEmpty();
        }
    }

    /**
     * The ACME flags.
     *
     * @param email          {@code -acme-email}, empty if not given.
     * @param eabKeyId       {@code -acme-eab-kid}.
     * @param eabKey         {@code -acme-eab-key}.
     * @param ipCertificates {@code -acme-ip-certs}.
     * @param directory      {@code -acme-directory} (jderper's own), empty for the cert mode's CA.
     * @param caFile         {@code -acme-ca-file} (jderper's own), empty for the system's CAs.
     */
    public record Acme(String email, String eabKeyId, String eabKey, boolean ipCertificates, String directory,
        String caFile)
    {
    }

    /**
     * Whether the main listener serves TLS: derper does when the port is 443 or the cert mode is manual.
     *
     * @param port the main listener's port.
     * @return true for TLS.
     */
    public boolean servesTls(final int port)
    {
        return 443 == port || "manual".equals(certMode);
    }
}
