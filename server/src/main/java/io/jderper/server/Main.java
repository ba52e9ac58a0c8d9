package io.jderper.server;

import io.jderper.core.handshake.ServerHandshake;
import io.jderper.core.key.NodePrivateKey;
import io.jderper.core.ratelimit.ReceiveRateLimit;
import io.jderper.core.router.QueueLimits;
import io.jderper.core.router.RelayConfig;
import io.jderper.core.router.RelayMetrics;
import io.jderper.core.router.Router;
import io.jderper.server.admission.ClientAdmission;
import io.jderper.server.check.CheckCommand;
import io.jderper.server.cli.DerperOptions;
import io.jderper.server.cli.GoFlags;
import io.jderper.server.limits.RateConfigFile;
import io.jderper.server.logging.LogFormat;
import io.jderper.server.metrics.MetricsAddress;
import io.jderper.server.metrics.MetricsServer;
import io.jderper.server.metrics.MetricsSources;
import io.jderper.stun.server.StunServer;
import io.jderper.tls.AcmeCertificates;
import io.jderper.tls.AcmeSettings;
import io.jderper.tls.CertificateStore;
import io.jderper.tls.ManualCertificateReloader;
import io.jderper.tls.MetaCertificate;
import io.jderper.tls.ServerCertificate;
import io.jderper.tls.ServerTlsContexts;
import io.jderper.tls.TlsProvider;
import io.jderper.transport.LeakDetection;
import io.jderper.transport.RelayServer;
import io.jderper.transport.http.BootstrapDns;
import io.jderper.transport.http.HttpPages;
import io.jderper.transport.http.StatusPage;
import io.jderper.transport.http.TlsAlpnValidation;
import io.jderper.transport.io.ConnectionLimits;
import io.jderper.transport.io.OpenFileLimit;
import io.jderper.transport.io.TcpTimeouts;
import io.jderper.transport.mesh.Mesh;
import io.netty.buffer.ByteBuf;
import io.netty.handler.ssl.SslContext;
import io.netty.util.internal.PlatformDependent;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import sun.misc.Signal;

import java.io.IOException;
import java.io.PrintStream;
import java.net.InetSocketAddress;
import java.net.URI;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.security.SecureRandom;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Function;
import java.util.function.Supplier;

/**
 * The jderper command: a drop-in for derper's command line.
 */
public final class Main
{
    private static final Logger LOG = LoggerFactory.getLogger(Main.class);
    private static final int EXIT_USAGE = 2;
    private static final int EXIT_FAILURE = 1;
    /** How often manual-mode certificate files are checked for new contents. */
    private static final long CERT_RELOAD_SECONDS = 5;
    private static final long RATE_CONFIG_CHECK_SECONDS = 5;
    /** derper's environment knob that turns the per-connection TCP RTT samples off. */
    static final String DISABLE_RTT_STATS = "TS_DERP_DISABLE_RTT_STATS";
    /** Bound on a graceful shutdown's drain: well inside the 10 s a service manager usually waits. */
    private static final Duration SHUTDOWN_DRAIN = Duration.ofSeconds(5);
    /**
     * Restarting's hints: come back after 1 to 3 s (spread so that not everyone dials at once) and try for 5 s,
     * since Tailscale's client code asks servers for no more than a few seconds.
     */
    private static final int RECONNECT_IN_MS = 1_000;
    private static final int RECONNECT_JITTER_MS = 2_000;
    private static final int RECONNECT_TRY_FOR_MS = 5_000;

    private Main()
    {
    }

