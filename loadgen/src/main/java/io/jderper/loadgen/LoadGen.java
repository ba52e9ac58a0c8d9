package io.jderper.loadgen;

import io.jderper.core.key.NodePrivateKey;
import io.jderper.transport.LeakDetection;
import io.jderper.transport.client.DerpClientOptions;
import io.jderper.transport.client.DerpTrust;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Spec;

import java.io.PrintStream;
import java.io.PrintWriter;
import java.net.Inet4Address;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.URISyntaxException;
import java.net.UnknownHostException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.LocalDateTime;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

import io.jderper.tls.TlsProvider;
import java.util.SplittableRandom;
import java.util.concurrent.Callable;

/**
 * {@code loadgen}: simulates thousands of DERP peers against a DERP server (jderper or Go derper) and reports
 * handshake times, one-way packet latency, throughput, loss and, given its pid, the server's CPU and memory.
 *
 * <p>Exit status: 0 when the run met its criteria, 1 when it did not (server unreachable, too many errors, loss in
 * the lossless profile) with a one-line reason, 2 for bad arguments.
 */
@Command(
    name = "loadgen",
    mixinStandardHelpOptions = true,
    versionProvider = LoadGen.Version.class,
    sortOptions = false,
    usageHelpAutoWidth = true,
    description = {
        "Simulates thousands of DERP peers (each with its own node key and a full handshake) against a DERP server " +
            "and measures connect time, one-way latency, throughput, loss and the server's CPU and RSS.",
        "Exit status: 0 success, 1 failure (one-line reason on stderr), 2 bad arguments."})
public final class LoadGen implements Callable<Integer>
{
    /** Exit status of a run that met its criteria. */
    static final int EXIT_OK = 0;
    /** Exit status of a failed run: unreachable server, too many errors, loss in the lossless profile. */
    static final int EXIT_FAILED = 1;
    /** Exit status for bad arguments. */
    static final int EXIT_USAGE = 2;
    /** Clients per source address by default, well under the ~28,000 ephemeral ports of one address. */
    static final int CLIENTS_PER_SOURCE_ADDRESS = 20_000;
    /** 127.0.0.2 to 127.0.0.255. */
    static final int MAX_SOURCE_ADDRESSES = 254;
    /** STUN's port, as DERP maps assume when STUNPort is 0. */
    static final int STUN_PORT = 3478;
    /** Requests in flight per STUN socket: the window slot travels in 16 bits of the transaction ID. */
    static final int MAX_STUN_WINDOW = 65536;

    @Spec
    private CommandSpec spec;

    @Option(names = "--url", paramLabel = "URL",
        description = "DERP URL, https://host:port/derp or http://host:port/derp (required but for --scenario stun " +
            "with --stun-server).")
    private String url;

    @Option(names = "--cert-name", paramLabel = "sha256-raw:HEX",
        description = "Pin the server certificate as a DERP map CertName does (sha256-raw:<64 hex>).")
    private String certName;

    @Option(names = "--ca-file", paramLabel = "PEM",
        description = "Trust only the CA certificates in this PEM file (default: the system's CAs).")
    private Path caFile;

    @Option(names = "--bearer-token-file", paramLabel = "FILE",
        description = "Send the token in this file as Authorization: Bearer with every upgrade, for a relay that " +
            "admits clients by jderper's -bearer-token-file.")
    private Path bearerTokenFile;

    @Option(names = "--clients", defaultValue = "100", paramLabel = "N",
        description = "Simulated peers (default: ${DEFAULT-VALUE}).")
    private int clients;

    @Option(names = "--scenario", defaultValue = "pairs", paramLabel = "idle|pairs|fanin|churn|stun",
        converter = ScenarioConverter.class, description = "What the peers do (default: ${DEFAULT-VALUE}).")
    private Scenario scenario;

    @Option(names = "--stun-server", paramLabel = "HOST[:PORT]",
        description = {"stun: where the binding requests go (default: the --url host, port 3478). --clients is " +
            "the number of UDP sockets, --rate the requests per second per socket (0: keep --window in flight).",
            "Keep --clients x --window to a few hundred: the server's socket buffer holds about 250 requests."})
    private String stunServer;

    @Option(names = "--stun-timeout", defaultValue = "1s", converter = Durations.class, paramLabel = "TIME",
        description = "stun: a request unanswered this long is lost (default: ${DEFAULT-VALUE}).")
    private Duration stunTimeout;

