package io.jderper.transport;

import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.read.ListAppender;
import io.jderper.core.protocol.FrameType;
import io.jderper.core.protocol.ProtocolLimits;
import io.jderper.core.protocol.Violation;
import io.jderper.core.router.DropReason;
import io.jderper.core.router.RelayConfig;
import io.jderper.core.router.RelayMetrics;
import io.jderper.transport.io.InputLimits;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.slf4j.LoggerFactory;

import java.io.ByteArrayOutputStream;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Arrays;
import java.util.List;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLEngine;
import javax.net.ssl.SSLException;
import javax.net.ssl.SSLSocket;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * Each kind of bad input closes only the connection that sent it, is logged once and counted, and the relay
 * keeps serving a connected client throughout.
 */
class BadInputTest
{
    private static final long HANDSHAKE_TIMEOUT_MS = 1000;
    /** Shortened stage deadlines, still generous enough for the handshakes of a loaded machine. */
    private static final InputLimits INPUT_LIMITS = new InputLimits(Duration.ofSeconds(3), Duration.ofSeconds(5),
        16 << 10, Duration.ofMillis(500));

    @TempDir
    static Path certdir;
    private static RelayFixture relay;
    private static TestDerpClient bystander;
    private final ListAppender<ILoggingEvent> logs = new ListAppender<>();

    @BeforeAll
    static void startRelay() throws Exception
    {
        final RelayConfig defaults = RelayConfig.defaults(ProtocolLimits.DEFAULT_WRITE_TIMEOUT_MS);
        relay = new RelayFixture(certdir, new RelayConfig(defaults.sendQueueDepth(), defaults.writeTimeoutMs(),
            HANDSHAKE_TIMEOUT_MS, defaults.keepAliveMs(), defaults.keepAliveJitterMs(), defaults.inboxCapacity(),
            defaults.pooledQueues()), INPUT_LIMITS);
        bystander = TestDerpClient.connected(relay.address());
    }

    @AfterAll
    static void stopRelay() throws Exception
    {
        bystander.close();
        relay.close();
    }

    @BeforeEach
    void captureLogs()
    {
        logs.start();
        ((Logger)LoggerFactory.getLogger(Logger.ROOT_LOGGER_NAME)).addAppender(logs);
    }

    @AfterEach
    void bystanderStillServed() throws Exception
    {
        ((Logger)LoggerFactory.getLogger(Logger.ROOT_LOGGER_NAME)).detachAppender(logs);
        bystander.pingPong();
    }

    private void assertClosedAndCounted(final TestDerpClient client, final Violation violation, final long before)
        throws Exception
    {
        assertThat(client.closedByServer()).as("server closed the connection").isTrue();
        RelayFixture.await(violation.label() + " counted", () -> relay.violations(violation) == before + 1);
        RelayFixture.await("a log line naming " + violation.label(), () -> linesMentioning(violation.label()) == 1);
    }

    private long linesMentioning(final String text)
    {
        return List.copyOf(logs.list).stream().filter(e -> e.getFormattedMessage().contains(text)).count();
    }

    @Test
    void shouldCloseOnOversizedSendPacket() throws Exception
    {
        final long before = relay.violations(Violation.FRAME_TOO_LARGE);
        try (TestDerpClient client = TestDerpClient.connected(relay.address()))
        {
            // Only the header: the server must refuse before buffering 64 KiB + 33 bytes.
            client.sendRaw(TestDerpClient.header(FrameType.SEND_PACKET, ProtocolLimits.MAX_SEND_PACKET_LENGTH + 1));
            assertClosedAndCounted(client, Violation.FRAME_TOO_LARGE, before);
        }
    }

    @Test
    void shouldCloseOnHugeDeclaredLength() throws Exception
    {
        final long before = relay.violations(Violation.FRAME_TOO_LARGE);
        try (TestDerpClient client = TestDerpClient.connected(relay.address()))
        {
            client.sendRaw(TestDerpClient.header(FrameType.SEND_PACKET, 0xFFFF_FFFFL));
            assertClosedAndCounted(client, Violation.FRAME_TOO_LARGE, before);
        }
    }

