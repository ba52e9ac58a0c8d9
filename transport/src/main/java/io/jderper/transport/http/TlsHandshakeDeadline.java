package io.jderper.transport.http;

import io.jderper.core.protocol.Violation;
import io.jderper.core.router.RelayMetrics;
import io.netty.channel.ChannelHandlerContext;
import io.netty.handler.ssl.SslHandshakeCompletionEvent;

import java.time.Duration;

/**
 * The TLS handshake must finish within the handshake timeout of accept, including the wait for the ClientHello: a
 * connection that sends nothing, or a ClientHello and then silence, is closed then. Goes after the TLS sniffer,
 * whose SslHandler reports the handshake's end; a failed handshake is the failure logger's to count.
 */
public final class TlsHandshakeDeadline extends StageDeadline
{
    /** Pipeline name. */
    public static final String NAME = "tls-deadline";

    /**
     * @param timeout from accept to a finished handshake.
     * @param metrics where an expiry is counted.
     */
    public TlsHandshakeDeadline(final Duration timeout, final RelayMetrics metrics)
    {
        super(timeout, metrics, Violation.TLS_HANDSHAKE_TIMEOUT);
    }

    @Override
    String stage()
    {
        return "TLS handshake";
    }

    @Override
    public void userEventTriggered(final ChannelHandlerContext ctx, final Object event) throws Exception
    {
        if (event instanceof SslHandshakeCompletionEvent)
        {
            ctx.pipeline().remove(this);
        }
        super.userEventTriggered(ctx, event);
    }
}
