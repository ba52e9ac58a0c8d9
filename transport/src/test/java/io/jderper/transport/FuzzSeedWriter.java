package io.jderper.transport;

import io.jderper.core.crypto.NaclBox;
import io.jderper.core.protocol.ClientFrames;
import io.jderper.core.protocol.FrameHeader;
import io.jderper.core.protocol.ProtocolLimits;
import org.agrona.concurrent.UnsafeBuffer;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.SecureRandom;
import java.util.Arrays;
import java.util.Random;

/**
 * Writes the seed inputs of the transport's fuzz targets ({@code HttpRequestHeadFuzzTest},
 * {@code WebSocketFramingFuzzTest}): what clients send, built with the protocol code the relay's own client uses, and
 * a ClientInfo sealed to {@link EmbeddedRelay#SERVER_KEY} so that the seeds get past the DERP login. Run by hand
 * with the module's test resources directory as the argument when the seeds need to change; the output is committed.
 */
public final class FuzzSeedWriter
{
    private static final String HTTP_TARGET = "io/jderper/transport/http/HttpRequestHeadFuzzTestInputs/" +
        "requestsAreAnsweredRefusedOrUpgraded/";
    private static final String WEBSOCKET_TARGET = "io/jderper/transport/derp/WebSocketFramingFuzzTestInputs/" +
        "framesAreStreamedOrRefused/";
    private static final String TAILSCALED_JSON = "{\"version\":2,\"CanAckPings\":true}";

    private FuzzSeedWriter()
    {
    }

    /**
     * @param args the test resources directory.
     * @throws IOException if a seed cannot be written.
     */
    public static void main(final String[] args) throws IOException
    {
        final Path resources = Path.of(args[0]);
        final Random masks = new Random(7);
        final byte[] clientInfo = clientInfoFrame();
        final byte[] sendToSelf = sendPacket("hello from the seed".getBytes(StandardCharsets.US_ASCII));

        // HTTP: the first byte is the bytes per read (low 7 bits) and the listener (top bit: the plain-HTTP port).
        write(resources, HTTP_TARGET + "derp-upgrade", 0, ascii(
            "GET /derp HTTP/1.1\r\nHost: derp.example.com\r\nUser-Agent: jderper-client\r\n" +
            "Connection: Upgrade\r\nUpgrade: DERP\r\n\r\n"));
        write(resources, HTTP_TARGET + "derp-fast-start", 0, concat(ascii(
            "GET /derp HTTP/1.1\r\nHost: derp.example.com\r\nConnection: Upgrade\r\nUpgrade: DERP\r\n" +
            "Derp-Version: 2\r\nDerp-Fast-Start: 1\r\n\r\n"), clientInfo));
        write(resources, HTTP_TARGET + "websocket-upgrade", 7, ascii(
            "GET /derp HTTP/1.1\r\nHost: derp.example.com\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n" +
            "Sec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n" +
            "Sec-WebSocket-Protocol: derp\r\n\r\n"));
        write(resources, HTTP_TARGET + "probes", 0, ascii(
            "GET /derp/probe HTTP/1.1\r\nHost: derp.example.com\r\n\r\n" +
            "HEAD /derp/latency-check HTTP/1.1\r\nHost: derp.example.com\r\n\r\n" +
            "GET /robots.txt HTTP/1.0\r\n\r\n"));
        write(resources, HTTP_TARGET + "home-page", 0, ascii(
            "GET / HTTP/1.1\r\nHost: derp.example.com\r\nUser-Agent: Mozilla/5.0\r\nAccept: text/html\r\n" +
            "Connection: close\r\n\r\n"));
        write(resources, HTTP_TARGET + "post-with-body", 0, ascii(
            "POST /derp/probe HTTP/1.1\r\nHost: derp.example.com\r\nContent-Length: 5\r\n\r\nhello"));
        write(resources, HTTP_TARGET + "generate-204", 0x80, ascii(
            "GET /generate_204 HTTP/1.1\r\nHost: derp.example.com\r\nX-Tailscale-Challenge: ts_derp-1.example\r\n" +
            "\r\n"));
        write(resources, HTTP_TARGET + "plain-port-acme-and-redirect", 0x80 | 3, ascii(
            "GET /.well-known/acme-challenge/known-token HTTP/1.1\r\nHost: derp.example.com\r\n\r\n" +
            "GET /derp HTTP/1.0\r\nHost: derp.example.com\r\n\r\n"));

        // WebSocket: the first byte is the bytes per read; then the client's frames, masked as a client's are.
        write(resources, WEBSOCKET_TARGET + "clientinfo-sendpacket", 0,
            frame(true, 2, concat(clientInfo, sendToSelf), true, masks));
        final byte[] message = concat(clientInfo, sendToSelf);
        final int half = message.length / 2;
        write(resources, WEBSOCKET_TARGET + "fragmented-with-ping", 5, concat(
            frame(false, 2, Arrays.copyOf(message, half), true, masks),
            frame(true, 9, ascii("ping"), true, masks),
            frame(true, 0, Arrays.copyOfRange(message, half, message.length), true, masks)));
        write(resources, WEBSOCKET_TARGET + "clientinfo-then-close", 0, concat(
            frame(true, 2, clientInfo, true, masks),
            frame(true, 8, new byte[] {0x03, (byte)0xE8}, true, masks)));
        write(resources, WEBSOCKET_TARGET + "oversized-frame", 0, concat(
            new byte[] {(byte)0x82, (byte)(0x80 | 127), 0, 0, 0, 0, 0, 0x10, 0, 0}, new byte[] {1, 2, 3, 4},
            new byte[64]));
        write(resources, WEBSOCKET_TARGET + "unmasked-frame", 0, frame(true, 2, clientInfo, false, masks));
        write(resources, WEBSOCKET_TARGET + "text-frame", 0, frame(true, 1, ascii("derp?"), true, masks));
    }

