package io.jderper.transport.derp;

import static org.assertj.core.api.Assertions.assertThat;

import com.code_intelligence.jazzer.junit.FuzzTest;
import io.jderper.transport.EmbeddedRelay;
import io.jderper.transport.LogCapture;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;

/**
 * Any bytes a client sends after a successful WebSocket upgrade of {@code /derp} (subprotocol {@code derp}), as reads
 * cut where the fuzzer chooses, into the WebSocket decoder, {@link WebSocketStream} and the DERP handler as the upgrade
 * installs them: nothing escapes the pipeline and no handler closes on an exception, every buffer is released, the
 * server writes only whole, unmasked binary, close and pong frames (binary ones no longer than Go's clients read),
 * nothing after its close frame, and a frame header that announces more than the server accepts closes the connection
 * as soon as its length has been read, before any of that payload is buffered.
 *
 * <p>The first input byte is the bytes per read (0 for one read); the rest is what the client sends.
 */
class WebSocketFramingFuzzTest
{
    /** The opening handshake of Tailscale's WebSocket client (the browser and js/wasm build use it). */
    static final byte[] UPGRADE = ("GET /derp HTTP/1.1\r\n" +
        "Host: derp.example.com\r\n" +
        "Connection: Upgrade\r\n" +
        "Upgrade: websocket\r\n" +
        "Sec-WebSocket-Version: 13\r\n" +
        "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n" +
        "Sec-WebSocket-Protocol: derp\r\n" +
        "\r\n").getBytes(StandardCharsets.US_ASCII);

    /** RFC 6455's answer to its sample key, used above. */
    private static final String ACCEPT = "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=";
    private static final int OPCODE_BINARY = 2;
    private static final int OPCODE_CLOSE = 8;
    private static final int OPCODE_PONG = 10;
    private static final String[] WEBSOCKET_STATE = {"ws-decoder", "ws-encoder", "ws-stream", DerpUpgrade.DERP_HANDLER};

    private static final LogCapture LOGS = new LogCapture();

    @BeforeAll
    static void captureLogs()
    {
        LOGS.start();
    }

    @AfterAll
    static void releaseLogs()
    {
        LOGS.stop();
    }

    @FuzzTest(maxDuration = "30s")
    void framesAreStreamedOrRefused(final byte[] input)
    {
        if (0 == input.length)
        {
            return;
        }
        final int chunk = input[0] & 0xFF;
        final long refuseBy = endOfFirstOversizedLength(input, 1);
        final EmbeddedRelay relay = new EmbeddedRelay(EmbeddedRelay.Listener.MAIN);
        try
        {
            relay.read(UPGRADE, 0, UPGRADE.length);
            final byte[] handshake = relay.takeWritten();
            final int frames = assertSwitchedToDerp(handshake);
            assertThat(relay.hasHandlers(WEBSOCKET_STATE)).as("upgraded: %s", relay.channel().pipeline().names())
                .isTrue();

            relay.readInChunks(input, 1, chunk, readUpTo ->
            {
                if (refuseBy >= 0 && readUpTo >= refuseBy)
                {
                    assertThat(relay.channel().isOpen()).as("open after a frame over the limit was announced")
                        .isFalse();
                }
            });
            assertThat(!relay.channel().isOpen() || relay.hasHandlers(WEBSOCKET_STATE))
                .as("open, but not speaking DERP over WebSocket: %s", relay.channel().pipeline().names()).isTrue();
            final byte[] written = relay.takeWritten();
            final byte[] all = Arrays.copyOf(handshake, handshake.length + written.length);
            System.arraycopy(written, 0, all, handshake.length, written.length);
            assertServerFrames(all, frames);
        }
        finally
        {
            relay.closeAndAssertNothingHeld();
            assertThat(LOGS.takeUnexpected()).as("exceptions the handlers caught").isEmpty();
        }
    }

    @Test
    void theSeedClientLogsInAndGetsItsOwnPacketBack() throws IOException
    {
        final byte[] seed = seed("clientinfo-sendpacket");
        final EmbeddedRelay relay = new EmbeddedRelay(EmbeddedRelay.Listener.MAIN);
        relay.read(UPGRADE, 0, UPGRADE.length);
        relay.takeWritten();

        relay.read(seed, 1, seed.length);

        assertThat(new String(relay.takeWritten(), StandardCharsets.ISO_8859_1))
            .as("the seeds get past the login: the packet sent to itself comes back").contains("hello from the seed");
        assertThat(relay.channel().isOpen()).isTrue();
        relay.closeAndAssertNothingHeld();
        assertThat(LOGS.takeUnexpected()).isEmpty();
    }

