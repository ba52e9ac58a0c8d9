package io.jderper.transport.http;

import io.jderper.core.admission.AdmissionPolicy;
import io.jderper.core.handshake.ServerHandshake;
import io.jderper.core.key.NodePrivateKey;
import io.jderper.core.router.BootstrapDnsCounters;
import io.jderper.core.router.RelayConfig;
import io.jderper.core.router.RelayMetrics;
import io.jderper.core.router.Router;
import io.jderper.transport.derp.DerpUpgrade;
import io.jderper.transport.derp.RelayLoops;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.UnpooledByteBufAllocator;
import io.netty.channel.embedded.EmbeddedChannel;
import io.netty.handler.codec.http.DefaultFullHttpRequest;
import io.netty.handler.codec.http.FullHttpRequest;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpVersion;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.SocketAddress;
import java.nio.charset.StandardCharsets;
import java.security.SecureRandom;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The main listener's handler for the home page, {@code /bootstrap-dns} and {@code /debug/} (spec §4.11 to §4.15),
 * in an {@link EmbeddedChannel} whose peer address the test chooses: requests in, responses out, no codec.
 */
class RelayHttpHandlerPagesTest
{
    private static final String DEBUG_CSP = "default-src 'self'; frame-ancestors 'none'; form-action 'self'; " +
        "base-uri 'self'; block-all-mixed-content; object-src 'none'; style-src 'self' 'unsafe-inline'";

    private final List<EmbeddedChannel> channels = new ArrayList<>();
    private final List<RelayLoops> loops = new ArrayList<>();

    @AfterEach
    void close()
    {
        channels.forEach(EmbeddedChannel::finishAndReleaseAll);
        loops.forEach(RelayLoops::stop);
    }

    /** A connection from {@code peer} to a main listener serving {@code pages}. */
    private EmbeddedChannel connection(final String peer, final HttpPages pages)
    {
        return connection(peer, pages, new RelayMetrics());
    }

    /** As {@link #connection(String, HttpPages)}, counting in {@code metrics}. */
    private EmbeddedChannel connection(final String peer, final HttpPages pages, final RelayMetrics metrics)
    {
        final InetSocketAddress remote = new InetSocketAddress(InetAddress.ofLiteral(peer), 40_000);
        final EmbeddedChannel channel = new EmbeddedChannel()
        {
            @Override
            protected SocketAddress remoteAddress0()
            {
                return remote;
            }
        };
        final SecureRandom random = new SecureRandom();
        final ServerHandshake handshake = new ServerHandshake(NodePrivateKey.generate(random), Optional.empty(),
            random);
        final Router<ByteBuf> router = new Router<>(handshake, AdmissionPolicy.ADMIT_ALL, RelayConfig.defaults(2_000),
            metrics);
        final RelayLoops relayLoops = new RelayLoops(channel.eventLoop(), router, UnpooledByteBufAllocator.DEFAULT);
        loops.add(relayLoops);
        channel.pipeline().addLast(new RelayHttpHandler(new DerpUpgrade(relayLoops, handshake), true,
            Optional.empty(), pages));
        channels.add(channel);
        return channel;
    }

    private static FullHttpResponse exchange(final EmbeddedChannel channel, final FullHttpRequest request)
    {
        channel.writeInbound(request);
        channel.runPendingTasks();
        final FullHttpResponse response = channel.readOutbound();
        assertThat(response).as("a response to %s", request.uri()).isNotNull();
        return response;
    }

    private static FullHttpResponse get(final EmbeddedChannel channel, final String uri, final String... headers)
    {
        final FullHttpRequest request = new DefaultFullHttpRequest(HttpVersion.HTTP_1_1, HttpMethod.GET, uri);
        for (int i = 0; i < headers.length; i += 2)
        {
            request.headers().set(headers[i], headers[i + 1]);
        }
        return exchange(channel, request);
    }

    private static String body(final FullHttpResponse response)
    {
        try
        {
            return response.content().toString(StandardCharsets.UTF_8);
        }
        finally
        {
            response.release();
        }
    }

    @Test
    void shouldShowTheOperatorStatusOnlyToThoseAllowedOnTheDebugPages()
    {
        final HttpPages pages = HttpPages.DEFAULTS.withStatus(new StatusPage(new RelayMetrics(), System.nanoTime(),
            List::of, () -> "{}"));

        assertThat(body(get(connection("127.0.0.1", pages), "/"))).contains("<h1>DERP</h1>")
            .contains("Operator status");
        assertThat(body(get(connection("203.0.113.9", pages), "/"))).as("a public visitor")
            .contains("<h1>DERP</h1>").doesNotContain("Operator status").doesNotContain("data-value");
        assertThat(body(get(connection("127.0.0.1", pages), "/", "X-Forwarded-For", "203.0.113.9")))
            .as("through a proxy").doesNotContain("Operator status");
    }

