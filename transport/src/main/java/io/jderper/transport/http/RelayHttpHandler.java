package io.jderper.transport.http;

import io.jderper.core.router.BootstrapDnsCounters;
import io.jderper.transport.derp.DerpUpgrade;
import io.netty.channel.ChannelHandlerContext;
import io.netty.handler.codec.http.FullHttpRequest;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaderValues;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.QueryStringDecoder;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import java.util.function.Supplier;

/**
 * The main listener's HTTP endpoints (spec §1.3, §4.11 to §4.15): the {@code /derp} upgrade, the probes, the
 * captive-portal check, {@code /bootstrap-dns}, the debug pages, robots.txt and the home page for every other path.
 */
public final class RelayHttpHandler extends HttpEndpointHandler
{
    private static final Logger LOG = LoggerFactory.getLogger(RelayHttpHandler.class);
    private static final String ROBOTS = "User-agent: *\nDisallow: /\n";
    /** Where {@code -derp-map-json} serves this server's DERP map (Headscale's {@code derp.urls} takes JSON). */
    public static final String DERP_MAP_PATH = "/derp-map.json";
    /** Where clients whose DNS is broken ask for the addresses of the control plane (spec §4.15). */
    public static final String BOOTSTRAP_DNS_PATH = "/bootstrap-dns";

    private final DerpUpgrade upgrade;
    private final boolean derpEnabled;
    private final Optional<Supplier<String>> derpMap;
    private final HttpPages pages;
    private final DebugPages debugPages;
    private final BootstrapDnsCounters bootstrapDnsCounters;

    /**
     * @param upgrade     performs the {@code /derp} upgrade.
     * @param derpEnabled false for derper's {@code -derp=false}: {@code /derp} answers 404, everything else is served.
     * @param derpMap     if present, the DERP map JSON served at {@value #DERP_MAP_PATH}.
     * @param pages       the home page, bootstrap DNS answers and debug access.
     */
    public RelayHttpHandler(final DerpUpgrade upgrade, final boolean derpEnabled,
        final Optional<Supplier<String>> derpMap, final HttpPages pages)
    {
        super(upgrade.metrics());
        this.upgrade = upgrade;
        this.derpEnabled = derpEnabled;
        this.derpMap = derpMap;
        this.pages = pages;
        this.debugPages = new DebugPages(upgrade.metrics());
        this.bootstrapDnsCounters = upgrade.metrics().bootstrapDns;
    }

    @Override
    protected void serve(final ChannelHandlerContext ctx, final FullHttpRequest request, final String path)
    {
        if (DERP_MAP_PATH.equals(path) && derpMap.isPresent())
        {
            HttpResponses.send(ctx, request, HttpResponses.response(HttpResponseStatus.OK, "application/json",
                derpMap.get().get()));
            return;
        }
        if ("/debug".equals(path) || path.startsWith(DebugPages.PREFIX))
        {
            HttpResponses.send(ctx, request, debugPages.respond(path, debugAllowed(ctx, request)));
            return;
        }
        switch (path)
        {
            case "/derp" -> onDerp(ctx, request);
            case "/derp/probe", "/derp/latency-check" -> HttpResponses.send(ctx, request, probe(request));
            case CaptivePortalCheck.PATH -> HttpResponses.send(ctx, request, CaptivePortalCheck.respond(request));
            case BOOTSTRAP_DNS_PATH -> onBootstrapDns(ctx, request);
            case "/robots.txt" ->
            {
                final FullHttpResponse response = HttpResponses.response(HttpResponseStatus.OK,
                    HttpResponses.TEXT_PLAIN, ROBOTS);
                HttpResponses.addBrowserHeaders(response.headers());
                HttpResponses.send(ctx, request, response);
            }
            default ->
            {
                final boolean operator = debugAllowed(ctx, request);
                HttpResponses.send(ctx, request, pages.home().response(derpEnabled, operator,
                    operator ? pages.status().section(System.nanoTime()) : ""));
            }
        }
    }

    private boolean debugAllowed(final ChannelHandlerContext ctx, final FullHttpRequest request)
    {
        return pages.debugAccess().allows(ctx.channel().remoteAddress(), request.headers());
    }