    /**
     * @param args derper-style flags.
     */
    public static void main(final String[] args)
    {
        if (args.length > 0 && List.of("derpmap", "check", "config").contains(args[0]))
        {
            final String[] rest = java.util.Arrays.copyOfRange(args, 1, args.length);
            final int status = switch (args[0])
            {
                case "check" -> CheckCommand.run(rest, System.out, System.err);
                case "config" -> ConfigCommand.run(rest, System.getenv(), System.out, System.err);
                default -> DerpMapCommand.run(rest, System.getenv(), System.out, System.err);
            };
            if (0 != status)
            {
                System.exit(status);
            }
            return;
        }
        final DerperOptions.Resolved resolved;
        try
        {
            resolved = DerperOptions.resolve(args, System.getenv());
        }
        catch (final GoFlags.HelpRequested ex)
        {
            System.out.print(DerperOptions.usage());
            return;
        }
        catch (final GoFlags.FlagException ex)
        {
            System.err.println("jderper: " + ex.getMessage());
            System.err.print(DerperOptions.usage());
            System.exit(EXIT_USAGE);
            return;
        }
        final DerperOptions options = resolved.options();
        if (options.version())
        {
            System.out.println(Version.get());
            return;
        }
        if (!options.logFormat().apply() && LogFormat.TEXT != options.logFormat())
        {
            LOG.warn("-log-format {} not applied: logging is configured by a file of its own, which decides the format",
                options.logFormat().name().toLowerCase(java.util.Locale.ROOT));
        }
        try
        {
            run(resolved, System.out);
            // Every thread the relay started has ended or is a daemon; exit explicitly all the same, with 0.
            System.exit(0);
        }
        catch (final StartupException ex)
        {
            LOG.error("{}", ex.getMessage());
            System.exit(EXIT_FAILURE);
        }
        catch (final RuntimeException ex)
        {
            LOG.error("jderper failed to start", ex);
            System.exit(EXIT_FAILURE);
        }
        catch (final InterruptedException ex)
        {
            Thread.currentThread().interrupt();
        }
    }

    private static void run(final DerperOptions.Resolved resolved, final PrintStream out) throws InterruptedException
    {
        final DerperOptions options = resolved.options();
        final InetSocketAddress listen;
        try
        {
            listen = ListenAddress.parse(options.listen());
        }
        catch (final IllegalArgumentException ex)
        {
            throw new StartupException("-a: " + ex.getMessage());
        }
        // Before anything can fail, so that a start that does shows what it was asked to do.
        ConfigSummary.lines(resolved, listen, false).forEach(out::println);
        out.flush();
        options.warnings().forEach(warning -> LOG.warn("{}", warning));
        LOG.info("Netty buffer leak detection: {} (-D{}=simple|advanced|paranoid to change)",
            LeakDetection.disableUnlessConfigured(), LeakDetection.LEVEL_PROPERTY);
        // STUN first, as derper starts it, so a DERP map pointing here answers netcheck as soon as DERP does.
        final Optional<StunServer> stun = options.runStun() ?
            Optional.of(startStun(listen, options)) : Optional.empty();
        try
        {
            serve(options, listen, stun, out);
        }
        finally
        {
            stun.ifPresent(StunServer::close);
        }
    }

    private static StunServer startStun(final InetSocketAddress listen, final DerperOptions options)
    {
        final InetSocketAddress bind = new InetSocketAddress(listen.getAddress(), options.stunPort());
        try
        {
            return StunServer.start(bind, options.stunAnyClient());
        }
        catch (final IOException ex)
        {
            throw new StartupException("STUN: " + ex.getMessage() + " (-stun-port picks another port; -stun=false " +
                "runs without STUN)");
        }
    }

