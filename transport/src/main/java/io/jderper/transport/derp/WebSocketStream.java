package io.jderper.transport.derp;

import io.netty.buffer.ByteBuf;
import io.netty.channel.ChannelDuplexHandler;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelPromise;
import io.netty.handler.codec.http.websocketx.BinaryWebSocketFrame;
import io.netty.handler.codec.http.websocketx.CloseWebSocketFrame;
import io.netty.handler.codec.http.websocketx.ContinuationWebSocketFrame;
import io.netty.handler.codec.http.websocketx.PingWebSocketFrame;
import io.netty.handler.codec.http.websocketx.PongWebSocketFrame;
import io.netty.handler.codec.http.websocketx.TextWebSocketFrame;
import io.netty.handler.codec.http.websocketx.WebSocketCloseStatus;
import io.netty.util.ReferenceCountUtil;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * DERP over WebSocket as a byte stream (spec §1.6): the payloads of binary messages, fragments included, go on to
 * the DERP handler as bytes in order, whatever the message boundaries; bytes the DERP handler writes leave as binary
 * messages of at most {@value #MAX_OUTGOING_MESSAGE} bytes, because Go's WebSocket library (derper's and Tailscale's
 * clients') refuses longer messages by default. A text message is not DERP: close 1003. A close frame ends the
 * connection after the close is echoed; pings are answered.
 */
final class WebSocketStream extends ChannelDuplexHandler
{
    /** Largest binary message sent: the read limit of coder/websocket, Tailscale's WebSocket library. */
    static final int MAX_OUTGOING_MESSAGE = 32 << 10;

    private static final Logger LOG = LoggerFactory.getLogger(WebSocketStream.class);

    private boolean closing;

    @Override
    public void channelRead(final ChannelHandlerContext ctx, final Object msg)
    {
        if (closing)
        {
            ReferenceCountUtil.release(msg);
            return;
        }
        switch (msg)
        {
            case BinaryWebSocketFrame binary -> ctx.fireChannelRead(binary.content());
            // Netty's decoder refuses a continuation without a started message, so this continues a binary one: a
            // text message is closed on at its first frame.
            case ContinuationWebSocketFrame continuation -> ctx.fireChannelRead(continuation.content());
            case TextWebSocketFrame text ->
            {
                text.release();
                LOG.debug("closing WebSocket DERP from {}: text message", ctx.channel().remoteAddress());
                close(ctx, new CloseWebSocketFrame(WebSocketCloseStatus.INVALID_MESSAGE_TYPE,
                    "DERP over WebSocket uses binary messages"));
            }
            case PingWebSocketFrame ping -> ctx.writeAndFlush(new PongWebSocketFrame(ping.content()));
            case PongWebSocketFrame pong -> pong.release();
            case CloseWebSocketFrame close ->
            {
                // 1000 and 1001 are a normal end of stream (spec §1.6); echo the status, as RFC 6455 §5.5.1 asks.
                final int status = close.statusCode();
                close.release();
                close(ctx, status > 0 ? new CloseWebSocketFrame(status, "") : new CloseWebSocketFrame());
            }
            default -> ctx.fireChannelRead(msg);
        }
    }

    private void close(final ChannelHandlerContext ctx, final CloseWebSocketFrame frame)
    {
        closing = true;
        ctx.writeAndFlush(frame).addListener(ChannelFutureListener.CLOSE);
    }

    @Override
    public void write(final ChannelHandlerContext ctx, final Object msg, final ChannelPromise promise)
    {
        if (!(msg instanceof ByteBuf bytes))
        {
            ctx.write(msg, promise);
            return;
        }
        while (bytes.readableBytes() > MAX_OUTGOING_MESSAGE)
        {
            ctx.write(new BinaryWebSocketFrame(bytes.readRetainedSlice(MAX_OUTGOING_MESSAGE)), ctx.voidPromise());
        }
        ctx.write(new BinaryWebSocketFrame(bytes), promise);
    }
}