    private static InetAddress clientAddress(final ChannelHandlerContext ctx)
    {
        return ctx.channel().remoteAddress() instanceof InetSocketAddress address ? address.getAddress() : null;
    }

    /**
     * Answers from the addresses looked up last (spec §4.15); the lookups run elsewhere, so this never blocks. Every
     * request is counted, as derper counts them before it looks at the query; a {@code q} that cannot be a DNS name
     * (a bad escape, over 253 characters) is refused before it is counted as a hit or a miss.
     */
    private void onBootstrapDns(final ChannelHandlerContext ctx, final FullHttpRequest request)
    {
        bootstrapDnsCounters.requests.increment();
        // derper closes these connections: clients ask once, of servers in other regions, so keeping them open
        // would cost more than it saves.
        request.headers().set(HttpHeaderNames.CONNECTION, HttpHeaderValues.CLOSE);
        final String query;
        try
        {
            final List<String> values = new QueryStringDecoder(request.uri()).parameters().get("q");
            query = null == values ? null : values.getFirst();
        }
        catch (final IllegalArgumentException badEscape)
        {
            HttpResponses.send(ctx, request, HttpResponses.error(HttpResponseStatus.BAD_REQUEST,
                "bad query: " + badEscape.getMessage()));
            return;
        }
        final FullHttpResponse response;
        if (null != query && query.length() > BootstrapDns.MAX_NAME_LENGTH)
        {
            response = HttpResponses.error(HttpResponseStatus.BAD_REQUEST, "q must be a DNS name of at most " +
                BootstrapDns.MAX_NAME_LENGTH + " characters");
        }
        else
        {
            response = HttpResponses.response(HttpResponseStatus.OK, HttpResponses.APPLICATION_JSON,
                pages.bootstrapDns().answer(query, bootstrapDnsCounters, clientAddress(ctx)));
        }
        HttpResponses.addBrowserHeaders(response.headers());
        HttpResponses.send(ctx, request, response);
    }

    private void onDerp(final ChannelHandlerContext ctx, final FullHttpRequest request)
    {
        if (!derpEnabled)
        {
            HttpResponses.send(ctx, request, HttpResponses.error(HttpResponseStatus.NOT_FOUND,
                "derp server disabled"));
            return;
        }
        final String up = request.headers().get("Upgrade", "").toLowerCase(Locale.ROOT);
        final String subprotocols = request.headers().get("Sec-WebSocket-Protocol", "");
        // Early Tailscale clients said "Upgrade: WebSocket" and spoke raw DERP; a real WebSocket client is one that
        // names the derp subprotocol (spec §1.6). The others fall through to the raw upgrade, as in derper.
        if ("websocket".equals(up) && subprotocols.contains(WebSocketHandshake.SUBPROTOCOL))
        {
            final Optional<FullHttpResponse> refusal = WebSocketHandshake.refusal(request);
            if (refusal.isPresent())
            {
                LOG.debug("bad WebSocket handshake from {}: {}", ctx.channel().remoteAddress(),
                    refusal.get().status());
                HttpResponses.send(ctx, request, refusal.get());
                return;
            }
            upgrade.upgradeWebSocket(ctx, WebSocketHandshake.switchingProtocols(request),
                WebSocketHandshake.offersDerp(request), request);
            return;
        }
        if (!"derp".equals(up) && !"websocket".equals(up))
        {
            if (!up.isEmpty())
            {
                LOG.info("weird upgrade value {} from {}", up, ctx.channel().remoteAddress());
            }
            HttpResponses.send(ctx, request, HttpResponses.error(HttpResponseStatus.UPGRADE_REQUIRED,
                "DERP requires connection upgrade"));
            return;
        }
        upgrade.upgrade(ctx, request);
    }

    private static FullHttpResponse probe(final FullHttpRequest request)
    {
        final HttpMethod method = request.method();
        if (!HttpMethod.GET.equals(method) && !HttpMethod.HEAD.equals(method))
        {
            return HttpResponses.error(HttpResponseStatus.METHOD_NOT_ALLOWED, "bogus probe method");
        }
        final FullHttpResponse response = HttpResponses.response(HttpResponseStatus.OK, null, "");
        response.headers().set("Access-Control-Allow-Origin", "*");
        return response;
    }
}