    private static void serve(final DerperOptions options, final InetSocketAddress listen,
        final Optional<StunServer> stun, final PrintStream out) throws InterruptedException
    {
        final SecureRandom random = new SecureRandom();
        final NodePrivateKey serverKey = serverKey(options, random);
        final boolean tls = options.servesTls(listen.getPort());
        Optional<SslContext> sslContext = Optional.empty();
        Optional<ManualCertificateReloader> certificates = Optional.empty();
        Optional<AcmeCertificates> acme = Optional.empty();
        String tlsProviderName = "none";
        // Plain HTTP: one descriptor per connection.
        long capacity = OpenFileLimit.connectionsWithin(OpenFileLimit.soft(), OpenFileLimit.PER_CONNECTION);
        if (tls)
        {
            options.certProviderRefusal().ifPresent(reason ->
            {
                throw new StartupException("derper: can not start cert provider: " + reason);
            });
            final CertificateStore store;
            if ("manual".equals(options.certMode()))
            {
                final ManualCertificateReloader reloader = loadCertificate(options);
                certificates = Optional.of(reloader);
                watchCertificateFiles(reloader);
                store = reloader;
            }
            else
            {
                final AcmeCertificates issued = acmeCertificates(options);
                acme = Optional.of(issued);
                store = issued;
            }
            final TlsProvider provider = tlsProvider(options.tlsProvider());
            tlsProviderName = provider.name().toLowerCase(Locale.ROOT);
            capacity = logConnectionCapacity(provider);
            sslContext = Optional.of(tlsContext(provider, store, serverKey));
        }
        final Optional<byte[]> meshKey = meshKey(options);
        if (!options.meshWith().isEmpty() && meshKey.isEmpty())
        {
            throw new StartupException("--mesh-with requires --mesh-psk-file");
        }
        final ServerHandshake handshake = new ServerHandshake(serverKey, meshKey, random);
        final RelayMetrics metrics = new RelayMetrics();
        // Configuration files that are read again when they change (allowlist, rate config).
        final ScheduledExecutorService reloads = Executors.newSingleThreadScheduledExecutor(
            Thread.ofVirtual().name("jderper-config-reload").factory());
        final ClientAdmission admission;
        try
        {
            admission = ClientAdmission.start(options.admission(), metrics, System.getenv(), reloads);
        }
        catch (final IOException ex)
        {
            throw new StartupException(ex.getMessage());
        }
        final Router<ByteBuf> router = new Router<>(handshake, admission.policy(), relayConfig(options, System.getenv()),
            metrics);
        applyRateLimits(options.limits(), router, reloads);
        router.setQueueLimits(queueLimits(options.limits()));
        // Made per request: the ports are known once bound (port 0 picks one), and a reloaded self-signed certificate
        // changes the pin.
        final AtomicReference<Function<Optional<String>, DerpMapEntry>> derpMapEntry = new AtomicReference<>();
        final Optional<ManualCertificateReloader> served = certificates;
        final Optional<Supplier<String>> derpMapJson = options.derpMapJson() ?
            Optional.of(() -> derpMapEntry.get().apply(pinOf(served)).map().toPrettyString()) : Optional.empty();
        final BootstrapDns bootstrapDns = bootstrapDns(options.pages());
        final AtomicReference<Mesh> runningMesh = new AtomicReference<>();
        final StatusPage status = new StatusPage(metrics, System.nanoTime(), () -> meshStatus(runningMesh.get()),
            () -> null == derpMapEntry.get() ? "" :
                derpMapEntry.get().apply(pinOf(served)).node().toPrettyString());
        reloads.scheduleAtFixedRate(() -> status.sample(System.nanoTime()), 0, StatusPage.SAMPLE_PERIOD_MS,
            TimeUnit.MILLISECONDS);
        final HttpPages pages = new HttpPages(options.pages().home(), bootstrapDns, options.pages().debugAccess(),
            status);
        LOG.info("home page: {}; /debug/ open to {}", pages.home(), pages.debugAccess());
        final RelayServer server;
        try
        {
            final Optional<AcmeCertificates> challenges = acme;
            server = RelayServer.start(new RelayServer.Settings(listen, sslContext, options.httpPort(), handshake,
                router, 0, options.runDerp(), derpMapJson,
                token -> challenges.flatMap(issued -> issued.http01Response(token)),
                challenges.map(issued -> new TlsAlpnValidation()
                {
                    @Override
                    public boolean active()
                    {
                        return issued.validatingTlsAlpn01();
                    }

                    @Override
                    public Optional<SslContext> contextFor(final String serverName)
                    {
                        return issued.tlsAlpn01Context(serverName);
                    }
                }), connectionLimits(options.limits(), capacity),
                new TcpTimeouts(options.limits().tcpKeepAlive(), options.limits().tcpUserTimeout()))
                .withInputLimits(options.limits().inputs()).withPages(pages));
        }
        catch (final RuntimeException ex)
        {
            throw new StartupException("cannot listen on " + options.listen() + ": " + ex.getMessage());
        }
        final Optional<ScheduledExecutorService> bootstrapDnsRefresh = bootstrapDns.configured() ?
            Optional.of(bootstrapDns.startRefreshing()) : Optional.empty();
        // The CA validates through the listeners, so certificates are asked for once they are up.
        acme.ifPresent(Main::keepAcmeCertificate);
        final Optional<Mesh> mesh = options.meshWith().isEmpty() ? Optional.empty() :
            Optional.of(Mesh.start(options.meshWith(), serverKey, meshKey.orElseThrow(),
                Mesh.trustFrom(System.getenv()), tlsProvider(options.tlsProvider()), router));
        mesh.ifPresent(runningMesh::set);
        // SIGTERM and SIGINT start a graceful shutdown here, on the main thread, instead of the JVM's exit: the
        // process then ends with status 0 once every client was told to reconnect.
        final CountDownLatch stopRequested = new CountDownLatch(1);
        for (final String name : List.of("TERM", "INT"))
        {
            Signal.handle(new Signal(name), signal ->
            {
                LOG.info("received SIG{}", name);
                stopRequested.countDown();
            });
        }
        if (!options.runDerp())
        {
            LOG.warn("-derp=false: /derp answers 404; this server relays nothing{}",
                stun.isPresent() ? " and serves STUN only" : "");
        }
        final int stunPort = stun.map(running -> running.localAddress().getPort()).orElse(-1);
        derpMapEntry.set(pin -> DerpMapEntry.forServer(options, server.mainAddress().getPort(), stunPort, pin));
        final MetricsSources metricsSources = new MetricsSources(metrics, router, stun.map(StunServer::counters),
            Version.get(), tlsProviderName, server.transportName());
        final Optional<MetricsServer> metricsServer = options.metricsAddr()
            .flatMap(address -> startMetrics(address, metricsSources));
        printBanner(out, options, server, serverKey, tls, derpMapEntry.get().apply(pinOf(certificates)));
        stopRequested.await();
        LOG.info("shutting down: telling {} client(s) to reconnect (Restarting), draining for at most {} s",
            metrics.currentConnections.get(), SHUTDOWN_DRAIN.toSeconds());
        mesh.ifPresent(Mesh::close);
        final int left = server.shutdownGracefully(SHUTDOWN_DRAIN, RECONNECT_IN_MS, RECONNECT_JITTER_MS,
            RECONNECT_TRY_FOR_MS);
        if (left > 0)
        {
            LOG.warn("{} connection(s) had not drained after {} s and were closed", left, SHUTDOWN_DRAIN.toSeconds());
        }
        admission.close();
        bootstrapDnsRefresh.ifPresent(ScheduledExecutorService::shutdownNow);
        LOG.info("relay stopped: {}", metrics.summary());
        metricsServer.ifPresent(MetricsServer::close);
    }