    @Test
    void shouldCountTruncatedFrame() throws Exception
    {
        final long before = relay.violations(Violation.TRUNCATED_FRAME);
        final TestDerpClient client = TestDerpClient.connected(relay.address());
        client.sendRaw(TestDerpClient.header(FrameType.SEND_PACKET, 100));
        client.sendRaw(new byte[10]);
        client.close();
        RelayFixture.await("truncated frame counted", () -> relay.violations(Violation.TRUNCATED_FRAME) == before + 1);
    }

    @Test
    void shouldCloseWhenFirstFrameIsNotClientInfo() throws Exception
    {
        final long before = relay.violations(Violation.FIRST_FRAME_NOT_CLIENT_INFO);
        try (TestDerpClient client = TestDerpClient.upgraded(relay.address()))
        {
            client.sendFrame(FrameType.PING, new byte[8]);
            assertClosedAndCounted(client, Violation.FIRST_FRAME_NOT_CLIENT_INFO, before);
        }
    }

    @Test
    void shouldCloseWhenClientInfoDoesNotDecrypt() throws Exception
    {
        final long before = relay.violations(Violation.CLIENT_INFO_BOX);
        try (TestDerpClient client = TestDerpClient.upgraded(relay.address()))
        {
            final byte[] payload = new byte[32 + 24 + 16 + 20];
            client.key.publicKey().copyTo(payload, 0);
            payload[40] = 7;
            client.sendFrame(FrameType.CLIENT_INFO, payload);
            assertClosedAndCounted(client, Violation.CLIENT_INFO_BOX, before);
        }
    }

    @Test
    void shouldCloseWhenClientInfoIsNotJson() throws Exception
    {
        final long before = relay.violations(Violation.CLIENT_INFO_JSON);
        try (TestDerpClient client = TestDerpClient.upgraded(relay.address()))
        {
            client.sendClientInfo("{\"meshKey\":\"not-hex\"}");
            assertClosedAndCounted(client, Violation.CLIENT_INFO_JSON, before);
        }
    }

    @Test
    void shouldCloseSlowHandshake() throws Exception
    {
        final long before = relay.violations(Violation.HANDSHAKE_TIMEOUT);
        try (TestDerpClient client = TestDerpClient.upgraded(relay.address()))
        {
            // Send nothing: the relay's deadline (shortened for this test) must close us.
            assertClosedAndCounted(client, Violation.HANDSHAKE_TIMEOUT, before);
        }
    }

    @Test
    void shouldCloseAFrameHeaderFollowedBySilence() throws Exception
    {
        final long before = relay.violations(Violation.FRAME_STALLED);
        final long truncatedBefore = relay.violations(Violation.TRUNCATED_FRAME);
        try (TestDerpClient client = TestDerpClient.connected(relay.address()))
        {
            client.sendRaw(TestDerpClient.header(FrameType.SEND_PACKET, 100));
            client.sendRaw(new byte[10]);
            assertClosedAndCounted(client, Violation.FRAME_STALLED, before);
        }
        assertThat(relay.violations(Violation.TRUNCATED_FRAME)).as("counted once, as stalled").isEqualTo(truncatedBefore);
    }

    @Test
    void shouldKeepAConnectionThatStopsBetweenFrames() throws Exception
    {
        final long before = relay.violations(Violation.FRAME_STALLED);
        try (TestDerpClient client = TestDerpClient.connected(relay.address()))
        {
            client.pingPong();
            // Silence between frames is a client with nothing to send: it stays, stalls are only mid-frame.
            client.socket().setSoTimeout((int)INPUT_LIMITS.frameRead().multipliedBy(3).toMillis());
            assertThat(client.closedByServer()).isFalse();
            client.pingPong();
        }
        assertThat(relay.violations(Violation.FRAME_STALLED)).isEqualTo(before);
    }

