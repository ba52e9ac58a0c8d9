package io.jderper.transport.http;

import io.jderper.core.protocol.Violation;
import io.jderper.core.router.RelayMetrics;
import io.netty.channel.ChannelHandlerContext;
import io.netty.handler.codec.http.FullHttpRequest;

import java.time.Duration;

/**
 * Each HTTP request, head and body, must arrive within the HTTP read timeout: of accept for the first (TLS handshake
 * included, as Go's server counts it), of the previous request for the next on a kept-alive connection. Goes after
 * the aggregator, where a request is whole; removed at the upgrade.
 */
public final class HttpRequestDeadline extends StageDeadline
{
    /** Pipeline name. */
    public static final String NAME = "http-deadline";

    /**
     * @param timeout how long a request may take.
     * @param metrics where an expiry is counted.
     */
    public HttpRequestDeadline(final Duration timeout, final RelayMetrics metrics)
    {
        super(timeout, metrics, Violation.HTTP_REQUEST_TIMEOUT);
    }

    @Override
    String stage()
    {
        return "HTTP request";
    }

    @Override
    public void channelRead(final ChannelHandlerContext ctx, final Object msg)
    {
        if (msg instanceof FullHttpRequest)
        {
            start(ctx);
        }
        ctx.fireChannelRead(msg);
    }
}