    /**
     * Starts the metrics listener. An address the operator gave must be bound; the default, loopback only, is
     * skipped with a warning when taken (a second relay on the host, another exporter), so it never stops a start.
     */
    private static Optional<MetricsServer> startMetrics(final MetricsAddress address, final MetricsSources sources)
    {
        try
        {
            final MetricsServer started = MetricsServer.start(address.address(), sources);
            LOG.info("metrics at http://{}{} and {} (-metrics-addr)", ConfigSummary.hostPort(
                started.address().getAddress().getHostAddress(), started.address().getPort()),
                MetricsServer.METRICS_PATH, MetricsServer.VARZ_PATH);
            return Optional.of(started);
        }
        catch (final IOException ex)
        {
            if (address.explicit())
            {
                throw new StartupException("-metrics-addr " + ConfigSummary.hostPort(
                    address.address().getAddress().getHostAddress(), address.address().getPort()) + ": cannot listen: " +
                    ex.getMessage());
            }
            LOG.warn("no metrics listener: the default {} cannot be bound ({}); -metrics-addr picks another " +
                "address, -metrics-addr off turns it off", MetricsAddress.DEFAULT, ex.getMessage());
            return Optional.empty();
        }
    }

    private static List<StatusPage.MeshPeerStatus> meshStatus(final Mesh mesh)
    {
        return null == mesh ? List.of() : mesh.peers().stream()
            .map(peer -> new StatusPage.MeshPeerStatus(peer.label(), peer.isConnected())).toList();
    }

