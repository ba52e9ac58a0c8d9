package io.jderper.transport.client;

import io.jderper.transport.TrackingAllocator;
import io.jderper.core.crypto.NaclBox;
import io.jderper.core.handshake.ServerHandshake;
import io.jderper.core.key.NodePrivateKey;
import io.jderper.core.key.NodePublicKey;
import io.jderper.core.protocol.FrameType;
import io.jderper.core.protocol.PeerGoneReason;
import io.jderper.core.protocol.PeerPresentFlags;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufUtil;
import io.netty.buffer.Unpooled;
import io.netty.channel.embedded.EmbeddedChannel;
import org.agrona.concurrent.UnsafeBuffer;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.io.ByteArrayOutputStream;
import java.net.URI;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.security.SecureRandom;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.Optional;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The client's handshake and frame reading against a scripted server on an {@link EmbeddedChannel}: bytes cut at
 * every boundary, frames our relay never sends, and every way the server can break the rules.
 */
class DerpClientFramingTest
{
    private static final SecureRandom RANDOM = new SecureRandom();
    private static final String URL = "http://derp.test/derp";
    private static final HexFormat HEX = HexFormat.of();

    private final NodePrivateKey serverKey = NodePrivateKey.generate(RANDOM);
    private final NodePrivateKey clientKey = NodePrivateKey.generate(RANDOM);
    private final Recorder recorder = new Recorder();
    private final TrackingAllocator allocator = new TrackingAllocator();
    private EmbeddedChannel channel;
    private DerpClient client;
    private boolean direct;

    @AfterEach
    void releaseEverything()
    {
        if (null != channel)
        {
            channel.finishAndReleaseAll();
        }
        assertThat(allocator.outstanding()).as("buffers still held by the client").isZero();
    }

    private DerpClientOptions.Builder options()
    {
        return DerpClientOptions.builder(URI.create(URL), clientKey);
    }

    private void open(final DerpClientOptions options)
    {
        channel = new EmbeddedChannel();
        client = new DerpClient(options, recorder, allocator, RANDOM, channel.eventLoop());
        client.attach(channel, null);
        channel.pipeline().addLast(client.handler());
    }

    /** Feeds bytes in chunks, alternating heap and direct buffers so both kinds of view are exercised. */
    private void feed(final byte[] bytes, final int chunk)
    {
        for (int at = 0; at < bytes.length && channel.isOpen(); at += chunk)
        {
            final int length = Math.min(chunk, bytes.length - at);
            final ByteBuf in = direct ? Unpooled.directBuffer(length) : Unpooled.buffer(length);
            direct = !direct;
            channel.writeInbound(in.writeBytes(bytes, at, length));
        }
    }

    private byte[] readOutbound()
    {
        final ByteBuf out = channel.readOutbound();
        assertThat(out).as("an outbound frame").isNotNull();
        try
        {
            return ByteBufUtil.getBytes(out);
        }
        finally
        {
            out.release();
        }
    }

