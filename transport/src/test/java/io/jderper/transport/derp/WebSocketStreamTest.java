package io.jderper.transport.derp;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.embedded.EmbeddedChannel;
import io.netty.handler.codec.http.websocketx.BinaryWebSocketFrame;
import io.netty.handler.codec.http.websocketx.CloseWebSocketFrame;
import io.netty.handler.codec.http.websocketx.ContinuationWebSocketFrame;
import io.netty.handler.codec.http.websocketx.PingWebSocketFrame;
import io.netty.handler.codec.http.websocketx.PongWebSocketFrame;
import io.netty.handler.codec.http.websocketx.TextWebSocketFrame;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.util.SplittableRandom;

import static org.assertj.core.api.Assertions.assertThat;

class WebSocketStreamTest
{
    private final EmbeddedChannel channel = new EmbeddedChannel(new WebSocketStream());

    @AfterEach
    void finish()
    {
        channel.finishAndReleaseAll();
    }

    @Test
    void passesBinaryAndContinuationPayloadsOnAsOneStream()
    {
        channel.writeInbound(new BinaryWebSocketFrame(false, 0, Unpooled.wrappedBuffer(new byte[] {1, 2})));
        channel.writeInbound(new ContinuationWebSocketFrame(true, 0, Unpooled.wrappedBuffer(new byte[] {3})));
        channel.writeInbound(new BinaryWebSocketFrame(Unpooled.wrappedBuffer(new byte[] {4, 5})));

        final ByteBuf stream = Unpooled.buffer();
        for (ByteBuf part; null != (part = channel.readInbound()); )
        {
            stream.writeBytes(part);
            part.release();
        }
        assertThat(stream.array()).startsWith(1, 2, 3, 4, 5);
        assertThat(stream.readableBytes()).isEqualTo(5);
    }

    @Test
    void splitsWhatItSendsIntoMessagesGoCanRead()
    {
        final byte[] bytes = new byte[2 * WebSocketStream.MAX_OUTGOING_MESSAGE + 7];
        new SplittableRandom(3).nextBytes(bytes);

        channel.writeOutbound(Unpooled.wrappedBuffer(bytes));

        final ByteBuf joined = Unpooled.buffer();
        int messages = 0;
        for (BinaryWebSocketFrame frame; null != (frame = channel.readOutbound()); messages++)
        {
            assertThat(frame.isFinalFragment()).as("each is a whole message").isTrue();
            assertThat(frame.content().readableBytes()).isBetween(1, WebSocketStream.MAX_OUTGOING_MESSAGE);
            joined.writeBytes(frame.content());
            frame.release();
        }
        assertThat(messages).isEqualTo(3);
        final byte[] received = new byte[joined.readableBytes()];
        joined.readBytes(received);
        assertThat(received).isEqualTo(bytes);
    }

    @Test
    void closesWith1003OnATextMessage()
    {
        // Both in one read: the binary frame was already read when the text frame closed the connection.
        channel.writeInbound(new TextWebSocketFrame("hello"),
            new BinaryWebSocketFrame(Unpooled.wrappedBuffer(new byte[] {1})));

        final CloseWebSocketFrame close = channel.readOutbound();
        assertThat(close.statusCode()).isEqualTo(1003);
        close.release();
        assertThat((Object)channel.readInbound()).as("nothing after the text message reaches DERP").isNull();
        assertThat(channel.isOpen()).isFalse();
    }

    @Test
    void echoesACloseAndEnds()
    {
        channel.writeInbound(new CloseWebSocketFrame(1001, "going away"));

        final CloseWebSocketFrame close = channel.readOutbound();
        assertThat(close.statusCode()).isEqualTo(1001);
        close.release();
        assertThat(channel.isOpen()).isFalse();
    }

    @Test
    void answersAPing()
    {
        channel.writeInbound(new PingWebSocketFrame(Unpooled.wrappedBuffer(new byte[] {9, 8})));

        final PongWebSocketFrame pong = channel.readOutbound();
        assertThat(pong.content().readableBytes()).isEqualTo(2);
        assertThat(pong.content().getByte(0)).isEqualTo((byte)9);
        pong.release();
        assertThat(channel.isOpen()).isTrue();
    }
}
