package io.jderper.server.metrics;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.jderper.core.admission.AdmissionPolicy;
import io.jderper.core.handshake.ServerHandshake;
import io.jderper.core.key.NodePrivateKey;
import io.jderper.core.protocol.ProtocolLimits;
import io.jderper.core.router.DropReason;
import io.jderper.core.router.RelayConfig;
import io.jderper.core.router.RelayMetrics;
import io.jderper.core.router.Router;
import io.jderper.core.router.TlsVersion;
import io.jderper.server.Version;
import io.jderper.stun.StunMessages;
import io.jderper.stun.server.StunServer;
import io.jderper.tls.ManualCertificates;
import io.jderper.tls.MetaCertificate;
import io.jderper.tls.ServerCertificate;
import io.jderper.tls.ServerTlsContexts;
import io.jderper.tls.TlsProvider;
import io.jderper.transport.RelayServer;
import io.jderper.transport.client.DerpClient;
import io.jderper.transport.client.DerpClientListener;
import io.jderper.transport.client.DerpClientOptions;
import io.jderper.transport.client.DerpClients;
import io.jderper.transport.client.DerpTrust;
import io.jderper.transport.http.BootstrapDns;
import io.jderper.transport.http.DebugAccess;
import io.jderper.transport.http.HomePage;
import io.jderper.transport.http.HttpPages;
import io.netty.buffer.ByteBuf;
import io.netty.channel.EventLoopGroup;
import io.netty.handler.ssl.SslContext;
import io.netty.util.ReferenceCountUtil;
import org.agrona.DirectBuffer;
import org.agrona.concurrent.UnsafeBuffer;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.lang.management.RuntimeMXBean;
import java.net.ConnectException;
import java.net.DatagramPacket;
import java.net.DatagramSocket;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.URI;
import java.net.UnknownHostException;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.security.KeyStore;
import java.security.SecureRandom;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;

import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLSocket;
import javax.net.ssl.TrustManagerFactory;

/**
 * The metrics listener in front of a real relay (TLS on loopback, STUN, two DERP clients): what the relay counted
 * is what {@code /metrics} and {@code /debug/varz} say, under the names each promises.
 */
class MetricsServerTest
{
    private static final SecureRandom RANDOM = new SecureRandom();
    private static final long WAIT_SECONDS = 10;
    private static final InetAddress LOOPBACK = InetAddress.getLoopbackAddress();
    private static final String OPEN_METRICS = "application/openmetrics-text; version=1.0.0; charset=utf-8";

    @TempDir
    Path certdir;