    /**
     * The names of {@code /bootstrap-dns}, looked up with the system's resolver once the server is up.
     */
    private static BootstrapDns bootstrapDns(final DerperOptions.Pages pages)
    {
        final BootstrapDns dns = new BootstrapDns(pages.bootstrapDnsNames(), pages.unpublishedBootstrapDnsNames(),
            BootstrapDns.SYSTEM_RESOLVER, BootstrapDns.LOOKUP_TIMEOUT);
        if (dns.configured())
        {
            LOG.info("/bootstrap-dns: {}, looked up every {} min", dns, BootstrapDns.REFRESH_INTERVAL.toMinutes());
        }
        return dns;
    }

    /**
     * The per-client receive rate limit: derper's {@code -rate-config} file (reloaded on SIGHUP, as derper does, and
     * when it changes) or jderper's two flags.
     */
    private static QueueLimits queueLimits(final DerperOptions.Limits limits)
    {
        // Packets wait in pooled direct buffers: half of what the JVM may allocate leaves the rest to TLS and reads.
        final long total = 0 != limits.maxTotalQueueBytes() ? limits.maxTotalQueueBytes() :
            Math.max(limits.maxClientQueueBytes(), PlatformDependent.maxDirectMemory() / 2);
        final QueueLimits queueLimits = new QueueLimits(limits.maxClientQueueBytes(), total);
        LOG.info("queued packets: at most {} bytes per client, {} MiB in all", queueLimits.perClientBytes(),
            queueLimits.totalBytes() >> 20);
        return queueLimits;
    }

    private static void applyRateLimits(final DerperOptions.Limits limits, final Router<ByteBuf> router,
        final ScheduledExecutorService reloads)
    {
        if (!limits.rateConfig().isEmpty())
        {
            final RateConfigFile file;
            try
            {
                file = RateConfigFile.load(Path.of(limits.rateConfig()), router);
            }
            catch (final IOException ex)
            {
                throw new StartupException("derper: loading rate config: " + ex.getMessage());
            }
            reloads.scheduleWithFixedDelay(file::reloadIfChanged, RATE_CONFIG_CHECK_SECONDS, RATE_CONFIG_CHECK_SECONDS,
                TimeUnit.SECONDS);
            // Taking SIGHUP over stops it from shutting the JVM down, as derper's handler does for Go.
            Signal.handle(new Signal("HUP"), signal ->
            {
                LOG.info("received SIGHUP, reloading rate config from {}", file);
                file.reload();
            });
            LOG.info("-rate-config {}: reloaded on SIGHUP and when it changes (checked every {} s)", file,
                RATE_CONFIG_CHECK_SECONDS);
        }
        else if (limits.perClientRate() > 0)
        {
            final ReceiveRateLimit limit = ReceiveRateLimit.of(limits.perClientRate(), limits.perClientBurst());
            router.setReceiveRateLimit(limit);
            LOG.info("per-client receive rate limit: {} (mesh peers exempt)", limit);
        }
    }