    @Test
    void shouldBoundSlowlorisHeadersByTheRequestDeadline() throws Exception
    {
        final long before = relay.violations(Violation.HTTP_REQUEST_TIMEOUT);
        try (Socket socket = TestDerpClient.openTls(relay.address()))
        {
            final OutputStream out = socket.getOutputStream();
            out.write("GET /derp HTTP/1.1\r\nHost: test\r\n".getBytes(StandardCharsets.US_ASCII));
            out.flush();
            // A header line every 100 ms, far more often than the 5 s deadline: an idle timeout would never fire,
            // the request deadline must. Bounded at 150 lines (15 s).
            int lines = 0;
            while (relay.violations(Violation.HTTP_REQUEST_TIMEOUT) == before && lines < 150)
            {
                out.write(("X-Drip-" + lines + ": x\r\n").getBytes(StandardCharsets.US_ASCII));
                out.flush();
                lines++;
                Thread.sleep(100);
            }
            assertThat(relay.violations(Violation.HTTP_REQUEST_TIMEOUT)).as("closed while still trickling")
                .isEqualTo(before + 1);
            assertThat(socket.getInputStream().read()).isEqualTo(-1);
        }
        RelayFixture.await("one log line", () -> linesMentioning(Violation.HTTP_REQUEST_TIMEOUT.label()) == 1);
    }

    @Test
    void shouldCloseATlsClientHelloFollowedBySilence() throws Exception
    {
        final long before = relay.violations(Violation.TLS_HANDSHAKE_TIMEOUT);
        final long badBefore = relay.violations(Violation.BAD_TRANSPORT);
        final SSLEngine engine = SSLContext.getDefault().createSSLEngine("127.0.0.1", relay.address().getPort());
        engine.setUseClientMode(true);
        final ByteBuffer hello = ByteBuffer.allocate(engine.getSession().getPacketBufferSize());
        engine.wrap(ByteBuffer.allocate(0), hello);
        hello.flip();
        try (Socket socket = new Socket(relay.address().getAddress(), relay.address().getPort()))
        {
            socket.setSoTimeout(TestDerpClient.READ_TIMEOUT_MS);
            socket.getOutputStream().write(Arrays.copyOf(hello.array(), hello.limit()));
            socket.getOutputStream().flush();
            // The server answers the hello, then waits for the rest of a handshake that never comes.
            assertThat(socket.getInputStream().read()).as("ServerHello").isEqualTo(0x16);
            assertThat(socket.getInputStream().transferTo(OutputStream.nullOutputStream())).isPositive();
        }
        RelayFixture.await("handshake timeout counted", () ->
            relay.violations(Violation.TLS_HANDSHAKE_TIMEOUT) == before + 1);
        RelayFixture.await("one log line", () -> linesMentioning(Violation.TLS_HANDSHAKE_TIMEOUT.label()) == 1);
        assertThat(relay.violations(Violation.BAD_TRANSPORT)).as("not also a bad transport").isEqualTo(badBefore);
    }

    @Test
    void shouldCloseAConnectionThatNeverSendsAByte() throws Exception
    {
        final long before = relay.violations(Violation.TLS_HANDSHAKE_TIMEOUT);
        try (Socket socket = new Socket(relay.address().getAddress(), relay.address().getPort()))
        {
            socket.setSoTimeout(TestDerpClient.READ_TIMEOUT_MS);
            assertThat(socket.getInputStream().read()).isEqualTo(-1);
        }
        RelayFixture.await("handshake timeout counted", () ->
            relay.violations(Violation.TLS_HANDSHAKE_TIMEOUT) == before + 1);
    }

    @Test
    void shouldAnswer431ToAnOversizedRequestHead() throws Exception
    {
        final long before = relay.violations(Violation.HTTP_HEADER_TOO_LARGE);
        try (Socket socket = TestDerpClient.openTls(relay.address()))
        {
            final OutputStream out = socket.getOutputStream();
            out.write(("GET /derp HTTP/1.1\r\nHost: test\r\nX-Big: " + "a".repeat(INPUT_LIMITS.httpHeaderBytes()) +
                "\r\n\r\n").getBytes(StandardCharsets.US_ASCII));
            out.flush();
            final ByteArrayOutputStream response = new ByteArrayOutputStream();
            socket.getInputStream().transferTo(response);
            assertThat(response.toString(StandardCharsets.US_ASCII))
                .startsWith("HTTP/1.1 431 Request Header Fields Too Large\r\n");
        }
        RelayFixture.await("header too large counted", () ->
            relay.violations(Violation.HTTP_HEADER_TOO_LARGE) == before + 1);
    }