    private final List<AutoCloseable> toClose = new ArrayList<>();
    private final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(WAIT_SECONDS)).build();

    @AfterEach
    void closeEverything() throws Exception
    {
        for (int i = toClose.size() - 1; i >= 0; i--)
        {
            toClose.get(i).close();
        }
        http.close();
    }

    @Test
    void shouldExportWhatTheRelayCountedUnderDerpersNamesAndOurs() throws Exception
    {
        final RelayMetrics metrics = new RelayMetrics();
        final NodePrivateKey serverKey = NodePrivateKey.generate(RANDOM);
        final ServerCertificate certificate = ManualCertificates.load(certdir, "127.0.0.1");
        final TlsProvider provider = TlsProvider.detect();
        final SslContext tls = ServerTlsContexts.create(provider, ManualCertificates.store(certificate, "127.0.0.1"),
            MetaCertificate.create(serverKey.publicKey().toHex()));
        toClose.add(() -> ReferenceCountUtil.release(tls));
        final ServerHandshake handshake = new ServerHandshake(serverKey, Optional.empty(), RANDOM);
        final Router<ByteBuf> router = new Router<>(handshake, AdmissionPolicy.ADMIT_ALL,
            RelayConfig.defaults(ProtocolLimits.DEFAULT_WRITE_TIMEOUT_MS), metrics);
        final RelayServer relay = RelayServer.start(new RelayServer.Settings(new InetSocketAddress(LOOPBACK, 0),
            Optional.of(tls), -1, handshake, router, 2));
        toClose.add(relay);
        final StunServer stun = StunServer.start(new InetSocketAddress(LOOPBACK, 0), false);
        toClose.add(stun);
        final MetricsServer server = MetricsServer.start(new InetSocketAddress(LOOPBACK, 0), new MetricsSources(
            metrics, router, Optional.of(stun.counters()), Version.get(), provider.name().toLowerCase(Locale.ROOT),
            relay.transportName()));
        toClose.add(server);

        final EventLoopGroup group = DerpClients.newEventLoopGroup(1);
        toClose.add(() -> group.shutdownGracefully(0, 1, TimeUnit.SECONDS).syncUninterruptibly());
        final DerpClients clients = DerpClients.builder(group).build();
        toClose.add(clients);
        final URI url = URI.create("https://127.0.0.1:" + relay.mainAddress().getPort() + "/derp");
        final DerpTrust trust = DerpTrust.sha256Raw(certificate.sha256RawPin());
        final Received toA = new Received();
        final Received toB = new Received();
        final DerpClient a = connect(clients, url, trust, toA);
        final DerpClient b = connect(clients, url, trust, toB);
        await("both clients registered", () -> 2 == metrics.currentConnections.get());

        // A sends B five packets of 100..104 bytes, B sends A three of 200..202, A sends one to a key nobody has.
        for (int i = 0; i < 5; i++)
        {
            assertThat(a.sendPacketAndFlush(b.publicKey(), payload(100 + i))).isTrue();
        }
        for (int i = 0; i < 3; i++)
        {
            assertThat(b.sendPacketAndFlush(a.publicKey(), payload(200 + i))).isTrue();
        }
        assertThat(a.sendPacketAndFlush(NodePrivateKey.generate(RANDOM).publicKey(), payload(77))).isTrue();
        toB.await(5);
        toA.await(3);
        await("the drop counted", () -> 1 == metrics.packetsDropped(DropReason.UNKNOWN_DEST, RelayMetrics.KIND_OTHER));
        stunExchange(stun.localAddress().getPort(), stun);
        await("a housekeeping tick sampled the queues", () -> metrics.queueDepth.count(0) > 0);

        final RuntimeMXBean runtime = ManagementFactory.getRuntimeMXBean();
        final long uptimeBefore = runtime.getUptime() / 1000;
        final HttpResponse<String> varz = get(server, MetricsServer.VARZ_PATH, "*/*");
        final long uptimeAfter = runtime.getUptime() / 1000;
        assertThat(varz.statusCode()).isEqualTo(200);
        assertThat(varz.headers().firstValue("Content-Type")).hasValue("text/plain; version=0.0.4; charset=utf-8");
        final Map<String, Double> derper = samples(varz.body());
        assertThat(derper).containsEntry("derp_accepts", 2.0)
            .containsEntry("derp_current_connections", 2.0)
            .containsEntry("derp_clients_local", 2.0)
            .containsEntry("derp_clients_total", 2.0)
            .containsEntry("derp_packets_received", 9.0)
            .containsEntry("derp_bytes_received", 510.0 + 603 + 77)
            .containsEntry("derp_packets_sent", 8.0)
            .containsEntry("derp_bytes_sent", 510.0 + 603)
            .containsEntry("derp_packets_received_kind{kind=\"other\"}", 9.0)
            .containsEntry("derp_packets_received_kind{kind=\"disco\"}", 0.0)
            .containsEntry("derp_packets_dropped{reason=\"unknown_dest\",kind=\"other\"}", 1.0)
            .containsEntry("derp_bytes_dropped{reason=\"unknown_dest\",kind=\"other\"}", 77.0)
            .containsEntry("derp_packets_dropped{reason=\"queue_head\",kind=\"disco\"}", 0.0)
            .containsEntry("derp_packets_dropped{reason=\"total_queue_bytes\",kind=\"other\"}", 0.0)
            .containsEntry("derp_websocket_accepts", 0.0)
            .containsEntry("tls_listener_accepted_connections", 2.0)
            .containsEntry("stun_requests{disposition=\"success\"}", 2.0)
            .containsEntry("stun_requests{disposition=\"not_stun\"}", 1.0)
            .containsEntry("stun_addrfamily{family=\"ipv4\"}", 2.0)
            .containsEntry("jderper_handshake_seconds_count", 2.0)
            .containsEntry("jderper_connections_closed_by_violation{violation=\"frame_too_large\"}", 0.0)
            .containsEntry("jderper_info{version=\"" + Version.get() + "\",tls_provider=\"" +
                provider.name().toLowerCase(Locale.ROOT) + "\",transport=\"" + relay.transportName() + "\"}", 1.0)
            .as("the two DERP clients negotiate TLS 1.3 and stay connected")
            .containsEntry("derper_tls_request_version{version=\"1.3\"}", 2.0)
            .containsEntry("derper_tls_request_version{version=\"1.2\"}", 0.0)
            .containsEntry("derper_tls_active_version{version=\"1.3\"}", 2.0)
            .containsEntry("derper_tls_active_version{version=\"1.2\"}", 0.0)
            .containsEntry("bootstrap_dns_requests", 0.0)
            .as("no RTT sample within the first 10 s; both TCP RTTs readable")
            .containsEntry("derp_tcp_rtt{le=\"10ms\"}", 0.0)
            .containsEntry("derp_tcp_rtt{le=\"inf\"}", 0.0)
            .containsEntry("derp_tcp_rtt{le=\"non-tcp\"}", 0.0)
            .containsEntry("derp_tcp_rtt{le=\"error\"}", 0.0)
            .containsEntry("process_start_unix_time", (double)(runtime.getStartTime() / 1000))
            .containsEntry("version{version=\"" + Version.get() + "\",binary=\"jderper\"}", 1.0);
        assertThat(derper.get("uptime_sec")).isBetween((double)uptimeBefore, (double)uptimeAfter);
        assertThat(derper.keySet()).filteredOn(name -> name.startsWith("derp_packets_dropped{"))
            .as("every reason by both kinds, derper's and jderper's own").hasSize(DropReason.values().length * 2);
        assertThat(varz.body()).contains("# TYPE derp_accepts counter\n", "# TYPE derp_current_connections gauge\n",
            "# TYPE jderper_queue_depth_packets histogram\n").doesNotContain("derp_accepts_total", "jvm_");

        final HttpResponse<String> text = get(server, MetricsServer.METRICS_PATH, "text/plain");
        assertThat(text.statusCode()).isEqualTo(200);
        assertThat(text.headers().firstValue("Content-Type")).hasValueSatisfying(
            type -> assertThat(type).startsWith("text/plain; version=0.0.4"));
        final Map<String, Double> prometheus = samples(text.body());
        assertThat(prometheus).as("counters end in _total here").containsEntry("derp_accepts_total", 2.0)
            .containsEntry("derp_current_connections", 2.0)
            .containsEntry("derp_packets_sent_total", 8.0)
            .containsEntry("derp_bytes_sent_total", 1113.0)
            .containsEntry("derp_packets_received_total", 9.0)
            .containsEntry("derp_bytes_received_total", 1190.0)
            .as("the library sorts labels by name; derper's order is kept on /debug/varz")
            .containsEntry("derp_packets_dropped_total{kind=\"other\",reason=\"unknown_dest\"}", 1.0)
            .containsEntry("stun_requests_total{disposition=\"success\"}", 2.0)
            .containsEntry("jderper_handshake_seconds_count", 2.0)
            .containsEntry("derper_tls_request_version_total{version=\"1.3\"}", 2.0)
            .containsEntry("derp_tcp_rtt_total{le=\"500ms\"}", 0.0)
            .containsEntry("derper_tls_active_version{version=\"1.3\"}", 2.0)
            .containsEntry("process_start_unix_time", (double)(runtime.getStartTime() / 1000))
            .containsEntry("version{binary=\"jderper\",version=\"" + Version.get() + "\"}", 1.0)
            .containsKey("uptime_sec_total")
            .doesNotContainKey("derp_accepts");
        assertThat(prometheus.get("jderper_queue_depth_packets_bucket{le=\"+Inf\"}")).isPositive();
        assertThat(prometheus.keySet()).as("the JVM's GC and memory").anyMatch(name -> name.startsWith("jvm_gc_"))
            .anyMatch(name -> name.startsWith("jvm_memory_used_bytes"));

        final HttpResponse<String> openMetrics = get(server, MetricsServer.METRICS_PATH, OPEN_METRICS);
        assertThat(openMetrics.headers().firstValue("Content-Type")).hasValueSatisfying(
            type -> assertThat(type).startsWith("application/openmetrics-text"));
        assertThat(openMetrics.body()).contains("# TYPE derp_packets_sent counter\n", "derp_packets_sent_total 8.0\n",
            "# TYPE jderper info\n").endsWith("# EOF\n");

        assertThat(get(server, "/debug/vars", "*/*").statusCode()).isEqualTo(404);
        assertThat(get(server, "/metricsx", "*/*").statusCode()).isEqualTo(404);
    }

    @Test
    void shouldCountTlsVersionsAndBootstrapDnsQueriesFromTheirTraffic() throws Exception
    {
        final RelayMetrics metrics = new RelayMetrics();
        final NodePrivateKey serverKey = NodePrivateKey.generate(RANDOM);
        final ServerCertificate certificate = ManualCertificates.load(certdir, "127.0.0.1");
        final SslContext tls = ServerTlsContexts.create(TlsProvider.detect(),
            ManualCertificates.store(certificate, "127.0.0.1"), MetaCertificate.create(serverKey.publicKey().toHex()));
        toClose.add(() -> ReferenceCountUtil.release(tls));
        // One published name that resolves, one that never does, one unpublished name, and one unpublished name
        // whose TXT record rolls it out to no client yet.
        final BootstrapDns dns = new BootstrapDns(List.of("a.example.com", "missing.example.com"),
            List.of("hidden.example.com", "dark.example.com/dark-rollout.example.com"), new BootstrapDns.Resolver()
            {
                @Override
                public List<InetAddress> resolve(final String name) throws IOException
                {
                    return switch (name)
                    {
                        case "a.example.com" -> List.of(InetAddress.ofLiteral("192.0.2.1"));
                        case "hidden.example.com" -> List.of(InetAddress.ofLiteral("192.0.2.2"));
                        case "dark.example.com" -> List.of(InetAddress.ofLiteral("192.0.2.3"));
                        default -> throw new UnknownHostException(name);
                    };
                }

                @Override
                public List<String> txt(final String name)
                {
                    return "dark-rollout.example.com".equals(name) ? List.of("0") : List.of();
                }
            }, Duration.ofSeconds(WAIT_SECONDS));
        dns.refresh();
        final ServerHandshake handshake = new ServerHandshake(serverKey, Optional.empty(), RANDOM);
        final Router<ByteBuf> router = new Router<>(handshake, AdmissionPolicy.ADMIT_ALL,
            RelayConfig.defaults(ProtocolLimits.DEFAULT_WRITE_TIMEOUT_MS), metrics);
        final RelayServer relay = RelayServer.start(new RelayServer.Settings(new InetSocketAddress(LOOPBACK, 0),
            Optional.of(tls), -1, handshake, router, 2).withPages(new HttpPages(HomePage.DEFAULT, dns,
            DebugAccess.LOOPBACK_ONLY)));
        toClose.add(relay);
        final MetricsServer server = MetricsServer.start(new InetSocketAddress(LOOPBACK, 0), new MetricsSources(
            metrics, router, Optional.empty(), "test", "jdk", relay.transportName()));
        toClose.add(server);
        final SSLContext trusting = trusting(certificate);
        final InetSocketAddress main = relay.mainAddress();

        final SSLSocket tls12 = tls(trusting, main, "TLSv1.2");
        final SSLSocket tls13 = tls(trusting, main, "TLSv1.3");
        await("both handshakes counted", () -> 1 == metrics.tlsHandshakes(TlsVersion.TLS_1_2) &&
            1 == metrics.tlsHandshakes(TlsVersion.TLS_1_3));
        final Map<String, Double> open = samples(get(server, MetricsServer.VARZ_PATH, "*/*").body());
        assertThat(open).containsEntry("derper_tls_request_version{version=\"1.2\"}", 1.0)
            .containsEntry("derper_tls_request_version{version=\"1.3\"}", 1.0)
            .containsEntry("derper_tls_request_version{version=\"unknown\"}", 0.0)
            .containsEntry("derper_tls_active_version{version=\"1.2\"}", 1.0)
            .containsEntry("derper_tls_active_version{version=\"1.3\"}", 1.0);

        // Each answer closes its connection; the last four come over new TLS 1.3 connections.
        assertThat(bootstrapDns(tls12, "hidden.example.com")).contains("192.0.2.2");
        assertThat(bootstrapDns(tls13, "a.example.com")).contains("192.0.2.1");
        assertThat(bootstrapDns(tls(trusting, main, "TLSv1.3"), "missing.example.com")).contains("192.0.2.1");
        assertThat(bootstrapDns(tls(trusting, main, "TLSv1.3"), "unknown.example.com")).contains("192.0.2.1");
        assertThat(bootstrapDns(tls(trusting, main, "TLSv1.3"), null)).contains("192.0.2.1");
        assertThat(bootstrapDns(tls(trusting, main, "TLSv1.3"), "dark.example.com")).as("rolled out to 0%")
            .contains("192.0.2.1").doesNotContain("192.0.2.3");
        await("every TLS connection closed", () -> 0 == metrics.tlsOpen(TlsVersion.TLS_1_2) &&
            0 == metrics.tlsOpen(TlsVersion.TLS_1_3));

        final Map<String, Double> derper = samples(get(server, MetricsServer.VARZ_PATH, "*/*").body());
        assertThat(derper).containsEntry("derper_tls_request_version{version=\"1.2\"}", 1.0)
            .containsEntry("derper_tls_request_version{version=\"1.3\"}", 5.0)
            .as("back to none open").containsEntry("derper_tls_active_version{version=\"1.2\"}", 0.0)
            .containsEntry("derper_tls_active_version{version=\"1.3\"}", 0.0)
            .containsEntry("bootstrap_dns_requests", 6.0)
            .containsEntry("bootstrap_dns_unpublished_hits", 2.0)
            .containsEntry("bootstrap_dns_published_hits", 1.0)
            .containsEntry("bootstrap_dns_published_misses", 1.0)
            .containsEntry("bootstrap_dns_unpublished_misses", 2.0)
            .containsEntry("bootstrap_dns_unpublished_percent_misses", 1.0)
            .containsEntry("bootstrap_dns_queried_domains", 5.0);
        final Map<String, Double> prometheus = samples(get(server, MetricsServer.METRICS_PATH, "text/plain").body());
        assertThat(prometheus).containsEntry("derper_tls_request_version_total{version=\"1.3\"}", 5.0)
            .containsEntry("derper_tls_active_version{version=\"1.2\"}", 0.0)
            .containsEntry("bootstrap_dns_requests_total", 6.0)
            .containsEntry("bootstrap_dns_published_misses_total", 1.0)
            .containsEntry("bootstrap_dns_unpublished_percent_misses_total", 1.0)
            .containsEntry("bootstrap_dns_queried_domains", 5.0);
    }

    @Test
    void shouldBindTheDefaultAddressOnLoopbackOnly() throws Exception
    {
        final MetricsAddress parsed = MetricsAddress.parse(MetricsAddress.DEFAULT, false).orElseThrow();
        assertThat(parsed.address().getAddress().isLoopbackAddress()).isTrue();
        assertThat(parsed.address().getPort()).isEqualTo(9340);

        // The default host on a free port: 127.0.0.2 reaches this host's loopback too, but not a socket bound to
        // 127.0.0.1, while it would reach one bound to every address.
        final MetricsServer server = MetricsServer.start(new InetSocketAddress(parsed.address().getAddress(), 0),
            sources());
        toClose.add(server);

        assertThat(server.address().getAddress()).isEqualTo(InetAddress.ofLiteral("127.0.0.1"));
        assertThat(get(server, MetricsServer.VARZ_PATH, "*/*").statusCode()).isEqualTo(200);
        assertThatThrownBy(() ->
        {
            try (Socket socket = new Socket())
            {
                socket.connect(new InetSocketAddress(InetAddress.ofLiteral("127.0.0.2"), server.address().getPort()),
                    (int)TimeUnit.SECONDS.toMillis(WAIT_SECONDS));
            }
        }).isInstanceOf(ConnectException.class);
    }

    @Test
    void shouldSayWhyAnAddressCannotBeBound() throws Exception
    {
        try (ServerSocket taken = new ServerSocket(0, 1, LOOPBACK))
        {
            assertThatThrownBy(() -> MetricsServer.start(new InetSocketAddress(LOOPBACK, taken.getLocalPort()),
                sources())).isInstanceOf(IOException.class).hasMessageContaining("in use");
        }
    }

    private static MetricsSources sources()
    {
        final RelayMetrics metrics = new RelayMetrics();
        final ServerHandshake handshake = new ServerHandshake(NodePrivateKey.generate(RANDOM), Optional.empty(),
            RANDOM);
        return new MetricsSources(metrics, new Router<ByteBuf>(handshake, AdmissionPolicy.ADMIT_ALL,
            RelayConfig.defaults(ProtocolLimits.DEFAULT_WRITE_TIMEOUT_MS), metrics), Optional.empty(), "test",
            "none", "nio");
    }

    private DerpClient connect(final DerpClients clients, final URI url, final DerpTrust trust,
        final Received listener) throws Exception
    {
        final DerpClient client = clients.open(DerpClientOptions.builder(url, NodePrivateKey.generate(RANDOM))
            .trust(trust).build(), listener);
        toClose.add(client::close);
        return client.ready().get(WAIT_SECONDS, TimeUnit.SECONDS);
    }

    /** Trusts the relay's self-signed certificate and nothing else. */
    private static SSLContext trusting(final ServerCertificate certificate) throws Exception
    {
        final KeyStore trusted = KeyStore.getInstance(KeyStore.getDefaultType());
        trusted.load(null, null);
        trusted.setCertificateEntry("relay", certificate.leaf());
        final TrustManagerFactory trust = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
        trust.init(trusted);
        final SSLContext context = SSLContext.getInstance("TLS");
        context.init(null, trust.getTrustManagers(), RANDOM);
        return context;
    }

    /** A TLS connection to the relay offering only {@code protocol}, handshaken. */
    private SSLSocket tls(final SSLContext context, final InetSocketAddress address, final String protocol)
        throws IOException
    {
        final SSLSocket socket = (SSLSocket)context.getSocketFactory().createSocket();
        toClose.add(socket);
        socket.setEnabledProtocols(new String[] {protocol});
        socket.connect(address, (int)TimeUnit.SECONDS.toMillis(WAIT_SECONDS));
        socket.setSoTimeout((int)TimeUnit.SECONDS.toMillis(WAIT_SECONDS));
        socket.startHandshake();
        assertThat(socket.getSession().getProtocol()).isEqualTo(protocol);
        return socket;
    }

    /** Asks {@code /bootstrap-dns} over {@code socket}, which the relay closes after the answer; returns the body. */
    private static String bootstrapDns(final SSLSocket socket, final String query) throws IOException
    {
        try (socket)
        {
            socket.getOutputStream().write(("GET /bootstrap-dns" + (null == query ? "" : "?q=" + query) +
                " HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n").getBytes(StandardCharsets.US_ASCII));
            socket.getOutputStream().flush();
            final String response = new String(socket.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            assertThat(response).startsWith("HTTP/1.1 200 OK\r\n");
            return response.substring(response.indexOf("\r\n\r\n") + 4);
        }
    }

    /** Two Tailscale binding requests, answered, and one datagram that is not STUN, ignored. */
    private static void stunExchange(final int port, final StunServer stun) throws Exception
    {
        try (DatagramSocket socket = new DatagramSocket(0, LOOPBACK))
        {
            socket.setSoTimeout((int)TimeUnit.SECONDS.toMillis(WAIT_SECONDS));
            final InetSocketAddress target = new InetSocketAddress(LOOPBACK, port);
            for (int i = 0; i < 2; i++)
            {
                final UnsafeBuffer request = new UnsafeBuffer(new byte[StunMessages.TAILSCALE_REQUEST_LENGTH]);
                StunMessages.writeTailscaleRequest(request, 0, new UnsafeBuffer(new byte[12]), 0);
                socket.send(new DatagramPacket(request.byteArray(), request.capacity(), target));
                socket.receive(new DatagramPacket(new byte[64], 64));
            }
            final byte[] junk = "not stun".getBytes(StandardCharsets.US_ASCII);
            socket.send(new DatagramPacket(junk, junk.length, target));
        }
        await("the junk datagram counted", () -> 1 == stun.counters().ignored.sum());
    }

    private HttpResponse<String> get(final MetricsServer server, final String path, final String accept)
        throws Exception
    {
        final InetSocketAddress address = server.address();
        return http.send(HttpRequest.newBuilder(URI.create("http://" + address.getAddress().getHostAddress() + ":" +
            address.getPort() + path)).header("Accept", accept).timeout(Duration.ofSeconds(WAIT_SECONDS)).build(),
            HttpResponse.BodyHandlers.ofString());
    }

    /** Every sample line of a Prometheus text page, {@code name{labels}} to value. */
    private static Map<String, Double> samples(final String page)
    {
        final Map<String, Double> samples = new HashMap<>();
        for (final String line : page.split("\n"))
        {
            if (line.isEmpty() || line.startsWith("#"))
            {
                continue;
            }
            final int space = line.lastIndexOf(' ');
            final Double previous = samples.put(line.substring(0, space), Double.parseDouble(line.substring(space + 1)));
            assertThat(previous).as("one sample per series: %s", line).isNull();
        }
        return samples;
    }

    private static byte[] payload(final int length)
    {
        final byte[] data = new byte[length];
        // Not disco: disco packets start with the magic "TS💬".
        data[0] = 1;
        return data;
    }

    private static void await(final String what, final BooleanSupplier condition) throws InterruptedException
    {
        final long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(WAIT_SECONDS);
        while (!condition.getAsBoolean())
        {
            if (System.nanoTime() - deadline > 0)
            {
                throw new AssertionError("timed out waiting for: " + what);
            }
            Thread.sleep(5);
        }
    }

    /** Counts the packets a client receives. */
    private static final class Received implements DerpClientListener
    {
        private final BlockingQueue<Integer> lengths = new LinkedBlockingQueue<>();

        @Override
        public void onRecvPacket(final DerpClient client, final DirectBuffer source, final int sourceOffset,
            final DirectBuffer data, final int dataOffset, final int dataLength)
        {
            lengths.add(dataLength);
        }

        void await(final int count) throws InterruptedException
        {
            for (int i = 0; i < count; i++)
            {
                assertThat(lengths.poll(WAIT_SECONDS, TimeUnit.SECONDS)).as("packet %d of %d", i + 1, count)
                    .isNotNull();
            }
        }
    }
}