    /**
     * @param capacity connections the open-file limit leaves room for, or -1 if unknown: the cap when
     *                 {@code -max-connections} is 0, so that connections beyond it are closed on arrival rather
     *                 than accepts failing (and logging) for want of descriptors.
     */
    private static ConnectionLimits connectionLimits(final DerperOptions.Limits limits, final long capacity)
    {
        final int maxConnections = 0 != limits.maxConnections() ? limits.maxConnections() :
            capacity > 0 && capacity < Integer.MAX_VALUE ? (int)capacity : 0;
        final ConnectionLimits bounds = new ConnectionLimits(limits.acceptLimit(), limits.acceptBurst(),
            maxConnections, limits.maxConnectionsPerIp());
        if (bounds.limitsAcceptRate())
        {
            LOG.info("accepting at most {} connections/s after a burst of {} (-accept-connection-limit, " +
                "-accept-connection-burst)", bounds.acceptPerSecond(), bounds.acceptBurst());
        }
        if (bounds.maxConnections() > 0 || bounds.maxConnectionsPerIp() > 0)
        {
            LOG.info("connections open at once: at most {} in all, {} per IP address",
                0 == bounds.maxConnections() ? "no cap" : bounds.maxConnections(),
                0 == bounds.maxConnectionsPerIp() ? "no cap" : bounds.maxConnectionsPerIp());
        }
        return bounds;
    }

    /**
     * The relay core's settings from the flags, and from derper's {@code TS_DERP_DISABLE_RTT_STATS}, which turns the
     * per-connection TCP RTT samples of {@code derp_tcp_rtt} off (a system call per connection every ten seconds,
     * which derper lets operators of very large relays save). A value Go would not read as a boolean stops the start,
     * as in derper.
     */
    static RelayConfig relayConfig(final DerperOptions options, final Map<String, String> environment)
    {
        final RelayConfig config = RelayConfig.defaults(options.tcpWriteTimeout().toMillis())
            .withHandshakeTimeoutMs(options.limits().inputs().handshake().toMillis());
        final String disableRttStats = environment.getOrDefault(DISABLE_RTT_STATS, "");
        if (disableRttStats.isEmpty())
        {
            return config;
        }
        final boolean disabled = GoFlags.goBool(disableRttStats).orElseThrow(() -> new StartupException(
            "invalid boolean environment variable " + DISABLE_RTT_STATS + " value \"" + disableRttStats + "\""));
        if (!disabled)
        {
            return config;
        }
        LOG.info("TCP RTT samples off ({}): derp_tcp_rtt stays at zero", DISABLE_RTT_STATS);
        return config.withTcpRttIntervalMs(0);
    }

    /**
     * The mesh key as derper finds it: {@code TAILSCALE_DERPER_MESH_KEY} with {@code -dev}, else
     * {@code -mesh-psk-file} or its default paths.
     */
    private static Optional<byte[]> meshKey(final DerperOptions options)
    {
        if (options.dev())
        {
            final String fromEnvironment = System.getenv(MeshKeyFile.DEV_ENVIRONMENT_VARIABLE);
            if (null == fromEnvironment || fromEnvironment.isEmpty())
            {
                LOG.info("no mesh key configured for -dev (set {} for one)", MeshKeyFile.DEV_ENVIRONMENT_VARIABLE);
                return Optional.empty();
            }
            try
            {
                final byte[] key = MeshKeyFile.parse(fromEnvironment);
                LOG.info("DERP mesh key configured from {}", MeshKeyFile.DEV_ENVIRONMENT_VARIABLE);
                return Optional.of(key);
            }
            catch (final IllegalArgumentException ex)
            {
                throw new StartupException(MeshKeyFile.DEV_ENVIRONMENT_VARIABLE + ": " + ex.getMessage());
            }
        }
        final Optional<Path> file = options.meshPskFile().isEmpty() ?
            MeshKeyFile.defaultPath(System.getenv("HOME")) : Optional.of(Path.of(options.meshPskFile()));
        if (file.isEmpty())
        {
            LOG.info("no mesh key configured");
            return Optional.empty();
        }
        try
        {
            final byte[] key = MeshKeyFile.read(file.get());
            LOG.info("DERP mesh key configured from {}", file.get());
            return Optional.of(key);
        }
        catch (final IOException ex)
        {
            throw new StartupException(ex.getMessage());
        }
    }

