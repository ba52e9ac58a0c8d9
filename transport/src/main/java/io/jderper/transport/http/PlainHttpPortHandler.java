package io.jderper.transport.http;

import io.netty.channel.ChannelHandlerContext;
import io.netty.handler.codec.http.FullHttpRequest;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpResponseStatus;

import java.util.Optional;
import java.util.function.Function;
import io.jderper.core.router.RelayMetrics;

/**
 * The plain-HTTP port beside a TLS listener (spec §1.7): answers the captive-portal check and ACME http-01
 * challenges, sends browsers to HTTPS, and never starts a DERP session.
 */
public final class PlainHttpPortHandler extends HttpEndpointHandler
{
    /** Where ACME CAs look for http-01 answers (RFC 8555 §8.3). */
    public static final String ACME_CHALLENGE_PREFIX = "/.well-known/acme-challenge/";

    private static final char[] HEX = "0123456789ABCDEF".toCharArray();

    private final Function<String, Optional<String>> acmeHttp01;

    /**
     * @param acmeHttp01 the key authorization for a token being validated now, if any.
     * @param metrics    where malformed requests are counted.
     */
    public PlainHttpPortHandler(final Function<String, Optional<String>> acmeHttp01, final RelayMetrics metrics)
    {
        super(metrics);
        this.acmeHttp01 = acmeHttp01;
    }

    @Override
    protected void serve(final ChannelHandlerContext ctx, final FullHttpRequest request, final String path)
    {
        if (path.startsWith(ACME_CHALLENGE_PREFIX))
        {
            final Optional<String> answer = acmeHttp01.apply(path.substring(ACME_CHALLENGE_PREFIX.length()));
            HttpResponses.send(ctx, request, answer.isPresent() ?
                HttpResponses.response(HttpResponseStatus.OK, "text/plain", answer.get()) :
                HttpResponses.error(HttpResponseStatus.NOT_FOUND, "404 page not found"));
            return;
        }
        if (CaptivePortalCheck.PATH.equals(path))
        {
            HttpResponses.send(ctx, request, CaptivePortalCheck.respond(request));
            return;
        }
        final HttpMethod method = request.method();
        if (!HttpMethod.GET.equals(method) && !HttpMethod.HEAD.equals(method))
        {
            HttpResponses.send(ctx, request, HttpResponses.error(HttpResponseStatus.BAD_REQUEST, "Use HTTPS"));
            return;
        }
        final String host = request.headers().get(HttpHeaderNames.HOST, "");
        final FullHttpResponse response = HttpResponses.response(HttpResponseStatus.FOUND, HttpResponses.TEXT_HTML,
            "");
        response.headers().set(HttpHeaderNames.LOCATION, "https://" + printable(host) + printable(request.uri()));
        HttpResponses.send(ctx, request, response);
    }

    /**
     * The client's Host and request target are copied into Location; a control character or a byte over 0x7E in
     * either would make the header invalid (Netty refuses to build it), so those are percent-encoded.
     */
    private static String printable(final String text)
    {
        StringBuilder escaped = null;
        for (int i = 0; i < text.length(); i++)
        {
            final char c = text.charAt(i);
            if (c > 0x20 && c < 0x7F)
            {
                if (null != escaped)
                {
                    escaped.append(c);
                }
                continue;
            }
            if (null == escaped)
            {
                escaped = new StringBuilder(text.length() + 16).append(text, 0, i);
            }
            // Netty decodes header and request-line bytes one char each, so every char here is one byte.
            escaped.append('%').append(HEX[(c >> 4) & 0xF]).append(HEX[c & 0xF]);
        }
        return null == escaped ? text : escaped.toString();
    }
}
