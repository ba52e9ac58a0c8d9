package io.jderper.transport.http;

import io.jderper.core.router.RelayMetrics;
import io.jderper.transport.LoopbackRelays;
import io.jderper.transport.RelayServer;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.net.InetAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * {@code -home}, {@code /bootstrap-dns} and {@code /debug/} on a real main listener (plain HTTP on loopback), over
 * sockets: what a browser or a Tailscale client gets.
 */
class MainListenerPagesTest
{
    private static final String CSP = "default-src 'self'; frame-ancestors 'none'; form-action 'self'; " +
        "base-uri 'self'; block-all-mixed-content; object-src 'none'";

    private RelayServer server;

    @AfterEach
    void stop()
    {
        if (null != server)
        {
            server.close();
        }
    }

    private void start(final HttpPages pages) throws InterruptedException
    {
        server = RelayServer.start(LoopbackRelays.plainHttp(new RelayMetrics()).withPages(pages));
    }

    /** A response as read off the socket: status code, headers (names lower-cased), body. */
    private record Response(int status, Map<String, String> headers, String body)
    {
        String header(final String name)
        {
            return headers.get(name.toLowerCase(Locale.ROOT));
        }
    }

    /**
     * Sends one request and reads until the server closes the connection: a server that kept it open would fail
     * the read with a timeout.
     *
     * @param connectionClose whether the request asks the server to close.
     */
    private Response request(final String path, final boolean connectionClose, final String... headers)
        throws IOException
    {
        try (Socket socket = new Socket())
        {
            socket.connect(server.mainAddress(), 5_000);
            socket.setSoTimeout((int)Duration.ofSeconds(10).toMillis());
            final StringBuilder head = new StringBuilder("GET ").append(path).append(" HTTP/1.1\r\nHost: relay\r\n");
            for (final String header : headers)
            {
                head.append(header).append("\r\n");
            }
            head.append(connectionClose ? "Connection: close\r\n" : "").append("\r\n");
            socket.getOutputStream().write(head.toString().getBytes(StandardCharsets.US_ASCII));
            final String text = new String(socket.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            final int end = text.indexOf("\r\n\r\n");
            assertThat(end).as("a complete response head in %s", text).isPositive();
            final String[] lines = text.substring(0, end).split("\r\n");
            final Map<String, String> fields = new LinkedHashMap<>();
            for (int i = 1; i < lines.length; i++)
            {
                final int colon = lines[i].indexOf(':');
                assertThat(fields.put(lines[i].substring(0, colon).toLowerCase(Locale.ROOT),
                    lines[i].substring(colon + 1).strip())).as("header %s sent once", lines[i]).isNull();
            }
            return new Response(Integer.parseInt(lines[0].split(" ")[1]), fields, text.substring(end + 4));
        }
    }

    private Response get(final String path, final String... headers) throws IOException
    {
        return request(path, true, headers);
    }

    private static void assertBrowserHeaders(final Response response, final String csp)
    {
        assertThat(response.header("Content-Security-Policy")).isEqualTo(csp);
        assertThat(response.header("Strict-Transport-Security")).isEqualTo("max-age=63072000; includeSubDomains");
        assertThat(response.header("X-Frame-Options")).isEqualTo("DENY");
        assertThat(response.header("X-Content-Type-Options")).isEqualTo("nosniff");
    }

    @Test
    void shouldServeTheDefaultHomePage() throws Exception
    {
        start(HttpPages.DEFAULTS);

        final Response response = get("/");

        assertThat(response.status()).isEqualTo(200);
        assertThat(response.header("Content-Type")).isEqualTo("text/html; charset=utf-8");
        assertBrowserHeaders(response, CSP);
        assertThat(response.body()).contains("<h1>DERP</h1>").as("loopback may see the debug pages")
            .contains("href=\"/debug/\"");
        assertThat(get("/", "X-Forwarded-For: 203.0.113.1").body()).contains("<h1>DERP</h1>")
            .doesNotContain("/debug/");
    }

    @Test
    void shouldServeABlankHomePage() throws Exception
    {
        start(new HttpPages(HomePage.parse("blank"), BootstrapDns.NONE, DebugAccess.LOOPBACK_ONLY));

        final Response response = get("/anything");

        assertThat(response.status()).isEqualTo(200);
        assertThat(response.header("Content-Type")).isEqualTo("text/html; charset=utf-8");
        assertThat(response.header("Content-Length")).isEqualTo("0");
        assertBrowserHeaders(response, CSP);
        assertThat(response.body()).isEmpty();
    }

    @Test
    void shouldRedirectTheHomePage() throws Exception
    {
        start(new HttpPages(HomePage.parse("https://example.com/about"), BootstrapDns.NONE,
            DebugAccess.LOOPBACK_ONLY));

        final Response response = get("/");

        assertThat(response.status()).isEqualTo(302);
        assertThat(response.header("Location")).isEqualTo("https://example.com/about");
        assertBrowserHeaders(response, CSP);
        assertThat(get("/derp/probe").status()).as("the other endpoints are served as before").isEqualTo(200);
    }

    @Test
    void shouldServeBootstrapDnsAndCloseTheConnection() throws Exception
    {
        // localhost resolves without a DNS server; the unpublished name comes from an injected answer.
        final BootstrapDns dns = new BootstrapDns(List.of("localhost"), List.of("hidden.example.com"),
            name -> "hidden.example.com".equals(name) ? List.of(InetAddress.ofLiteral("192.0.2.5")) :
                BootstrapDns.SYSTEM_RESOLVER.resolve(name), Duration.ofSeconds(30));
        dns.refresh();
        start(new HttpPages(HomePage.DEFAULT, dns, DebugAccess.LOOPBACK_ONLY));

        // Asked without "Connection: close": the server closes all the same, or the read times out.
        final Response all = request("/bootstrap-dns", false);
        assertThat(all.status()).isEqualTo(200);
        assertThat(all.header("Content-Type")).isEqualTo("application/json");
        assertThat(all.header("Connection")).isEqualTo("close");
        assertBrowserHeaders(all, CSP);
        assertThat(all.body()).startsWith("{\n\t\"localhost\": [\n\t\t\"").contains("127.0.0.1")
            .doesNotContain("hidden");

        final Response hidden = request("/bootstrap-dns?q=hidden.example.com", false);
        assertThat(hidden.status()).isEqualTo(200);
        assertThat(hidden.body()).isEqualTo("{\n\t\"hidden.example.com\": [\n\t\t\"192.0.2.5\"\n\t]\n}");

        final Response overlong = request("/bootstrap-dns?q=" + "x".repeat(300), false);
        assertThat(overlong.status()).isEqualTo(400);
        assertThat(overlong.body()).isEqualTo("q must be a DNS name of at most 253 characters\n");
    }

    @Test
    void shouldServeAnEmptyBootstrapDnsAnswerWithoutNames() throws Exception
    {
        start(HttpPages.DEFAULTS);

        final Response response = request("/bootstrap-dns?q=controlplane.tailscale.com", false);

        assertThat(response.status()).isEqualTo(200);
        assertThat(response.header("Content-Type")).isEqualTo("application/json");
        assertThat(response.header("Content-Length")).isEqualTo("0");
        assertThat(response.body()).isEmpty();
    }

    @Test
    void shouldServeTheDebugPagesToLoopbackButNotThroughAProxy() throws Exception
    {
        start(HttpPages.DEFAULTS);

        final Response index = get("/debug/");
        assertThat(index.status()).isEqualTo(200);
        assertBrowserHeaders(index, CSP + "; style-src 'self' 'unsafe-inline'");
        assertThat(index.body()).contains("/debug/summary");
        assertThat(get("/debug/summary").body()).startsWith("accepts=");

        final Response proxied = get("/debug/", "X-Forwarded-For: 127.0.0.1");
        assertThat(proxied.status()).isEqualTo(403);
        assertThat(proxied.body()).isEqualTo("debug access denied\n");
    }
}