    @Test
    void shouldServeTheDebugPagesToLoopback()
    {
        final EmbeddedChannel channel = connection("127.0.0.1", HttpPages.DEFAULTS);

        final FullHttpResponse index = get(channel, "/debug/");
        assertThat(index.status()).isEqualTo(HttpResponseStatus.OK);
        assertThat(index.headers().get("Content-Security-Policy")).isEqualTo(DEBUG_CSP);
        assertThat(index.headers().get("X-Frame-Options")).isEqualTo("DENY");
        assertThat(body(index)).contains("/debug/summary").contains("-metrics-addr");

        final FullHttpResponse summary = get(channel, "/debug/summary");
        assertThat(summary.status()).isEqualTo(HttpResponseStatus.OK);
        assertThat(summary.headers().get("Content-Security-Policy")).isEqualTo(DEBUG_CSP);
        assertThat(body(summary)).startsWith("accepts=").contains(" current_connections=");

        final FullHttpResponse missing = get(channel, "/debug/varz");
        assertThat(missing.status()).isEqualTo(HttpResponseStatus.NOT_FOUND);
        missing.release();

        final FullHttpResponse bare = get(channel, "/debug");
        assertThat(bare.status()).isEqualTo(HttpResponseStatus.MOVED_PERMANENTLY);
        assertThat(bare.headers().get("Location")).isEqualTo("/debug/");
        bare.release();

        assertThat(body(get(channel, "/"))).as("the home page links the debug pages").contains("href=\"/debug/\"");
    }

    @Test
    void shouldRefuseTheDebugPagesToOtherAddresses()
    {
        final EmbeddedChannel channel = connection("198.51.100.7", HttpPages.DEFAULTS);

        for (final String path : List.of("/debug/", "/debug/summary", "/debug/no-such-page", "/debug"))
        {
            final FullHttpResponse response = get(channel, path);
            assertThat(response.status()).as(path).isEqualTo(HttpResponseStatus.FORBIDDEN);
            assertThat(response.headers().get("Content-Security-Policy")).isEqualTo(DEBUG_CSP);
            assertThat(body(response)).isEqualTo("debug access denied\n");
        }
        assertThat(body(get(channel, "/"))).as("no debug link for them").doesNotContain("/debug/");
    }

    @Test
    void shouldServeTheDebugPagesToAnAllowedRangeButNotThroughAProxy()
    {
        final HttpPages pages = new HttpPages(HomePage.DEFAULT, BootstrapDns.NONE,
            DebugAccess.parse("198.51.100.0/24"));
        final EmbeddedChannel allowed = connection("198.51.100.7", pages);

        assertThat(get(allowed, "/debug/").status()).isEqualTo(HttpResponseStatus.OK);
        final FullHttpResponse proxied = get(allowed, "/debug/", "X-Forwarded-For", "198.51.100.8");
        assertThat(proxied.status()).isEqualTo(HttpResponseStatus.FORBIDDEN);
        assertThat(body(proxied)).isEqualTo("debug access denied\n");
        assertThat(body(get(allowed, "/", "X-Forwarded-For", "198.51.100.8"))).doesNotContain("/debug/");

        final EmbeddedChannel outside = connection("198.51.101.7", pages);
        assertThat(get(outside, "/debug/").status()).isEqualTo(HttpResponseStatus.FORBIDDEN);
    }

    @Test
    void shouldServeTheConfiguredHomePage()
    {
        final EmbeddedChannel blank = connection("198.51.100.7", new HttpPages(HomePage.parse("blank"),
            BootstrapDns.NONE, DebugAccess.LOOPBACK_ONLY));
        final FullHttpResponse empty = get(blank, "/some/other/path");
        assertThat(empty.status()).isEqualTo(HttpResponseStatus.OK);
        assertThat(body(empty)).isEmpty();

        final EmbeddedChannel redirect = connection("198.51.100.7", new HttpPages(
            HomePage.parse("https://example.com/relay"), BootstrapDns.NONE, DebugAccess.LOOPBACK_ONLY));
        final FullHttpResponse found = get(redirect, "/");
        assertThat(found.status()).isEqualTo(HttpResponseStatus.FOUND);
        assertThat(found.headers().get("Location")).isEqualTo("https://example.com/relay");
        found.release();
        final FullHttpResponse robots = get(redirect, "/robots.txt");
        assertThat(body(robots)).as("robots.txt is not the home page").isEqualTo("User-agent: *\nDisallow: /\n");
    }

    /** Asks on a connection of its own: the server closes each after the answer. */
    private FullHttpResponse bootstrapDns(final HttpPages pages, final String uri)
    {
        return bootstrapDns(pages, uri, new RelayMetrics());
    }

    private FullHttpResponse bootstrapDns(final HttpPages pages, final String uri, final RelayMetrics metrics)
    {
        final EmbeddedChannel channel = connection("198.51.100.7", pages, metrics);
        final FullHttpResponse response = get(channel, uri);
        channel.runPendingTasks();
        assertThat(response.headers().get("Connection")).isEqualTo("close");
        assertThat(channel.isOpen()).as("connection closed after %s", uri).isFalse();
        return response;
    }