    private static byte[] clientInfoFrame()
    {
        final byte[] box = NaclBox.seal(EmbeddedRelay.CLIENT_KEY, EmbeddedRelay.SERVER_KEY.publicKey().toBytes(),
            TAILSCALED_JSON.getBytes(StandardCharsets.UTF_8), new SecureRandom());
        final byte[] frame = new byte[FrameHeader.LENGTH + ProtocolLimits.KEY_LENGTH + box.length];
        ClientFrames.clientInfo(new UnsafeBuffer(frame), 0, EmbeddedRelay.CLIENT_KEY.publicKey().toBytes(), box);
        return frame;
    }

    private static byte[] sendPacket(final byte[] data)
    {
        final byte[] frame = new byte[ClientFrames.SEND_PACKET_PREFIX_LENGTH + data.length];
        ClientFrames.sendPacketPrefix(new UnsafeBuffer(frame), 0,
            new UnsafeBuffer(EmbeddedRelay.CLIENT_KEY.publicKey().toBytes()), 0, data.length);
        System.arraycopy(data, 0, frame, ClientFrames.SEND_PACKET_PREFIX_LENGTH, data.length);
        return frame;
    }

    private static byte[] frame(final boolean fin, final int opcode, final byte[] payload, final boolean masked,
        final Random masks)
    {
        final ByteArrayOutputStream out = new ByteArrayOutputStream();
        out.write((fin ? 0x80 : 0) | opcode);
        final int maskBit = masked ? 0x80 : 0;
        if (payload.length < 126)
        {
            out.write(maskBit | payload.length);
        }
        else
        {
            out.write(maskBit | 126);
            out.write(payload.length >>> 8);
            out.write(payload.length & 0xFF);
        }
        final byte[] mask = new byte[4];
        if (masked)
        {
            masks.nextBytes(mask);
            out.writeBytes(mask);
        }
        for (int i = 0; i < payload.length; i++)
        {
            out.write(payload[i] ^ mask[i & 3]);
        }
        return out.toByteArray();
    }

    private static byte[] ascii(final String text)
    {
        return text.getBytes(StandardCharsets.US_ASCII);
    }

    private static byte[] concat(final byte[]... parts)
    {
        final ByteArrayOutputStream out = new ByteArrayOutputStream();
        for (final byte[] part : parts)
        {
            out.writeBytes(part);
        }
        return out.toByteArray();
    }

    private static void write(final Path resources, final String name, final int control, final byte[] bytes)
        throws IOException
    {
        final Path file = resources.resolve(name);
        Files.createDirectories(file.getParent());
        Files.write(file, concat(new byte[] {(byte)control}, bytes));
    }
}
