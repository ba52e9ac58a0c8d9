package io.jderper.tls;

import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.handler.ssl.SslHandler;
import javax.net.ssl.SSLEngine;
import javax.net.ssl.SSLException;

/**
 * Closes the TLS engine's inbound side when the connection is gone, so that Conscrypt frees its native SSL object
 * (and the pipe pair it holds per connection) at once instead of when the garbage collector finds the engine.
 * <p>
 * Netty's {@link SslHandler} closes only the outbound side when this end closed the connection first. Conscrypt frees
 * an engine when both sides are closed; until then every connection this end closed kept two file descriptors. A load
 * generator closing a thousand connections a second ran out of descriptors within 25 s.
 * <p>
 * Add it right after the TLS handler: its {@code channelInactive} runs after the TLS handler's.
 */
public final class TlsEngineRelease extends ChannelInboundHandlerAdapter
{
    /** Its name in the pipeline. */
    public static final String NAME = "tls-release";

    private final SSLEngine engine;

    /**
     * @param engine the TLS handler's engine.
     */
    public TlsEngineRelease(final SSLEngine engine)
    {
        this.engine = engine;
    }

    @Override
    public void channelInactive(final ChannelHandlerContext ctx) throws Exception
    {
        try
        {
            engine.closeInbound();
        }
        catch (final SSLException ex)
        {
            // The JDK's engine objects when the peer sent no close_notify; the connection is gone either way.
        }
        super.channelInactive(ctx);
    }
}