    @Option(names = "--bidirectional", description = "pairs: 2i+1 also sends to 2i.")
    private boolean bidirectional;

    @Option(names = "--fanin-senders", defaultValue = "8", paramLabel = "N",
        description = "fanin: senders per receiver (default: ${DEFAULT-VALUE}).")
    private int faninSenders;

    @Option(names = "--disco-fraction", defaultValue = "0", paramLabel = "0..1",
        description = "Share of packets sent as disco, which the relay queues apart (default: ${DEFAULT-VALUE}).")
    private double discoFraction;

    @Option(names = "--packet-size", defaultValue = "1200", paramLabel = "BYTES",
        description = "Payload bytes per packet, 20 (62 with disco) to 65536 (default: ${DEFAULT-VALUE}).")
    private int packetSize;

    @Option(names = "--rate", defaultValue = "0", paramLabel = "PPS",
        description = "Packets per second per sender; 0 = as fast as the window allows (default: ${DEFAULT-VALUE}).")
    private double rate;

    @Option(names = "--window", defaultValue = "16", paramLabel = "N",
        description = {"Most packets in flight per sender (sent, not yet received; default: ${DEFAULT-VALUE}).",
            "While window x senders per receiver <= 32 (the relay's per-client queue) the run is lossless: " +
                "any loss fails it."})
    private int window;

    @Option(names = "--duration", defaultValue = "30s", converter = Durations.class, paramLabel = "TIME",
        description = "How long the scenario runs, e.g. 20s, 2m (default: ${DEFAULT-VALUE}).")
    private Duration duration;

    @Option(names = "--connect-rate", defaultValue = "0", paramLabel = "PER_S",
        description = "Handshakes started per second while ramping up; 0 = unlimited (default: ${DEFAULT-VALUE}).")
    private double connectRate;

    @Option(names = "--connect-concurrency", defaultValue = "256", paramLabel = "N",
        description = "Most handshakes in flight at once (default: ${DEFAULT-VALUE}).")
    private int connectConcurrency;

    @Option(names = "--churn-rate", defaultValue = "10", paramLabel = "PER_S",
        description = "churn: clients closed and reopened per second (default: ${DEFAULT-VALUE}).")
    private double churnRate;

    @Option(names = "--churn-traffic",
        description = {"churn: the peers also exchange packets in pairs (2i sends to 2i+1 at --rate with --window, " +
            "as in pairs), and a pair is churned together: its sender pauses, the packets in flight arrive (at " +
            "most --drain), then both peers close and reconnect and sending resumes once both are back.",
            "So a closed client never has packets in flight: every loss counted is the relay's."})
    private boolean churnTraffic;

    @Option(names = "--hold", converter = Durations.class, paramLabel = "TIME",
        description = "idle: how long to hold the connections (default: --duration); other scenarios: idle time " +
            "between connecting and the traffic (default: 0).")
    private Duration hold;

    @Option(names = "--ping-interval", defaultValue = "10s", converter = Durations.class, paramLabel = "TIME",
        description = "idle: each client Pings the server this often, one Ping in flight at most; 0 = never " +
            "(default: ${DEFAULT-VALUE}).")
    private Duration pingInterval;

    @Option(names = "--source-addresses", paramLabel = "K",
        description = "Bind clients round-robin to 127.0.0.2..127.0.0.(K+1) (loopback servers only; 0 = no bind; " +
            "default: one per " + CLIENTS_PER_SOURCE_ADDRESS + " clients, at least 1).")
    private Integer sourceAddresses;

    @Option(names = "--threads", paramLabel = "N",
        description = "Event loop threads (default: the number of cores).")
    private Integer threads;

    @Option(names = "--server-pid", paramLabel = "PID",
        description = "Sample this process's CPU time and RSS from /proc (start, end, once a second).")
    private Long serverPid;

    @Option(names = "--out", paramLabel = "DIR",
        description = "Directory for summary.json, latency.hlog, latency.png, throughput.png " +
            "(default: loadgen-results/<time>-<scenario>).")
    private Path out;

    @Option(names = "--seed", paramLabel = "N", description = "Seed of keys, filler and disco mix (default: random).")
    private Long seed;

    @Option(names = "--max-error-fraction", defaultValue = "0", paramLabel = "0..1",
        description = "Connection errors tolerated, as a share of connection attempts (default: ${DEFAULT-VALUE}).")
    private double maxErrorFraction;