    private static byte[] seed(final String name) throws IOException
    {
        try (InputStream in = WebSocketFramingFuzzTest.class.getResourceAsStream(
            "WebSocketFramingFuzzTestInputs/framesAreStreamedOrRefused/" + name))
        {
            assertThat(in).as(name).isNotNull();
            return in.readAllBytes();
        }
    }

    /**
     * @return where the server's frames start: after the 101, whose ServerKey frame must come first.
     */
    private static int assertSwitchedToDerp(final byte[] written)
    {
        final String text = new String(written, StandardCharsets.ISO_8859_1);
        final int headEnd = text.indexOf("\r\n\r\n");
        assertThat(headEnd).as("a 101: %s", text).isPositive();
        assertThat(text.substring(0, headEnd)).startsWith("HTTP/1.1 101 Switching Protocols\r\n")
            .contains("\r\nSec-WebSocket-Protocol: derp")
            .contains("\r\nSec-WebSocket-Accept: " + ACCEPT);
        final int frames = headEnd + 4;
        assertThat(written.length).as("ServerKey follows").isGreaterThan(frames + 2);
        assertThat(written[frames] & 0xFF).as("one final binary frame").isEqualTo(0x80 | OPCODE_BINARY);
        final int length = written[frames + 1] & 0x7F;
        assertThat(length).isEqualTo(EmbeddedRelay.SERVER_KEY_FRAME.length);
        assertThat(Arrays.copyOfRange(written, frames + 2, frames + 2 + length)).isEqualTo(EmbeddedRelay.SERVER_KEY_FRAME);
        return frames;
    }

    /**
     * Walks the server's frames: final, no reserved bits, unmasked, binary/close/pong only, binary ones within what
     * Go's WebSocket library reads, and nothing after a close.
     */
    private static void assertServerFrames(final byte[] written, final int from)
    {
        int at = from;
        boolean closed = false;
        while (at < written.length)
        {
            assertThat(closed).as("a frame after the close frame").isFalse();
            assertThat(written.length - at).as("a whole frame header").isGreaterThanOrEqualTo(2);
            final int first = written[at] & 0xFF;
            final int second = written[at + 1] & 0xFF;
            final int opcode = first & 0x0F;
            assertThat(first & 0xF0).as("FIN and no reserved bits").isEqualTo(0x80);
            assertThat(opcode).as("opcode").isIn(OPCODE_BINARY, OPCODE_CLOSE, OPCODE_PONG);
            assertThat(second & 0x80).as("server frames are not masked").isZero();
            int header = 2;
            long length = second & 0x7F;
            if (126 == length)
            {
                assertThat(written.length - at).isGreaterThanOrEqualTo(4);
                length = ((written[at + 2] & 0xFF) << 8) | (written[at + 3] & 0xFF);
                header = 4;
            }
            else if (127 == length)
            {
                assertThat(written.length - at).isGreaterThanOrEqualTo(10);
                length = 0;
                for (int i = 0; i < 8; i++)
                {
                    length = (length << 8) | (written[at + 2 + i] & 0xFF);
                }
                header = 10;
            }
            if (OPCODE_BINARY == opcode)
            {
                assertThat(length).isBetween(0L, (long)WebSocketStream.MAX_OUTGOING_MESSAGE);
            }
            else
            {
                assertThat(length).as("control frame payload").isLessThanOrEqualTo(125);
            }
            assertThat((long)written.length - at - header).as("a whole frame").isGreaterThanOrEqualTo(length);
            closed = OPCODE_CLOSE == opcode;
            at += header + (int)length;
        }
    }

    /**
     * Follows the client's frames as a WebSocket decoder must and finds the first whose length field announces more
     * than the server takes in one frame.
     *
     * @return the offset just past that length field, or -1 if no frame header does.
     */
    static long endOfFirstOversizedLength(final byte[] input, final int from)
    {
        long at = from;
        while (at + 2 <= input.length)
        {
            final int second = input[(int)at + 1] & 0xFF;
            long length = second & 0x7F;
            int header = 2;
            if (126 == length)
            {
                header = 4;
            }
            else if (127 == length)
            {
                header = 10;
            }
            if (at + header > input.length)
            {
                return -1;
            }
            if (126 == length)
            {
                length = ((input[(int)at + 2] & 0xFF) << 8) | (input[(int)at + 3] & 0xFF);
            }
            else if (127 == length)
            {
                length = 0;
                for (int i = 0; i < 8; i++)
                {
                    length = (length << 8) | (input[(int)at + 2 + i] & 0xFF);
                }
            }
            if (length < 0 || length > DerpUpgrade.MAX_INCOMING_WEBSOCKET_FRAME)
            {
                return at + header;
            }
            at += header + (0 != (second & 0x80) ? 4 : 0) + length;
        }
        return -1;
    }
}