    private static NodePrivateKey serverKey(final DerperOptions options, final SecureRandom random)
    {
        if (options.dev())
        {
            if (!options.configPath().isEmpty())
            {
                LOG.info("-dev: using a fresh random server key; -c {} is not read", options.configPath());
            }
            return NodePrivateKey.generate(random);
        }
        String path = options.configPath();
        if (path.isEmpty())
        {
            if (0 != new com.sun.security.auth.module.UnixSystem().getUid())
            {
                throw new StartupException("-c <config path> not specified");
            }
            path = "/var/lib/derper/derper.key";
        }
        try
        {
            return ServerKeyFile.loadOrCreate(Path.of(path), random);
        }
        catch (final IOException ex)
        {
            throw new StartupException(ex.getMessage());
        }
    }

    /**
     * @return the {@code sha256-raw:} pin of the certificate served now, if it is a self-signed IP certificate.
     */
    private static Optional<String> pinOf(final Optional<ManualCertificateReloader> certificates)
    {
        return certificates.map(ManualCertificateReloader::current).filter(ServerCertificate::selfSignedIp)
            .map(ServerCertificate::sha256RawPin);
    }

    private static AcmeCertificates acmeCertificates(final DerperOptions options)
    {
        final DerperOptions.Acme flags = options.acme();
        if (!flags.caFile().isEmpty() && !java.nio.file.Files.isReadable(Path.of(flags.caFile())))
        {
            throw new StartupException("-acme-ca-file " + flags.caFile() + ": not a readable file");
        }
        try
        {
            final URI directory = flags.directory().isEmpty() ?
                ("gcp".equals(options.certMode()) ? AcmeSettings.GOOGLE : AcmeSettings.LETS_ENCRYPT) :
                URI.create(flags.directory());
            final AcmeCertificates issued = new AcmeCertificates(new AcmeSettings(directory,
                Optional.of(flags.caFile()).filter(file -> !file.isEmpty()).map(Path::of), options.certDir(),
                options.hostname(), Optional.of(flags.email()).filter(email -> !email.isEmpty()),
                flags.eabKeyId().isEmpty() ? Optional.empty() : Optional.of(
                    new AcmeSettings.ExternalAccountBinding(flags.eabKeyId(), flags.eabKey())),
                options.httpPort() >= 0), Clock.systemUTC());
            LOG.info("-certmode {}: the hostname is proven with {}", options.certMode(), options.httpPort() >= 0 ?
                "http-01 on the plain HTTP port " + options.httpPort() : "tls-alpn-01 on the TLS port (-http-port -1)");
            issued.loadCached();
            return issued;
        }
        catch (final IllegalArgumentException ex)
        {
            throw new StartupException("-certmode " + options.certMode() + ": " + ex.getMessage());
        }
    }

    /**
     * Asks for a certificate now if none is cached, then again whenever renewal is due, on a virtual thread: ACME
     * calls block on the network for minutes at worst.
     */
    private static void keepAcmeCertificate(final AcmeCertificates acme)
    {
        Thread.ofVirtual().name("jderper-acme").start(() ->
        {
            while (!Thread.currentThread().isInterrupted())
            {
                final Duration next = acme.renewIfDue();
                LOG.debug("ACME: next certificate check in {}", next);
                try
                {
                    Thread.sleep(next);
                }
                catch (final InterruptedException ex)
                {
                    return;
                }
            }
        });
    }