    private static byte[] frame(final byte type, final byte[] payload)
    {
        return ByteBuffer.allocate(5 + payload.length).put(type).putInt(payload.length).put(payload).array();
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

    private static byte[] switchingProtocols(final NodePublicKey key)
    {
        return ("HTTP/1.1 101 Switching Protocols\r\nUpgrade: DERP\r\nConnection: Upgrade\r\nDerp-Version: 2\r\n" +
            "Derp-Public-Key: " + key.toHex() + "\r\n\r\n").getBytes(StandardCharsets.US_ASCII);
    }

    private ServerHandshake serverHandshake()
    {
        return new ServerHandshake(serverKey, Optional.empty(), RANDOM);
    }

    /**
     * Runs the 101 handshake; returns the ClientInfo JSON the client sent.
     */
    private String handshake(final int chunk)
    {
        final String request = new String(readOutbound(), StandardCharsets.US_ASCII);
        assertThat(request).startsWith("GET /derp HTTP/1.1\r\n").endsWith("\r\n\r\n")
            .contains("\r\nHost: derp.test\r\n", "\r\nUpgrade: DERP\r\n", "\r\nConnection: Upgrade\r\n")
            .doesNotContain("Derp-Fast-Start");
        feed(concat(switchingProtocols(serverKey.publicKey()), serverHandshake().serverKeyFrame()), chunk);
        final String json = openClientInfo(readOutbound());
        assertThat(client.isReady()).isFalse();
        feed(serverHandshake().serverInfoFrame(clientKey.publicKey()), chunk);
        assertThat(client.ready()).isCompletedWithValue(client);
        assertThat(client.serverPublicKey()).isEqualTo(serverKey.publicKey());
        return json;
    }

    private String openClientInfo(final byte[] frame)
    {
        assertThat(frame[0]).isEqualTo(FrameType.CLIENT_INFO);
        assertThat(ByteBuffer.wrap(frame, 1, 4).getInt()).isEqualTo(frame.length - 5);
        assertThat(Arrays.copyOfRange(frame, 5, 37)).isEqualTo(clientKey.publicKey().toBytes());
        final byte[] json = NaclBox.open(serverKey, frame, 5, frame, 37, frame.length - 37).orElseThrow();
        return new String(json, StandardCharsets.UTF_8);
    }

    private byte[] recvPacket(final NodePublicKey source, final byte[] data)
    {
        return frame(FrameType.RECV_PACKET, concat(source.toBytes(), data));
    }

    @Test
    void shouldCompleteTheHandshakeAndReadAPacketFedOneByteAtATime() throws Exception
    {
        open(options().build());

        assertThat(handshake(1)).isEqualTo("{\"version\":2,\"CanAckPings\":true}");
        final NodePublicKey peer = NodePrivateKey.generate(RANDOM).publicKey();
        final byte[] data = new byte[300];
        RANDOM.nextBytes(data);
        feed(recvPacket(peer, data), 1);

        final Recorder.Packet packet = Recorder.next(recorder.packets);
        assertThat(packet.source()).isEqualTo(peer);
        assertThat(packet.data()).isEqualTo(data);
        assertThat(client.serverInfo()).isEqualTo("{\"version\":2}");
        assertThat(client.usedFastStart()).isFalse();
    }

    @Test
    void shouldDeliverEveryServerFrameWhetherWholeOrCut() throws Exception
    {
        open(options().build());
        handshake(4096);
        final NodePublicKey peer = NodePrivateKey.generate(RANDOM).publicKey();
        final byte[] ip = HEX.parseHex("00000000000000000000ffffc6336407");
        final byte[] stream = concat(
            recvPacket(peer, new byte[]{1, 2, 3}),
            frame(FrameType.KEEP_ALIVE, new byte[0]),
            recvPacket(peer, new byte[0]),
            frame(FrameType.HEALTH, "duplicate key".getBytes(StandardCharsets.UTF_8)),
            frame(FrameType.HEALTH, new byte[0]),
            frame(FrameType.RESTARTING, HEX.parseHex("000003e800001388")),
            frame(FrameType.PEER_GONE, peer.toBytes()),
            frame(FrameType.PEER_GONE, concat(peer.toBytes(), new byte[]{PeerGoneReason.NOT_HERE})),
            frame(FrameType.PEER_PRESENT, peer.toBytes()),
            frame(FrameType.PEER_PRESENT, concat(peer.toBytes(), ip, HEX.parseHex("a2a9"),
                new byte[]{PeerPresentFlags.PROBER}, new byte[]{0x55})),
            frame(FrameType.PONG, HEX.parseHex("0102030405060708")));

        for (final int chunk : new int[]{stream.length, 7, 1})
        {
            feed(stream, chunk);

            assertThat(Recorder.next(recorder.packets)).satisfies(p -> assertThat(p.data()).containsExactly(1, 2, 3));
            assertThat(Recorder.next(recorder.packets)).satisfies(p -> assertThat(p.data()).isEmpty());
            assertThat(Recorder.next(recorder.health)).isEqualTo("duplicate key");
            assertThat(Recorder.next(recorder.health)).isEmpty();
            assertThat(Recorder.next(recorder.restarting)).isEqualTo(new Recorder.Restarting(1000, 5000));
            assertThat(Recorder.next(recorder.peerGone)).isEqualTo(
                new Recorder.PeerGone(peer, PeerGoneReason.DISCONNECTED));
            assertThat(Recorder.next(recorder.peerGone))
                .isEqualTo(new Recorder.PeerGone(peer, PeerGoneReason.NOT_HERE));
            final Recorder.PeerPresent keyOnly = Recorder.next(recorder.peerPresent);
            assertThat(keyOnly.key()).isEqualTo(peer);
            assertThat(keyOnly.ip16()).isEqualTo(new byte[16]);
            assertThat(keyOnly.port()).isZero();
            assertThat(keyOnly.flags()).isZero();
            final Recorder.PeerPresent full = Recorder.next(recorder.peerPresent);
            assertThat(full.ip16()).isEqualTo(ip);
            assertThat(full.port()).isEqualTo(41641);
            assertThat(full.flags()).isEqualTo(PeerPresentFlags.PROBER);
            assertThat(Recorder.next(recorder.pongs)).isEqualTo(0x0102030405060708L);
            assertThat(recorder.packets).isEmpty();
        }
        assertThat(recorder.keepAlives).hasValue(3);
        assertThat(allocator.outstanding()).as("no carry buffer held between whole frames").isZero();
    }

    @Test
    void shouldAnswerServerPingsWithPongWhenItSaidItCan() throws Exception
    {
        open(options().build());
        handshake(64);

        feed(frame(FrameType.PING, HEX.parseHex("1122334455667788")), 3);

        assertThat(Recorder.next(recorder.serverPings)).isEqualTo(0x1122334455667788L);
        assertThat(readOutbound()).isEqualTo(HEX.parseHex("13000000081122334455667788"));
    }

    @Test
    void shouldGiveUpOnAServerSilentForTheReadTimeout() throws Exception
    {
        open(options().build());
        channel.freezeTime();
        handshake(64);

        channel.advanceTimeBy(DerpClientOptions.DEFAULT_READ_TIMEOUT_MS - 1_000, TimeUnit.MILLISECONDS);
        channel.runScheduledPendingTasks();
        assertThat(channel.isOpen()).as("open before the timeout").isTrue();
        // A KeepAlive is all a healthy idle server sends; it counts.
        feed(frame(FrameType.KEEP_ALIVE, new byte[0]), 5);
        channel.advanceTimeBy(DerpClientOptions.DEFAULT_READ_TIMEOUT_MS - 1_000, TimeUnit.MILLISECONDS);
        channel.runScheduledPendingTasks();
        assertThat(channel.isOpen()).as("open: the KeepAlive restarted the wait").isTrue();
        channel.advanceTimeBy(2_000, TimeUnit.MILLISECONDS);
        channel.runScheduledPendingTasks();

        assertThat(channel.isOpen()).as("open after the timeout").isFalse();
        assertThat(recorder.awaitClosed()).isInstanceOf(DerpClientException.class)
            .hasMessageContaining("no data from http://derp.test/derp for 121000 ms (read timeout 120000 ms)");
    }

    @Test
    void shouldNotAnswerServerPingsWhenItSaidItCannot() throws Exception
    {
        open(options().canAckPings(false).build());
        assertThat(handshake(64)).isEqualTo("{\"version\":2,\"CanAckPings\":false}");

        feed(frame(FrameType.PING, HEX.parseHex("1122334455667788")), 64);

        assertThat(Recorder.next(recorder.serverPings)).isEqualTo(0x1122334455667788L);
        final Object pong = channel.readOutbound();
        assertThat(pong).isNull();
    }

    @Test
    void shouldSkipUnknownAndUnusableFramesAsTheyStreamPast() throws Exception
    {
        open(options().build());
        handshake(64);
        final NodePublicKey peer = NodePrivateKey.generate(RANDOM).publicKey();
        final byte[] stream = concat(
            frame((byte)0x30, new byte[1 << 20]),
            frame(FrameType.RECV_PACKET, new byte[31]),
            frame(FrameType.PING, new byte[7]),
            frame(FrameType.RESTARTING, new byte[4]),
            frame(FrameType.SERVER_INFO, new byte[60]),
            frame(FrameType.SERVER_KEY, serverHandshake().serverKeyFrame()),
            recvPacket(peer, new byte[]{42}));
        final int allocationsBefore = allocator.allocations();

        feed(stream, 16384);

        assertThat(Recorder.next(recorder.packets).data()).containsExactly(42);
        assertThat(recorder.packets).isEmpty();
        assertThat(recorder.serverPings).isEmpty();
        assertThat(recorder.restarting).isEmpty();
        assertThat(channel.isOpen()).isTrue();
        assertThat(allocator.allocations() - allocationsBefore)
            .as("a 1 MiB unknown frame is skipped, not gathered; only frames cut by a boundary are carried")
            .isLessThanOrEqualTo(2);
    }

    @Test
    void shouldCloseOnAFrameOverOneMebibyte() throws Exception
    {
        open(options().build());
        handshake(64);

        feed(ByteBuffer.allocate(5).put(FrameType.RECV_PACKET).putInt((1 << 20) + 1).array(), 5);

        assertThat(recorder.awaitClosed()).isInstanceOf(DerpClientException.class)
            .hasMessage("RecvPacket frame from " + URL + " has length=1048577, over the 1 MiB limit");
        assertThat(channel.isOpen()).isFalse();
        assertThat(recorder.closedCalls).hasValue(1);
    }

    @Test
    void shouldFailWhenTheFirstFrameIsNotServerKey() throws Exception
    {
        open(options().build());
        readOutbound();

        feed(concat(switchingProtocols(serverKey.publicKey()), frame(FrameType.KEEP_ALIVE, new byte[0])), 1);

        assertThat(client.ready()).isCompletedExceptionally();
        assertThat(recorder.awaitClosed()).hasMessage("first frame from " + URL + " is KeepAlive, want ServerKey");
        assertThat(channel.isOpen()).isFalse();
    }

    @Test
    void shouldFailOnAServerKeyWithoutTheMagic() throws Exception
    {
        open(options().build());
        readOutbound();
        final byte[] serverKeyFrame = serverHandshake().serverKeyFrame();
        serverKeyFrame[5] ^= 1;

        feed(concat(switchingProtocols(serverKey.publicKey()), serverKeyFrame), 1000);

        assertThat(recorder.awaitClosed()).hasMessageStartingWith("bad ServerKey frame from " + URL)
            .hasMessageContaining("magic");
    }

    @Test
    void shouldFailWhenServerInfoIsNotFirst() throws Exception
    {
        open(options().build());
        readOutbound();
        feed(concat(switchingProtocols(serverKey.publicKey()), serverHandshake().serverKeyFrame()), 1000);
        readOutbound();

        feed(recvPacket(serverKey.publicKey(), new byte[8]), 1000);

        assertThat(recorder.awaitClosed())
            .hasMessage("first frame after ClientInfo from " + URL + " is RecvPacket, want ServerInfo");
        assertThat(client.ready()).isCompletedExceptionally();
    }

    @Test
    void shouldFailWhenServerInfoDoesNotOpen() throws Exception
    {
        open(options().build());
        readOutbound();
        feed(concat(switchingProtocols(serverKey.publicKey()), serverHandshake().serverKeyFrame()), 1000);
        readOutbound();
        final ServerHandshake impostor = new ServerHandshake(NodePrivateKey.generate(RANDOM), Optional.empty(),
            RANDOM);

        feed(impostor.serverInfoFrame(clientKey.publicKey()), 1000);

        assertThat(recorder.awaitClosed()).hasMessage("ServerInfo from " + URL + " does not open with the server key");
    }

    @Test
    void shouldFailOnAnEndlessHttpHead() throws Exception
    {
        open(options().build());
        readOutbound();

        feed(("HTTP/1.1 101 Switching Protocols\r\n" + "X-Filler: y\r\n".repeat(1000))
            .getBytes(StandardCharsets.US_ASCII), 512);

        assertThat(recorder.awaitClosed()).hasMessage("HTTP response head from " + URL +
            " is longer than 8192 bytes");
    }

    @Test
    void shouldSendMeshKeyProberAndIdealNodeAsAskedTo() throws Exception
    {
        final byte[] meshKey = new byte[32];
        RANDOM.nextBytes(meshKey);
        open(options().meshKey(meshKey).prober(true).canAckPings(false).idealNode("derp1a").build());

        final String request = new String(readOutbound(), StandardCharsets.US_ASCII);
        assertThat(request).contains("\r\nIdeal-Node: derp1a\r\n");
        feed(concat(switchingProtocols(serverKey.publicKey()), serverHandshake().serverKeyFrame()), 1000);
        assertThat(openClientInfo(readOutbound())).isEqualTo("{\"meshKey\":\"" + HEX.formatHex(meshKey) +
            "\",\"version\":2,\"CanAckPings\":false,\"IsProber\":true}");
    }

    @Test
    void shouldEncodeEveryClientFrameExactly() throws Exception
    {
        open(options().build());
        final UnsafeBuffer key = new UnsafeBuffer(new byte[64]);
        assertThat(client.sendPacket(key, 0, key, 0, 1)).as("not ready yet").isFalse();
        assertThat(client.ping(1)).isFalse();
        handshake(64);
        final byte[] a = new byte[32];
        final byte[] d = new byte[32];
        Arrays.fill(a, (byte)0xAA);
        Arrays.fill(d, (byte)0xDD);
        key.putBytes(0, a);
        key.putBytes(32, d);
        final UnsafeBuffer data = new UnsafeBuffer(new byte[]{9, 1, 2, 3, 9});

        assertThat(client.sendPacket(key, 32, data, 1, 3)).isTrue();
        assertThat(client.forwardPacket(key, 0, key, 32, data, 0, 5)).isTrue();
        client.flush();
        assertThat(client.notePreferred(true)).isTrue();
        assertThat(client.ping(0x0102030405060708L)).isTrue();
        assertThat(client.watchConns()).isTrue();
        assertThat(client.closePeer(key, 0)).isTrue();

        assertThat(readOutbound()).isEqualTo(concat(HEX.parseHex("0400000023"), d, new byte[]{1, 2, 3}));
        assertThat(readOutbound()).isEqualTo(concat(HEX.parseHex("0a00000045"), a, d, new byte[]{9, 1, 2, 3, 9}));
        assertThat(readOutbound()).isEqualTo(HEX.parseHex("070000000101"));
        assertThat(readOutbound()).isEqualTo(HEX.parseHex("12000000080102030405060708"));
        assertThat(readOutbound()).isEqualTo(HEX.parseHex("1000000000"));
        assertThat(readOutbound()).isEqualTo(concat(HEX.parseHex("1100000020"), a));
    }

    @Test
    void shouldCloseTheConnectionWhenAListenerThrows() throws Exception
    {
        channel = new EmbeddedChannel();
        final Recorder closes = new Recorder();
        client = new DerpClient(options().build(), new DerpClientListener()
        {
            @Override
            public void onRecvPacket(
                final DerpClient c, final org.agrona.DirectBuffer source, final int sourceOffset,
                final org.agrona.DirectBuffer data, final int dataOffset, final int dataLength)
            {
                throw new IllegalStateException("listener bug");
            }

            @Override
            public void onClosed(final DerpClient c, final Throwable cause)
            {
                closes.onClosed(c, cause);
            }
        }, allocator, RANDOM, channel.eventLoop());
        client.attach(channel, null);
        channel.pipeline().addLast(client.handler());
        readOutbound();
        feed(concat(switchingProtocols(serverKey.publicKey()), serverHandshake().serverKeyFrame()), 1000);
        readOutbound();
        feed(serverHandshake().serverInfoFrame(clientKey.publicKey()), 1000);

        feed(recvPacket(serverKey.publicKey(), new byte[3]), 1000);

        assertThat(closes.awaitClosed()).isInstanceOf(DerpClientException.class)
            .hasMessageContaining("failed while reading")
            .hasMessageContaining("listener bug");
    }
}