    @Option(names = "--fail-on-loss", arity = "0..1", fallbackValue = "true", paramLabel = "BOOL",
        description = "Fail the run on any lost packet (default: true in the lossless window profile, else false).")
    private Boolean failOnLoss;

    @Option(names = "--drain", defaultValue = "2s", converter = Durations.class, paramLabel = "TIME",
        description = "Wait this long after the scenario for packets in flight (default: ${DEFAULT-VALUE}).")
    private Duration drain;

    @Option(names = "--tls-provider", defaultValue = "auto", paramLabel = "auto|conscrypt|openssl|jdk",
        description = {"TLS for the clients: auto, conscrypt, openssl or jdk (default: ${DEFAULT-VALUE}).",
            "auto takes OpenSSL (netty-tcnative) if it loads, else Conscrypt, else the JDK's. Conscrypt opens a " +
                "pipe pair per connection (3 file descriptors a client, the others 1): auto leaves it for the JDK " +
                "when the clients would not fit in the open-file limit."})
    private String tlsProvider;

    @Option(names = "--handshake-timeout", defaultValue = "10s", converter = Durations.class, paramLabel = "TIME",
        description = "Bound on one connect and handshake (default: ${DEFAULT-VALUE}).")
    private Duration handshakeTimeout;

    private final List<String> arguments;
    private final PrintStream out0;
    private final PrintStream err0;

    LoadGen(final List<String> arguments, final PrintStream out, final PrintStream err)
    {
        this.arguments = arguments;
        this.out0 = out;
        this.err0 = err;
    }

    /**
     * Runs loadgen and exits with its status.
     *
     * @param args the command line.
     */
    public static void main(final String[] args)
    {
        LeakDetection.disableUnlessConfigured();
        System.exit(run(args, System.out, System.err));
    }

    /**
     * Runs loadgen in this JVM.
     *
     * @param args the command line.
     * @param out  where progress and the summary go.
     * @param err  where errors go.
     * @return the exit status.
     */
    static int run(final String[] args, final PrintStream out, final PrintStream err)
    {
        final CommandLine cmd = new CommandLine(new LoadGen(List.of(args), out, err));
        cmd.setOut(new PrintWriter(out, true));
        cmd.setErr(new PrintWriter(err, true));
        cmd.setParameterExceptionHandler((ex, ignored) ->
        {
            err.println("loadgen: " + ex.getMessage());
            err.println("loadgen: see loadgen --help");
            return EXIT_USAGE;
        });
        cmd.setExecutionExceptionHandler((ex, ignored, parseResult) ->
        {
            err.println("loadgen: FAILED: " + oneLine(ex));
            return EXIT_FAILED;
        });
        return cmd.execute(args);
    }

    /**
     * Parses and checks a command line without running it (tests).
     *
     * @param args the command line.
     * @return the settings.
     * @throws ParameterException for bad arguments.
     */
    static LoadSettings parse(final String... args)
    {
        final LoadGen gen = new LoadGen(List.of(args), System.out, System.err);
        final CommandLine cmd = new CommandLine(gen);
        cmd.parseArgs(args);
        return gen.settings();
    }

    @Override
    public Integer call() throws Exception
    {
        final LoadSettings settings = settings();
        final RunResult result = Scenario.STUN == settings.scenario() ? new StunRun(settings, out0).run() :
            new LoadRun(settings, out0).run();
        if (!result.ok())
        {
            err0.println("loadgen: FAILED: " + result.reason());
        }
        return result.ok() ? EXIT_OK : EXIT_FAILED;
    }

