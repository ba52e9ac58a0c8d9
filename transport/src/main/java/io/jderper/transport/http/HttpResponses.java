package io.jderper.transport.http;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.handler.codec.http.DefaultFullHttpResponse;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaderValues;
import io.netty.handler.codec.http.HttpHeaders;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpUtil;
import io.netty.handler.codec.http.HttpVersion;

import java.nio.charset.StandardCharsets;

/**
 * Building and sending the small HTTP responses of the relay's endpoints.
 */
public final class HttpResponses
{
    /** Content type of plain-text answers, as Go's http.Error sends them. */
    public static final String TEXT_PLAIN = "text/plain; charset=utf-8";
    /** Content type of the home page. */
    public static final String TEXT_HTML = "text/html; charset=utf-8";
    /** Content type of JSON answers. */
    public static final String APPLICATION_JSON = "application/json";

    private static final String CONTENT_SECURITY_POLICY = "default-src 'self'; frame-ancestors 'none'; " +
        "form-action 'self'; base-uri 'self'; block-all-mixed-content; object-src 'none'";

    private HttpResponses()
    {
    }

    /**
     * Adds the browser security headers derper puts on its pages (spec §4.14).
     *
     * @param headers to add to.
     */
    public static void addBrowserHeaders(final HttpHeaders headers)
    {
        headers.set("Strict-Transport-Security", "max-age=63072000; includeSubDomains");
        headers.set("Content-Security-Policy", CONTENT_SECURITY_POLICY);
        headers.set("X-Frame-Options", "DENY");
        headers.set("X-Content-Type-Options", "nosniff");
    }

    /**
     * Adds the browser security headers of the debug pages: those of {@link #addBrowserHeaders}, with a policy that
     * also allows inline styles (spec §4.14).
     *
     * @param headers to add to.
     */
    public static void addDebugBrowserHeaders(final HttpHeaders headers)
    {
        addBrowserHeaders(headers);
        headers.set("Content-Security-Policy", CONTENT_SECURITY_POLICY + "; style-src 'self' 'unsafe-inline'");
    }

    /**
     * @param status      response status.
     * @param contentType content type, or null for none.
     * @param body        body text (UTF-8), possibly empty.
     * @return a full response with Content-Length set.
     */
    public static FullHttpResponse response(final HttpResponseStatus status, final String contentType, final String body)
    {
        final ByteBuf content = body.isEmpty() ? Unpooled.EMPTY_BUFFER :
            Unpooled.copiedBuffer(body, StandardCharsets.UTF_8);
        final FullHttpResponse response = new DefaultFullHttpResponse(HttpVersion.HTTP_1_1, status, content);
        if (null != contentType)
        {
            response.headers().set(HttpHeaderNames.CONTENT_TYPE, contentType);
        }
        return response;
    }

    /**
     * A plain-text error as Go's http.Error writes it: the text plus a newline, nosniff.
     *
     * @param status response status.
     * @param text   message without trailing newline.
     * @return the response.
     */
    public static FullHttpResponse error(final HttpResponseStatus status, final String text)
    {
        final FullHttpResponse response = response(status, TEXT_PLAIN, text + "\n");
        response.headers().set("X-Content-Type-Options", "nosniff");
        return response;
    }

    /**
     * Sends a response, honouring keep-alive and HEAD (headers only), and closing when the client asked.
     *
     * @param ctx      the channel's context.
     * @param request  the request answered.
     * @param response the response; its content is dropped for HEAD.
     */
    public static void send(final ChannelHandlerContext ctx, final HttpRequest request, final FullHttpResponse response)
    {
        final int length = response.content().readableBytes();
        HttpUtil.setContentLength(response, length);
        if (HttpMethod.HEAD.equals(request.method()) && length > 0)
        {
            response.content().clear();
        }
        final boolean keepAlive = HttpUtil.isKeepAlive(request);
        if (keepAlive && request.protocolVersion().equals(HttpVersion.HTTP_1_0))
        {
            response.headers().set(HttpHeaderNames.CONNECTION, HttpHeaderValues.KEEP_ALIVE);
        }
        else if (!keepAlive)
        {
            response.headers().set(HttpHeaderNames.CONNECTION, HttpHeaderValues.CLOSE);
        }
        final var future = ctx.writeAndFlush(response);
        if (!keepAlive)
        {
            future.addListener(ChannelFutureListener.CLOSE);
        }
    }
}