    @Test
    void shouldAnswerBootstrapDnsQueries()
    {
        final BootstrapDns dns = new BootstrapDns(List.of("a.example.com"), List.of("hidden.example.com"),
            name -> List.of(InetAddress.ofLiteral("a.example.com".equals(name) ? "192.0.2.1" : "192.0.2.2")),
            Duration.ofSeconds(10));
        dns.refresh();
        final HttpPages pages = new HttpPages(HomePage.DEFAULT, dns, DebugAccess.LOOPBACK_ONLY);

        final FullHttpResponse all = bootstrapDns(pages, "/bootstrap-dns");
        assertThat(all.status()).isEqualTo(HttpResponseStatus.OK);
        assertThat(all.headers().get("Content-Type")).isEqualTo("application/json");
        assertThat(all.headers().get("Content-Security-Policy")).startsWith("default-src 'self';")
            .doesNotContain("unsafe-inline");
        assertThat(all.headers().get("X-Frame-Options")).isEqualTo("DENY");
        assertThat(body(all)).isEqualTo("{\n\t\"a.example.com\": [\n\t\t\"192.0.2.1\"\n\t]\n}");

        final FullHttpResponse hidden = bootstrapDns(pages, "/bootstrap-dns?q=hidden.example.com");
        assertThat(body(hidden)).isEqualTo("{\n\t\"hidden.example.com\": [\n\t\t\"192.0.2.2\"\n\t]\n}");

        final FullHttpResponse escaped = bootstrapDns(pages, "/bootstrap-dns?x=1&q=hidden%2Eexample.com&q=other");
        assertThat(body(escaped)).as("q is decoded; the first one counts").contains("hidden.example.com");

        final FullHttpResponse longest = bootstrapDns(pages, "/bootstrap-dns?q=" + "a".repeat(253));
        assertThat(longest.status()).isEqualTo(HttpResponseStatus.OK);
        assertThat(body(longest)).contains("a.example.com");

        final FullHttpResponse overlong = bootstrapDns(pages, "/bootstrap-dns?q=" + "a".repeat(254));
        assertThat(overlong.status()).isEqualTo(HttpResponseStatus.BAD_REQUEST);
        assertThat(body(overlong)).isEqualTo("q must be a DNS name of at most 253 characters\n");

        final FullHttpResponse badEscape = bootstrapDns(pages, "/bootstrap-dns?q=%zz");
        assertThat(badEscape.status()).isEqualTo(HttpResponseStatus.BAD_REQUEST);
        badEscape.release();

        final FullHttpResponse none = bootstrapDns(HttpPages.DEFAULTS, "/bootstrap-dns?q=a.example.com");
        assertThat(none.status()).isEqualTo(HttpResponseStatus.OK);
        assertThat(none.headers().get("Content-Type")).isEqualTo("application/json");
        assertThat(body(none)).as("no names configured").isEmpty();
    }

    @Test
    void shouldCountBootstrapDnsRequestsUnderDerpersCounters()
    {
        final BootstrapDns dns = new BootstrapDns(List.of("a.example.com"), List.of("hidden.example.com"),
            name -> List.of(InetAddress.ofLiteral("a.example.com".equals(name) ? "192.0.2.1" : "192.0.2.2")),
            Duration.ofSeconds(10));
        dns.refresh();
        final HttpPages pages = new HttpPages(HomePage.DEFAULT, dns, DebugAccess.LOOPBACK_ONLY);
        final RelayMetrics metrics = new RelayMetrics();
        final BootstrapDnsCounters counters = metrics.bootstrapDns;

        body(bootstrapDns(pages, "/bootstrap-dns", metrics));
        assertThat(counters.requests.sum()).isEqualTo(1);
        assertThat(counters.queriedDomains()).isZero();

        assertThat(body(bootstrapDns(pages, "/bootstrap-dns?q=a.example.com", metrics))).contains("192.0.2.1");
        assertThat(counters.publishedHits.sum()).isEqualTo(1);

        assertThat(body(bootstrapDns(pages, "/bootstrap-dns?q=hidden.example.com", metrics))).contains("192.0.2.2");
        assertThat(counters.unpublishedHits.sum()).isEqualTo(1);

        assertThat(body(bootstrapDns(pages, "/bootstrap-dns?q=unknown.example.com", metrics)))
            .contains("a.example.com");
        assertThat(counters.unpublishedMisses.sum()).isEqualTo(1);

        bootstrapDns(pages, "/bootstrap-dns?q=%zz", metrics).release();
        bootstrapDns(pages, "/bootstrap-dns?q=" + "a".repeat(254), metrics).release();

        assertThat(counters.requests.sum()).as("every request, refused ones too").isEqualTo(6);
        assertThat(counters.publishedHits.sum()).isEqualTo(1);
        assertThat(counters.publishedMisses.sum()).isZero();
        assertThat(counters.unpublishedHits.sum()).isEqualTo(1);
        assertThat(counters.unpublishedMisses.sum()).as("a refused q is neither hit nor miss").isEqualTo(1);
        assertThat(counters.queriedDomains()).isEqualTo(3);
    }
}