    /**
     * Checks the options and derives the defaults that depend on others.
     *
     * @return the settings.
     * @throws ParameterException naming the bad option and value.
     */
    LoadSettings settings()
    {
        if (null == url && Scenario.STUN != scenario)
        {
            throw bad("--url is required (only --scenario stun can do with --stun-server alone)");
        }
        final URI uri = null == url ? null : checkUrl();
        final DerpTrust trust = null == uri ? DerpTrust.system() : trust(uri);
        final InetSocketAddress stun = stunServer(uri);
        checkCounts();
        checkTraffic();
        checkTimes();
        if (connectRate < 0 || Double.isNaN(connectRate))
        {
            throw bad("--connect-rate=" + connectRate + ", must be >= 0 (0 = unlimited)");
        }
        if (connectConcurrency < 1)
        {
            throw bad("--connect-concurrency=" + connectConcurrency + ", must be >= 1");
        }
        if (Scenario.CHURN == scenario && !(churnRate > 0))
        {
            throw bad("--churn-rate=" + churnRate + ", must be > 0 for --scenario churn");
        }
        if (Scenario.CHURN == scenario && churnTraffic && connectConcurrency < 2)
        {
            throw bad("--connect-concurrency=" + connectConcurrency + ", must be >= 2 for --churn-traffic (a pair " +
                "reconnects together)");
        }
        if (!(maxErrorFraction >= 0 && maxErrorFraction <= 1))
        {
            throw bad("--max-error-fraction=" + maxErrorFraction + ", must be between 0 and 1");
        }
        final int loops = null == threads ? Runtime.getRuntime().availableProcessors() : threads;
        if (loops < 1 || loops > 1024)
        {
            throw bad("--threads=" + loops + ", must be 1 to 1024");
        }
        if (null != serverPid && (serverPid <= 0 || !Files.isReadable(Path.of("/proc", serverPid.toString(), "stat"))))
        {
            throw bad("--server-pid=" + serverPid + ": no such process (no readable /proc/" + serverPid + "/stat)");
        }
        final Path dir = null != out ? out : Path.of("loadgen-results",
            LocalDateTime.now().format(DateTimeFormatter.ofPattern("yyyyMMdd-HHmmss")) + "-" + scenario.cliName());
        if (Files.exists(dir) && !Files.isDirectory(dir))
        {
            throw bad("--out=" + dir + " exists and is not a directory");
        }
        final String provider = tlsProvider.trim().toLowerCase(Locale.ROOT);
        if (!TlsProvider.NAMES.contains(provider))
        {
            throw bad("--tls-provider=" + tlsProvider + ", want one of " + TlsProvider.NAMES);
        }
        final boolean lossless = (long)window * (Scenario.FANIN == scenario ? faninSenders : 1) <=
            LoadSettings.RELAY_QUEUE_DEPTH;
        final Duration holdTime = null != hold ? hold : (Scenario.IDLE == scenario ? duration : Duration.ZERO);
        return new LoadSettings(arguments, uri, trust, clients, scenario, discoFraction, packetSize, rate, window,
            Scenario.IDLE == scenario ? holdTime : duration, connectRate, connectConcurrency, churnRate, holdTime,
            sourceAddresses(null != stun ? stun.getAddress() : address(uri)), loops, null == serverPid ? -1 : serverPid,
            dir,
            null != seed ? seed : new SplittableRandom().nextLong(), maxErrorFraction,
            null != failOnLoss ? failOnLoss : lossless, lossless, bidirectional, faninSenders, drain, pingInterval,
            handshakeTimeout, provider, stun, stunTimeout, bearerToken(), Scenario.CHURN == scenario && churnTraffic);
    }

    /**
     * @return the STUN target for --scenario stun, null for the others.
     */
    private InetSocketAddress stunServer(final URI uri)
    {
        if (Scenario.STUN != scenario)
        {
            if (null != stunServer)
            {
                throw bad("--stun-server is for --scenario stun");
            }
            return null;
        }
        if (window > MAX_STUN_WINDOW)
        {
            throw bad("--window=" + window + ", must be at most " + MAX_STUN_WINDOW + " for --scenario stun");
        }
        if (stunTimeout.compareTo(Duration.ofMillis(10)) < 0 || stunTimeout.compareTo(Duration.ofSeconds(10)) > 0)
        {
            throw bad("--stun-timeout=" + Durations.format(stunTimeout) + ", must be 10ms to 10s");
        }
        final String target = null != stunServer ? stunServer.trim() : null != uri ? uri.getHost() : null;
        if (null == target || target.isEmpty())
        {
            throw bad("--scenario stun needs --stun-server HOST[:PORT] or a --url whose host runs STUN");
        }
        // HOST, HOST:PORT, an IPv6 literal, or [IPv6]:PORT.
        String host = target;
        String portText = null;
        final int lastColon = target.lastIndexOf(':');
        if (target.startsWith("["))
        {
            final int close = target.indexOf(']');
            if (close < 0 || (close + 1 < target.length() && target.charAt(close + 1) != ':'))
            {
                throw bad("--stun-server=" + target + ": want HOST, HOST:PORT or [IPv6]:PORT");
            }
            host = target.substring(1, close);
            portText = close + 1 < target.length() ? target.substring(close + 2) : null;
        }
        else if (lastColon >= 0 && target.indexOf(':') == lastColon)
        {
            host = target.substring(0, lastColon);
            portText = target.substring(lastColon + 1);
        }
        int port = STUN_PORT;
        if (null != portText)
        {
            try
            {
                port = Integer.parseInt(portText);
            }
            catch (final NumberFormatException ex)
            {
                port = -1;
            }
            if (port < 1 || port > 65535)
            {
                throw bad("--stun-server=" + target + ": port must be 1 to 65535");
            }
        }
        try
        {
            return new InetSocketAddress(InetAddress.getByName(host), port);
        }
        catch (final UnknownHostException ex)
        {
            throw bad("--stun-server=" + target + ": unknown host " + host);
        }
    }