    @Test
    void shouldCountAFrameCutShortByCloseNotify() throws Exception
    {
        final long before = relay.violations(Violation.TRUNCATED_FRAME);
        try (TestDerpClient client = TestDerpClient.connected(relay.address()))
        {
            client.sendRaw(TestDerpClient.header(FrameType.SEND_PACKET, 100));
            client.sendRaw(new byte[10]);
            // close_notify in the middle of the frame: a clean TLS end, still a truncated frame.
            client.socket().shutdownOutput();
            assertThat(client.closedByServer()).isTrue();
        }
        RelayFixture.await("truncated frame counted", () -> relay.violations(Violation.TRUNCATED_FRAME) == before + 1);
    }

    @Test
    void shouldRefuseTlsRenegotiationMidFrame() throws Exception
    {
        final long before = relay.violations(Violation.TRUNCATED_FRAME);
        try (TestDerpClient client = TestDerpClient.connected(
            TestDerpClient.openTls(relay.address(), new String[]{"TLSv1.2"})))
        {
            client.sendRaw(TestDerpClient.header(FrameType.SEND_PACKET, 100));
            client.sendRaw(new byte[10]);
            // A client-initiated renegotiation (a way to make a server burn CPU): refused with an alert, and the
            // connection, cut in the middle of its frame, closed. (BoringSSL ends the session quietly or with an
            // engine error, by timing: only the truncated frame is counted either way.)
            final SSLSocket socket = (SSLSocket)client.socket();
            socket.startHandshake();
            assertThatThrownBy(() -> socket.getInputStream().read()).isInstanceOf(SSLException.class)
                .hasMessageContaining("no_renegotiation");
        }
        RelayFixture.await("the connection closed mid-frame", () ->
            relay.violations(Violation.TRUNCATED_FRAME) == before + 1);
    }

    @Test
    void shouldSkipUnknownFrameTypesOfAnyLength() throws Exception
    {
        final long before = relay.metrics.unknownFrames.sum();
        try (TestDerpClient client = TestDerpClient.connected(relay.address()))
        {
            client.sendFrame((byte)0x7F, new byte[3]);
            // Larger than any frame the relay buffers: it must stream past, not close.
            client.sendFrame((byte)0x0B, new byte[300_000]);
            client.sendFrame(FrameType.PONG, new byte[8]);
            client.pingPong();
            assertThat(relay.metrics.unknownFrames.sum()).isEqualTo(before + 2);
        }
    }

    @Test
    void shouldCloseOnMeshOnlyFramesFromOrdinaryClient() throws Exception
    {
        for (final byte type : new byte[]{FrameType.WATCH_CONNS, FrameType.CLOSE_PEER, FrameType.FORWARD_PACKET})
        {
            logs.list.clear();
            final long before = relay.violations(Violation.NOT_PRIVILEGED);
            try (TestDerpClient client = TestDerpClient.connected(relay.address()))
            {
                final int length = FrameType.WATCH_CONNS == type ? 0 : FrameType.CLOSE_PEER == type ? 32 : 64 + 10;
                client.sendFrame(type, new byte[length]);
                assertClosedAndCounted(client, Violation.NOT_PRIVILEGED, before);
            }
        }
    }

    @Test
    void shouldCloseOnBadControlFrameLengths() throws Exception
    {
        for (final byte[] frame : new byte[][]{
            TestDerpClient.header(FrameType.NOTE_PREFERRED, 2), TestDerpClient.header(FrameType.PING, 7),
            TestDerpClient.header(FrameType.PING, 1001), TestDerpClient.header(FrameType.SEND_PACKET, 31)})
        {
            logs.list.clear();
            final long before = relay.violations(Violation.FRAME_LENGTH);
            try (TestDerpClient client = TestDerpClient.connected(relay.address()))
            {
                client.sendRaw(frame);
                assertClosedAndCounted(client, Violation.FRAME_LENGTH, before);
            }
        }
    }

