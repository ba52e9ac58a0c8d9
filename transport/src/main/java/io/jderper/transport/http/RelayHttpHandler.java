package io.jderper.transport.http;

import io.jderper.transport.derp.DerpUpgrade;
import io.netty.channel.ChannelHandlerContext;
import io.netty.handler.codec.http.FullHttpRequest;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpResponseStatus;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.Locale;
import java.util.Optional;
import java.util.function.Supplier;

/**
 * The main listener's HTTP endpoints (spec §1.3, §4.12, §4.13): the {@code /derp} upgrade, the probes, the
 * captive-portal check, robots.txt and the home page for every other path.
 */
public final class RelayHttpHandler extends HttpEndpointHandler
{
    private static final Logger LOG = LoggerFactory.getLogger(RelayHttpHandler.class);
    private static final String ROBOTS = "User-agent: *\nDisallow: /\n";
    /** Where {@code -derp-map-json} serves this server's DERP map (Headscale's {@code derp.urls} takes JSON). */
    public static final String DERP_MAP_PATH = "/derp-map.json";

    private final DerpUpgrade upgrade;
    private final boolean derpEnabled;
    private final Optional<Supplier<String>> derpMap;

    /**
     * @param upgrade     performs the {@code /derp} upgrade.
     * @param derpEnabled false for derper's {@code -derp=false}: {@code /derp} answers 404, everything else is served.
     * @param derpMap     if present, the DERP map JSON served at {@value #DERP_MAP_PATH}.
     */
    public RelayHttpHandler(final DerpUpgrade upgrade, final boolean derpEnabled,
        final Optional<Supplier<String>> derpMap)
    {
        super(upgrade.metrics());
        this.upgrade = upgrade;
        this.derpEnabled = derpEnabled;
        this.derpMap = derpMap;
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
        switch (path)
        {
            case "/derp" -> onDerp(ctx, request);
            case "/derp/probe", "/derp/latency-check" -> HttpResponses.send(ctx, request, probe(request));
            case CaptivePortalCheck.PATH -> HttpResponses.send(ctx, request, CaptivePortalCheck.respond(request));
            case "/robots.txt" ->
            {
                final FullHttpResponse response = HttpResponses.response(HttpResponseStatus.OK,
                    HttpResponses.TEXT_PLAIN, ROBOTS);
                HttpResponses.addBrowserHeaders(response.headers());
                HttpResponses.send(ctx, request, response);
            }
            default ->
            {
                final FullHttpResponse response = HttpResponses.response(HttpResponseStatus.OK,
                    HttpResponses.TEXT_HTML, HomePage.html());
                HttpResponses.addBrowserHeaders(response.headers());
                HttpResponses.send(ctx, request, response);
            }
        }
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
