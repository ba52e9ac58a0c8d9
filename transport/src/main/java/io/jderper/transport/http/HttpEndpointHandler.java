package io.jderper.transport.http;

import io.jderper.core.protocol.Violation;
import io.jderper.core.router.RelayMetrics;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.SimpleChannelInboundHandler;
import io.netty.handler.codec.PrematureChannelClosureException;
import io.netty.handler.codec.TooLongFrameException;
import io.netty.handler.codec.http.FullHttpRequest;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.QueryStringDecoder;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;

/**
 * What every HTTP listener of the relay does alike: answer malformed requests with 400 (431 for a head over the
 * header bound, as Go's server does), count them and close, and close on errors. Subclasses route by path; the
 * read timeout is {@link HttpRequestDeadline}'s.
 */
abstract class HttpEndpointHandler extends SimpleChannelInboundHandler<FullHttpRequest>
{
    private static final Logger LOG = LoggerFactory.getLogger(HttpEndpointHandler.class);

    private final RelayMetrics metrics;

    /**
     * @param metrics where malformed requests are counted.
     */
    HttpEndpointHandler(final RelayMetrics metrics)
    {
        this.metrics = metrics;
    }

    @Override
    protected final void channelRead0(final ChannelHandlerContext ctx, final FullHttpRequest request)
    {
        if (!request.decoderResult().isSuccess())
        {
            if (!ctx.channel().isActive())
            {
                // The decoder's report of a request cut short by a close (the peer's or a deadline's): no one to
                // answer, nothing more to count.
                return;
            }
            final Throwable cause = request.decoderResult().cause();
            badRequest(ctx, request, cause, cause instanceof TooLongFrameException ?
                Violation.HTTP_HEADER_TOO_LARGE : Violation.BAD_TRANSPORT);
            return;
        }
        final String path;
        try
        {
            path = new QueryStringDecoder(request.uri()).path();
        }
        catch (final IllegalArgumentException badEscape)
        {
            // A malformed percent-escape in the path ("/%", "/%zz"): Go's server answers 400 too.
            badRequest(ctx, request, badEscape, Violation.BAD_TRANSPORT);
            return;
        }
        serve(ctx, request, path);
    }

    private void badRequest(final ChannelHandlerContext ctx, final FullHttpRequest request, final Throwable cause,
        final Violation violation)
    {
        // Counted, and logged at debug only: scanners send malformed requests all day.
        metrics.violation(violation);
        LOG.debug("bad HTTP request from {}: {} ({})", ctx.channel().remoteAddress(), cause.toString(),
            violation.label());
        request.headers().set("Connection", "close");
        HttpResponses.send(ctx, request, Violation.HTTP_HEADER_TOO_LARGE == violation ?
            HttpResponses.error(HttpResponseStatus.REQUEST_HEADER_FIELDS_TOO_LARGE, "request header too large") :
            HttpResponses.error(HttpResponseStatus.BAD_REQUEST, "bad request"));
    }

    /**
     * Answers a well-formed request.
     *
     * @param ctx     the channel's context.
     * @param request the request; released by the caller afterwards unless the handler retains it.
     * @param path    the request path without query.
     */
    protected abstract void serve(ChannelHandlerContext ctx, FullHttpRequest request, String path);

    @Override
    public void exceptionCaught(final ChannelHandlerContext ctx, final Throwable cause)
    {
        if (cause instanceof IOException || cause instanceof PrematureChannelClosureException)
        {
            // The connection broke, or the client went away (or timed out) in the middle of a request body.
            LOG.debug("HTTP connection from {}: {}", ctx.channel().remoteAddress(), cause.toString());
        }
        else
        {
            LOG.info("closing HTTP connection from {}: {}", ctx.channel().remoteAddress(), cause.toString());
        }
        ctx.close();
    }
}
