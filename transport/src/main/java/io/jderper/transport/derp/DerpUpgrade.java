package io.jderper.transport.derp;

import io.jderper.core.handshake.ServerHandshake;
import io.jderper.core.protocol.ProtocolLimits;
import io.netty.buffer.ByteBuf;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelPipeline;
import io.netty.handler.codec.http.HttpRequest;

import java.nio.charset.StandardCharsets;

/**
 * Turns an HTTP connection into a DERP connection after {@code GET /derp} (spec §1.3): answers with the exact
 * 101 text (or nothing, in fast-start mode), sends ServerKey in the same flush, and swaps the HTTP handlers for a
 * {@link DerpConnectionHandler}. Bytes the client sent after its request headers (a fast-start ClientInfo) stay in
 * the HTTP decoder's buffer and are handed to the new handler when the decoder is removed.
 */
public final class DerpUpgrade
{
    /** Pipeline name of the HTTP request decoder, removed last so its leftover bytes reach the DERP handler. */
    public static final String HTTP_DECODER = "http-decoder";
    /** Pipeline names of the other pre-upgrade handlers. */
    public static final String[] HTTP_HANDLERS = {"http-idle", "http-encoder", "http-aggregator"};
    /** Pipeline name of the DERP handler. */
    public static final String DERP_HANDLER = "derp";

    private final RelayLoops loops;
    private final byte[] serverKeyFrame;
    private final String switchingProtocols;

    /**
     * @param loops     relay loops.
     * @param handshake the server's handshake, for its key.
     */
    public DerpUpgrade(final RelayLoops loops, final ServerHandshake handshake)
    {
        this.loops = loops;
        this.serverKeyFrame = handshake.serverKeyFrame();
        this.switchingProtocols = "HTTP/1.1 101 Switching Protocols\r\n" +
            "Upgrade: DERP\r\n" +
            "Connection: Upgrade\r\n" +
            "Derp-Version: " + ProtocolLimits.PROTOCOL_VERSION + "\r\n" +
            "Derp-Public-Key: " + handshake.serverPublicKey().toHex() + "\r\n" +
            "\r\n";
    }

    /**
     * Performs the upgrade from inside the HTTP handler that received the request.
     *
     * @param ctx     the HTTP handler's context; that handler is replaced.
     * @param request the upgrade request.
     */
    public void upgrade(final ChannelHandlerContext ctx, final HttpRequest request)
    {
        final boolean fastStart = "1".equals(request.headers().get("Derp-Fast-Start"));
        final String idealNode = request.headers().get("Ideal-Node");
        final boolean notIdeal = null != idealNode && !idealNode.isEmpty();
        final ChannelPipeline pipeline = ctx.pipeline();
        for (final String name : HTTP_HANDLERS)
        {
            if (null != pipeline.get(name))
            {
                pipeline.remove(name);
            }
        }
        pipeline.replace(ctx.handler(), DERP_HANDLER, new DerpConnectionHandler(loops, notIdeal));

        final ByteBuf out = ctx.alloc().buffer(switchingProtocols.length() + serverKeyFrame.length);
        if (!fastStart)
        {
            out.writeCharSequence(switchingProtocols, StandardCharsets.US_ASCII);
        }
        // ServerKey goes out even in fast start: clients that dialled without it need it (spec §4.1).
        out.writeBytes(serverKeyFrame);
        pipeline.channel().writeAndFlush(out, pipeline.channel().voidPromise());
        if (null != pipeline.get(HTTP_DECODER))
        {
            pipeline.remove(HTTP_DECODER);
        }
    }
}
