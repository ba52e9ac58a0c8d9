package io.jderper.transport.http;

import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.SimpleChannelInboundHandler;
import io.netty.handler.codec.PrematureChannelClosureException;
import io.netty.handler.codec.http.FullHttpRequest;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.QueryStringDecoder;
import io.netty.handler.timeout.IdleStateEvent;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;

/**
 * What every HTTP listener of the relay does alike: answer malformed requests with 400 and close, close
 * connections idle past the read timeout (derper: 30 s), and close on errors. Subclasses route by path.
 */
abstract class HttpEndpointHandler extends SimpleChannelInboundHandler<FullHttpRequest>
{
    private static final Logger LOG = LoggerFactory.getLogger(HttpEndpointHandler.class);

    @Override
    protected final void channelRead0(final ChannelHandlerContext ctx, final FullHttpRequest request)
    {
        if (!request.decoderResult().isSuccess())
        {
            badRequest(ctx, request, request.decoderResult().cause());
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
            badRequest(ctx, request, badEscape);
            return;
        }
        serve(ctx, request, path);
    }

    private static void badRequest(final ChannelHandlerContext ctx, final FullHttpRequest request,
        final Throwable cause)
    {
        LOG.debug("bad HTTP request from {}: {}", ctx.channel().remoteAddress(), cause.toString());
        request.headers().set("Connection", "close");
        HttpResponses.send(ctx, request, HttpResponses.error(HttpResponseStatus.BAD_REQUEST, "bad request"));
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
    public void userEventTriggered(final ChannelHandlerContext ctx, final Object event) throws Exception
    {
        if (event instanceof IdleStateEvent)
        {
            ctx.close();
            return;
        }
        super.userEventTriggered(ctx, event);
    }

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