    private static InetAddress address(final URI uri)
    {
        try
        {
            return InetAddress.getByName(uri.getHost());
        }
        catch (final UnknownHostException ex)
        {
            return null;
        }
    }

    private URI checkUrl()
    {
        final URI uri;
        try
        {
            uri = new URI(url);
        }
        catch (final URISyntaxException ex)
        {
            throw bad("--url=" + url + " is not a URL: " + ex.getMessage());
        }
        try
        {
            DerpClientOptions.builder(uri, NodePrivateKey.fromBytes(new byte[32])).build();
        }
        catch (final IllegalArgumentException ex)
        {
            throw bad("--url=" + url + ": " + ex.getMessage().replace("url=" + uri + ": ", ""));
        }
        return uri;
    }

    private String bearerToken()
    {
        if (null == bearerTokenFile)
        {
            return null;
        }
        final String token;
        try
        {
            token = Files.readString(bearerTokenFile).strip();
        }
        catch (final java.io.IOException ex)
        {
            throw bad("--bearer-token-file=" + bearerTokenFile + ": cannot read it (" + ex + ")");
        }
        if (token.isEmpty() || token.chars().anyMatch(c -> c <= ' ' || c >= 0x7F))
        {
            throw bad("--bearer-token-file=" + bearerTokenFile + ": want one token of printable ASCII, no spaces");
        }
        return token;
    }

    private DerpTrust trust(final URI uri)
    {
        if (null != certName && null != caFile)
        {
            throw bad("--cert-name and --ca-file are exclusive: give one way to trust the server");
        }
        final boolean https = "https".equalsIgnoreCase(uri.getScheme());
        if (!https && (null != certName || null != caFile))
        {
            throw bad((null != certName ? "--cert-name" : "--ca-file") + " needs an https URL, --url=" + url);
        }
        if (null != certName)
        {
            try
            {
                return DerpTrust.sha256Raw(certName);
            }
            catch (final IllegalArgumentException ex)
            {
                throw bad("--cert-name=" + certName + ": want sha256-raw:<64 hex characters>");
            }
        }
        if (null != caFile)
        {
            if (!Files.isReadable(caFile) || Files.isDirectory(caFile))
            {
                throw bad("--ca-file=" + caFile + " is not a readable file");
            }
            return DerpTrust.caFile(caFile);
        }
        return DerpTrust.system();
    }

    private void checkCounts()
    {
        final int minClients = switch (scenario)
        {
            case PAIRS -> 2;
            case FANIN -> Math.max(2, faninSenders + 1);
            default -> 1;
        };
        if (faninSenders < 1)
        {
            throw bad("--fanin-senders=" + faninSenders + ", must be >= 1");
        }
        if (clients < minClients)
        {
            throw bad("--clients=" + clients + ", must be >= " + minClients + " for --scenario " +
                scenario.cliName());
        }
        if (clients > 1_000_000)
        {
            throw bad("--clients=" + clients + ", must be <= 1000000");
        }
    }

    private void checkTraffic()
    {
        if (!(discoFraction >= 0 && discoFraction <= 1))
        {
            throw bad("--disco-fraction=" + discoFraction + ", must be between 0 and 1");
        }
        final int minSize = discoFraction > 0 ? PayloadDescriptor.MIN_DISCO_LENGTH : PayloadDescriptor.MIN_DATA_LENGTH;
        if (packetSize < minSize || packetSize > 65536)
        {
            throw bad("--packet-size=" + packetSize + ", must be " + minSize + " to 65536" +
                (discoFraction > 0 ? " with disco packets" : ""));
        }
        if (!(rate >= 0) || Double.isInfinite(rate))
        {
            throw bad("--rate=" + rate + ", must be >= 0 (0 = as fast as the window allows)");
        }
        if (window < 1 || window > 1 << 20)
        {
            throw bad("--window=" + window + ", must be 1 to 1048576");
        }
    }