    @Test
    void shouldCloseGarbageInsteadOfTls() throws Exception
    {
        final long before = relay.violations(Violation.BAD_TRANSPORT);
        try (Socket socket = new Socket(relay.address().getAddress(), relay.address().getPort()))
        {
            socket.setSoTimeout(TestDerpClient.READ_TIMEOUT_MS);
            socket.getOutputStream().write(new byte[]{0x00, 0x01, 0x02, (byte)0xFF, 0x10});
            assertThat(socket.getInputStream().read()).isEqualTo(-1);
        }
        RelayFixture.await("bad transport counted", () -> relay.violations(Violation.BAD_TRANSPORT) == before + 1);
        RelayFixture.await("one log line", () -> linesMentioning("not TLS") == 1);
    }

    @Test
    void shouldTellPlainHttpClientsToUseTls() throws Exception
    {
        final long before = relay.violations(Violation.BAD_TRANSPORT);
        try (Socket socket = new Socket(relay.address().getAddress(), relay.address().getPort()))
        {
            socket.setSoTimeout(TestDerpClient.READ_TIMEOUT_MS);
            final OutputStream out = socket.getOutputStream();
            out.write("GET /derp HTTP/1.1\r\nHost: x\r\n\r\n".getBytes(StandardCharsets.US_ASCII));
            out.flush();
            final InputStream in = socket.getInputStream();
            final ByteArrayOutputStream response = new ByteArrayOutputStream();
            in.transferTo(response);
            assertThat(response.toString(StandardCharsets.US_ASCII))
                .startsWith("HTTP/1.0 400 Bad Request\r\n")
                .contains("Client sent an HTTP request to an HTTPS server.");
        }
        RelayFixture.await("bad transport counted", () -> relay.violations(Violation.BAD_TRANSPORT) == before + 1);
        RelayFixture.await("one log line", () -> linesMentioning("plain HTTP request on the TLS port") == 1);
    }

    @Test
    void shouldDropForAReceiverThatNeverReadsWithoutSlowingItsSender() throws Exception
    {
        final long dropsBefore = relay.metrics.packetsDropped(DropReason.QUEUE_HEAD, RelayMetrics.KIND_OTHER);
        final long timeoutsBefore = relay.metrics.writeTimeouts.sum();
        try (TestDerpClient sender = TestDerpClient.connected(relay.address());
             TestDerpClient stuck = TestDerpClient.connected(relay.address()))
        {
            // 12 MB: more than the kernel's buffers on both sides of the stuck connection can hold.
            final byte[] data = new byte[1200];
            for (int i = 0; i < 10_000; i++)
            {
                sender.sendPacket(stuck.publicKey(), data);
            }
            sender.pingPong();

            RelayFixture.await("packets for the stuck receiver dropped from its full queue", () ->
                relay.metrics.packetsDropped(DropReason.QUEUE_HEAD, RelayMetrics.KIND_OTHER) > dropsBefore);
            RelayFixture.await("the stuck receiver closed after its writes stalled", () ->
                relay.metrics.writeTimeouts.sum() == timeoutsBefore + 1);
            sender.pingPong();
        }
    }

    @Test
    void shouldRelayFramesSplitIntoSingleBytes() throws Exception
    {
        try (TestDerpClient sender = TestDerpClient.connected(relay.address());
             TestDerpClient receiver = TestDerpClient.connected(relay.address()))
        {
            final byte[] data = new byte[2000];
            for (int i = 0; i < data.length; i++)
            {
                data[i] = (byte)(i * 7);
            }
            final byte[] payload = new byte[32 + data.length];
            receiver.publicKey().copyTo(payload, 0);
            System.arraycopy(data, 0, payload, 32, data.length);
            final byte[] frame = new byte[5 + payload.length];
            System.arraycopy(TestDerpClient.header(FrameType.SEND_PACKET, payload.length), 0, frame, 0, 5);
            System.arraycopy(payload, 0, frame, 5, payload.length);
            // One TLS record per byte for the first 100 bytes: header, keys and disco prefix all split.
            for (int i = 0; i < 100; i++)
            {
                sender.sendRaw(new byte[]{frame[i]});
            }
            sender.sendRaw(java.util.Arrays.copyOfRange(frame, 100, frame.length));
            final TestDerpClient.Frame received = receiver.readUntil(FrameType.RECV_PACKET);
            final byte[] expected = new byte[32 + data.length];
            sender.publicKey().copyTo(expected, 0);
            System.arraycopy(data, 0, expected, 32, data.length);
            assertThat(received.payload()).isEqualTo(expected);
        }
    }
}
