package io.jderper.transport.derp;

import io.jderper.core.handshake.ServerHandshake;
import io.jderper.core.protocol.ProtocolLimits;
import io.jderper.core.router.RelayMetrics;
import io.jderper.transport.http.HttpRequestDeadline;
import io.jderper.transport.io.InputLimits;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandler;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelPipeline;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.websocketx.CloseWebSocketFrame;
import io.netty.handler.codec.http.websocketx.WebSocket13FrameDecoder;
import io.netty.handler.codec.http.websocketx.WebSocket13FrameEncoder;
import io.netty.handler.codec.http.websocketx.WebSocketCloseStatus;
import io.netty.handler.codec.http.websocketx.WebSocketDecoderConfig;
import io.netty.util.ReferenceCountUtil;

import java.nio.charset.StandardCharsets;
import java.time.Duration;

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
    public static final String[] HTTP_HANDLERS = {HttpRequestDeadline.NAME, "http-encoder", "http-aggregator"};
    /** Pipeline name of the DERP handler. */
    public static final String DERP_HANDLER = "derp";
    /** Pipeline name of the HTTP response encoder. */
    public static final String HTTP_ENCODER = "http-encoder";
    /**
     * Largest incoming WebSocket frame: a whole DERP frame (Go's client writes one in a single message) with room to
     * spare, and a bound on what one frame may make the server buffer.
     */
    static final int MAX_INCOMING_WEBSOCKET_FRAME = 2 * (io.jderper.core.protocol.FrameHeader.LENGTH +
        ProtocolLimits.MAX_FORWARD_PACKET_LENGTH);

    private static final WebSocketDecoderConfig WEBSOCKET_DECODER = WebSocketDecoderConfig.newBuilder()
        .expectMaskedFrames(true)
        .allowMaskMismatch(false)
        .allowExtensions(false)
        .maxFramePayloadLength(MAX_INCOMING_WEBSOCKET_FRAME)
        .closeOnProtocolViolation(true)
        .build();

    private static final String BEARER = "Bearer ";
    private static final Discard DISCARD = new Discard();

    private final RelayLoops loops;
    private final byte[] serverKeyFrame;
    private final String switchingProtocols;
    private final Duration frameReadTimeout;

    /**
     * @param loops     relay loops.
     * @param handshake the server's handshake, for its key.
     */
    public DerpUpgrade(final RelayLoops loops, final ServerHandshake handshake)
    {
        this(loops, handshake, InputLimits.DEFAULTS.frameRead());
    }

    /**
     * @param loops            relay loops.
     * @param handshake        the server's handshake, for its key.
     * @param frameReadTimeout how long a begun frame may go without a byte arriving.
     */
    public DerpUpgrade(final RelayLoops loops, final ServerHandshake handshake, final Duration frameReadTimeout)
    {
        this.loops = loops;
        this.frameReadTimeout = frameReadTimeout;
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
        final String bearerToken = bearerToken(request);
        final ChannelPipeline pipeline = ctx.pipeline();
        for (final String name : HTTP_HANDLERS)
        {
            if (null != pipeline.get(name))
            {
                pipeline.remove(name);
            }
        }
        pipeline.replace(ctx.handler(), DERP_HANDLER,
            new DerpConnectionHandler(loops, notIdeal, bearerToken, frameReadTimeout));

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

    /**
     * @return where the connections it upgrades count what they do.
     */
    public RelayMetrics metrics()
    {
        return loops.router().metrics();
    }

    /**
     * @param request an upgrade request.
     * @return the token of its {@code Authorization: Bearer} header (the scheme in any case, as RFC 7235 allows), or
     * null; admission compares it with the relay's own (jderper's {@code -bearer-token-file}).
     */
    static String bearerToken(final HttpRequest request)
    {
        final String authorization = request.headers().get(HttpHeaderNames.AUTHORIZATION);
        if (null == authorization || !authorization.regionMatches(true, 0, BEARER, 0, BEARER.length()))
        {
            return null;
        }
        final String token = authorization.substring(BEARER.length()).strip();
        return token.isEmpty() ? null : token;
    }

    /**
     * Performs the WebSocket upgrade (spec §1.6) once the opening handshake has been checked: sends the 101, swaps
     * the HTTP codec for Netty's WebSocket codec and a {@link WebSocketStream}, and starts DERP with ServerKey. There
     * is no fast start and no Ideal-Node on this path. A client that did not offer the {@code derp} subprotocol is
     * closed with 1008, as derper does.
     *
     * @param ctx                the HTTP handler's context; that handler is replaced.
     * @param switchingProtocols the 101 response, with Sec-WebSocket-Accept and the chosen subprotocol.
     * @param derpSubprotocol    whether the client offered exactly {@code derp}.
     * @param request            the opening handshake request.
     */
    public void upgradeWebSocket(final ChannelHandlerContext ctx, final FullHttpResponse switchingProtocols,
        final boolean derpSubprotocol, final HttpRequest request)
    {
        final ChannelPipeline pipeline = ctx.pipeline();
        for (final String name : HTTP_HANDLERS)
        {
            if (!HTTP_ENCODER.equals(name) && null != pipeline.get(name))
            {
                pipeline.remove(name);
            }
        }
        // The encoder turns the 101 into bytes during this call, so it can go at once, and everything written after
        // it is WebSocket frames.
        ctx.writeAndFlush(switchingProtocols, ctx.voidPromise());
        pipeline.remove(HTTP_ENCODER);
        // The encoder goes before the decoder: the decoder answers protocol violations with a close frame written
        // from its own place in the pipeline, which must pass through the encoder.
        pipeline.addBefore(HTTP_DECODER, "ws-encoder", new WebSocket13FrameEncoder(false));
        if (!derpSubprotocol)
        {
            // Whatever the client sent behind its request is dropped with the HTTP decoder, not read.
            pipeline.replace(ctx.handler(), "ws-refused", DISCARD);
            pipeline.remove(HTTP_DECODER);
            pipeline.channel().writeAndFlush(new CloseWebSocketFrame(WebSocketCloseStatus.POLICY_VIOLATION,
                "client must speak the derp subprotocol")).addListener(ChannelFutureListener.CLOSE);
            return;
        }
        loops.router().metrics().websocketAccepts.increment();
        pipeline.addAfter(HTTP_DECODER, "ws-stream", new WebSocketStream());
        pipeline.replace(ctx.handler(), DERP_HANDLER, new DerpConnectionHandler(loops, false, bearerToken(request),
            frameReadTimeout));
        pipeline.channel().writeAndFlush(Unpooled.wrappedBuffer(serverKeyFrame), pipeline.channel().voidPromise());
        // Last, once everything behind it is in place: replacing the HTTP decoder hands the bytes it still holds
        // (frames a client sent without waiting for the 101) to the WebSocket decoder, which decodes them at once.
        pipeline.replace(HTTP_DECODER, "ws-decoder", new WebSocket13FrameDecoder(WEBSOCKET_DECODER));
    }

    /**
     * Takes the HTTP handler's place on a WebSocket connection refused after its 101: drops what arrives while the
     * close frame goes out.
     */
    @ChannelHandler.Sharable
    private static final class Discard extends ChannelInboundHandlerAdapter
    {
        @Override
        public void channelRead(final ChannelHandlerContext ctx, final Object msg)
        {
            ReferenceCountUtil.release(msg);
        }

        @Override
        public void exceptionCaught(final ChannelHandlerContext ctx, final Throwable cause)
        {
            ctx.close();
        }
    }
}