    private void checkTimes()
    {
        if (duration.isZero() || duration.compareTo(Duration.ofDays(1)) > 0)
        {
            throw bad("--duration=" + Durations.format(duration) + ", must be > 0 and at most 24h");
        }
        if (null != hold && hold.compareTo(Duration.ofDays(1)) > 0)
        {
            throw bad("--hold=" + Durations.format(hold) + ", must be at most 24h");
        }
        if (Scenario.IDLE == scenario && null != hold && hold.isZero())
        {
            throw bad("--hold=0 for --scenario idle: give a time to hold the connections");
        }
        if (drain.compareTo(Duration.ofMinutes(1)) > 0)
        {
            throw bad("--drain=" + Durations.format(drain) + ", must be at most 60s");
        }
        if (pingInterval.compareTo(Duration.ofMillis(100)) < 0 && !pingInterval.isZero())
        {
            throw bad("--ping-interval=" + Durations.format(pingInterval) + ", must be 0 (never) or >= 100ms");
        }
        if (handshakeTimeout.compareTo(Duration.ofMillis(100)) < 0 ||
            handshakeTimeout.compareTo(Duration.ofMinutes(5)) > 0)
        {
            throw bad("--handshake-timeout=" + Durations.format(handshakeTimeout) + ", must be 100ms to 5m");
        }
    }

    private List<InetAddress> sourceAddresses(final InetAddress target)
    {
        final int count = null != sourceAddresses ? sourceAddresses :
            Math.max(1, (clients + CLIENTS_PER_SOURCE_ADDRESS - 1) / CLIENTS_PER_SOURCE_ADDRESS);
        if (count < 0 || count > MAX_SOURCE_ADDRESSES)
        {
            throw bad("--source-addresses=" + count + ", must be 0 to " + MAX_SOURCE_ADDRESSES);
        }
        if (0 == count)
        {
            return List.of();
        }
        if (!(target instanceof Inet4Address && target.isLoopbackAddress()))
        {
            if (null != sourceAddresses)
            {
                throw bad("--source-addresses=" + count + " binds to 127.0.0.x: the server must be on IPv4 " +
                    "loopback, not " + (null == target ? url : target.getHostAddress()));
            }
            return List.of();
        }
        final List<InetAddress> addresses = new ArrayList<>(count);
        for (int i = 0; i < count; i++)
        {
            try
            {
                addresses.add(InetAddress.getByAddress(new byte[] {127, 0, 0, (byte)(2 + i)}));
            }
            catch (final UnknownHostException ex)
            {
                throw new IllegalStateException(ex);
            }
        }
        return addresses;
    }

    private ParameterException bad(final String message)
    {
        return new ParameterException(spec.commandLine(), message);
    }

    /**
     * @param failure any exception.
     * @return its message on one line, with the innermost cause when that says more.
     */
    static String oneLine(final Throwable failure)
    {
        Throwable root = failure;
        while (null != root.getCause() && root.getCause() != root)
        {
            root = root.getCause();
        }
        String text = null != failure.getMessage() ? failure.getMessage() : failure.getClass().getSimpleName();
        if (root != failure && null != root.getMessage() && !text.contains(root.getMessage()))
        {
            text = text + " (" + root.getMessage() + ")";
        }
        return text.replaceAll("\\s*[\\r\\n]+\\s*", " ");
    }

    /**
     * Accepts scenario names in any case.
     */
    static final class ScenarioConverter implements CommandLine.ITypeConverter<Scenario>
    {
        @Override
        public Scenario convert(final String value)
        {
            try
            {
                return Scenario.valueOf(value.trim().toUpperCase(Locale.ROOT));
            }
            catch (final IllegalArgumentException ex)
            {
                throw new CommandLine.TypeConversionException("'" + value + "' is not one of idle, pairs, fanin, " +
                    "churn, stun");
            }
        }
    }

    /**
     * The version from the jar's manifest.
     */
    static final class Version implements CommandLine.IVersionProvider
    {
        @Override
        public String[] getVersion()
        {
            final String version = LoadGen.class.getPackage().getImplementationVersion();
            return new String[] {"jderper loadgen " + (null != version ? version : "(development build)")};
        }
    }
}