    private static ManualCertificateReloader loadCertificate(final DerperOptions options)
    {
        try
        {
            return ManualCertificateReloader.load(options.certDir(), options.hostname());
        }
        catch (final IOException | RuntimeException ex)
        {
            throw new StartupException("certificate for " + options.hostname() + " in " + options.certDir() + ": " +
                ex.getMessage());
        }
    }

    /**
     * Reads the certificate files again every few seconds and serves new contents to new handshakes; established
     * connections keep theirs. A virtual thread does the reading, so a slow disk never holds up an event loop.
     */
    private static void watchCertificateFiles(final ManualCertificateReloader reloader)
    {
        final ScheduledExecutorService watcher = Executors.newSingleThreadScheduledExecutor(
            Thread.ofVirtual().name("jderper-cert-reload").factory());
        watcher.scheduleWithFixedDelay(reloader::reloadIfChanged, CERT_RELOAD_SECONDS, CERT_RELOAD_SECONDS,
            TimeUnit.SECONDS);
        LOG.info("watching {} for new certificate files (checked every {} s)", reloader, CERT_RELOAD_SECONDS);
    }

    private static TlsProvider tlsProvider(final String choice)
    {
        try
        {
            return TlsProvider.named(choice);
        }
        catch (final IllegalStateException ex)
        {
            throw new StartupException("-tls-provider " + choice + ": " + ex.getMessage() +
                "; use -tls-provider auto or jdk");
        }
    }

    /** Says how many TLS clients the open-file limit allows, since Conscrypt takes three descriptors each. */
    /**
     * @return how many TLS clients the open-file limit leaves room for, or -1 if that is unknown or unlimited.
     */
    private static long logConnectionCapacity(final TlsProvider provider)
    {
        final long limit = OpenFileLimit.soft();
        if (limit < 0 || limit == Long.MAX_VALUE)
        {
            return -1;
        }
        final int perConnection = provider.isConscrypt() ? OpenFileLimit.PER_CONSCRYPT_CONNECTION :
            OpenFileLimit.PER_CONNECTION;
        final long capacity = OpenFileLimit.connectionsWithin(limit, perConnection);
        LOG.info("open-file limit {}: room for about {} TLS clients ({} descriptor{} each{})", limit, capacity,
            perConnection, perConnection == 1 ? "" : "s",
            provider.isConscrypt() ? ", Conscrypt; -tls-provider openssl takes 1" : "");
        return capacity;
    }

    private static SslContext tlsContext(final TlsProvider provider, final CertificateStore certificates,
        final NodePrivateKey serverKey)
    {
        try
        {
            return ServerTlsContexts.create(provider, certificates,
                MetaCertificate.create(serverKey.publicKey().toHex()));
        }
        catch (final IOException | RuntimeException ex)
        {
            throw new StartupException("TLS setup failed: " + ex.getMessage());
        }
    }

    private static void printBanner(final PrintStream out, final DerperOptions options, final RelayServer server,
        final NodePrivateKey serverKey, final boolean tls, final DerpMapEntry entry)
    {
        out.println("jderper " + Version.get() + " relaying at " + ConfigSummary.derpUrl(options,
            server.mainAddress()));
        out.println("server public key: " + serverKey.publicKey());
        if (tls)
        {
            out.println("DERP map node entry: " + entry.node());
            out.println("DERP map (one region): " + entry.map());
        }
        out.println("stop with Ctrl-C or: kill " + ProcessHandle.current().pid());
        out.flush();
    }

    /**
     * A start-up failure with a message meant for the operator.
     */
    private static final class StartupException extends RuntimeException
    {
        StartupException(final String message)
        {
            super(message, null, false, false);
        }
    }
}
