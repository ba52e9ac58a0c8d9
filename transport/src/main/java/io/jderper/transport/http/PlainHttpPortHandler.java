package io.jderper.transport.http;

import io.netty.channel.ChannelHandlerContext;
import io.netty.handler.codec.http.FullHttpRequest;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpResponseStatus;

/**
 * The plain-HTTP port beside a TLS listener (spec §1.7): answers the captive-portal check, sends browsers to
 * HTTPS, and never starts a DERP session.
 */
public final class PlainHttpPortHandler extends HttpEndpointHandler
{
    @Override
    protected void serve(final ChannelHandlerContext ctx, final FullHttpRequest request, final String path)
    {
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
        response.headers().set(HttpHeaderNames.LOCATION, "https://" + host + request.uri());
        HttpResponses.send(ctx, request, response);
    }
}
