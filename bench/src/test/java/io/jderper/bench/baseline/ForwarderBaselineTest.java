package io.jderper.bench.baseline;

import io.jderper.bench.LeakRecorder;
import io.jderper.bench.RelayPeer;
import io.jderper.core.key.NodePrivateKey;
import io.jderper.transport.client.DerpClientOptions;
import io.jderper.transport.client.DerpClients;
import io.jderper.transport.client.DerpTrust;
import io.netty.channel.EventLoopGroup;
import org.agrona.concurrent.UnsafeBuffer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.security.SecureRandom;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Optional;
import java.util.Random;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Our own DERP clients against the forwarder baseline: over TLS with and without fast start, and over plain HTTP,
 * with three clients so that packets travel both within one event loop and between the two.
 */
class ForwarderBaselineTest
{
    private static final SecureRandom RANDOM = new SecureRandom();
    private static final int SERVER_LOOPS = 2;

    private static EventLoopGroup group;
    private static DerpClients clients;

    static
    {
        LeakRecorder.install();
    }

    @TempDir
    Path certdir;

    @BeforeAll
    static void startClients()
    {
        group = DerpClients.newEventLoopGroup(2);
        clients = DerpClients.builder(group).build();
    }

    @AfterAll
    static void stopClientsAndCheckForLeaks() throws InterruptedException
    {
        group.shutdownGracefully(0, 1, TimeUnit.SECONDS).syncUninterruptibly();
        clients.close();
        assertThat(LeakRecorder.collect()).as("leaked buffers").isEmpty();
    }

    @Test
    void shouldRelayPacketsOverTlsWithFastStart() throws Exception
    {
        final NodePrivateKey serverKey = NodePrivateKey.generate(RANDOM);
        try (ForwarderBaseline.Tls tls = ForwarderBaseline.tls(certdir, "127.0.0.1", serverKey);
            ForwarderBaseline server = start(Optional.of(tls), serverKey))
        {
            final List<RelayPeer> peers = connect(server, "https", DerpTrust.sha256Raw(tls.certificate().sha256RawPin()),
                true);

            assertThat(peers).allSatisfy(peer ->
            {
                assertThat(peer.client.usedFastStart()).isTrue();
                assertThat(peer.client.serverPublicKey()).isEqualTo(serverKey.publicKey());
            });
            exchange(peers);
            peers.getFirst().pingAndAwaitPong();
        }
    }

    @Test
    void shouldRelayPacketsOverTlsAfterA101() throws Exception
    {
        final NodePrivateKey serverKey = NodePrivateKey.generate(RANDOM);
        try (ForwarderBaseline.Tls tls = ForwarderBaseline.tls(certdir, "127.0.0.1", serverKey);
            ForwarderBaseline server = start(Optional.of(tls), serverKey))
        {
            final List<RelayPeer> peers = connect(server, "https", DerpTrust.sha256Raw(tls.certificate().sha256RawPin()),
                false);

            assertThat(peers).allSatisfy(peer -> assertThat(peer.client.usedFastStart()).isFalse());
            exchange(peers);
        }
    }

    @Test
    void shouldRelayPacketsOverPlainHttpAndSkipUnknownDestinations() throws Exception
    {
        final NodePrivateKey serverKey = NodePrivateKey.generate(RANDOM);
        try (ForwarderBaseline server = start(Optional.empty(), serverKey))
        {
            final List<RelayPeer> peers = connect(server, "http", DerpTrust.system(), true);
            final RelayPeer a = peers.get(0);
            final RelayPeer b = peers.get(1);

            assertThat(a.client.serverPublicKey()).isEqualTo(serverKey.publicKey());
            assertThat(a.client.sendPacketAndFlush(NodePrivateKey.generate(RANDOM).publicKey(), new byte[]{1})).isTrue();
            assertThat(a.client.sendPacketAndFlush(b.client.publicKey(), new byte[]{2})).isTrue();
            final RelayPeer.Packet packet = b.nextPacket();
            assertThat(packet.source()).isEqualTo(a.client.publicKey());
            assertThat(packet.data()).containsExactly(2);
            exchange(peers);
            b.pingAndAwaitPong();
        }
    }

    @Test
    void shouldRefuseAnythingButTheDerpUpgrade() throws Exception
    {
        try (ForwarderBaseline server = start(Optional.empty(), NodePrivateKey.generate(RANDOM));
            Socket socket = new Socket())
        {
            socket.connect(server.address(), 5_000);
            socket.setSoTimeout(5_000);
            final OutputStream out = socket.getOutputStream();
            out.write("GET / HTTP/1.1\r\nHost: x\r\n\r\n".getBytes(StandardCharsets.US_ASCII));
            out.flush();
            final InputStream in = socket.getInputStream();
            final String response = new String(in.readAllBytes(), StandardCharsets.US_ASCII);

            assertThat(response).startsWith("HTTP/1.1 426 ");
        }
    }

    private static ForwarderBaseline start(final Optional<ForwarderBaseline.Tls> tls, final NodePrivateKey serverKey)
        throws InterruptedException
    {
        return ForwarderBaseline.start(new ForwarderBaseline.Settings(
            new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), tls.map(ForwarderBaseline.Tls::context),
            serverKey, SERVER_LOOPS));
    }

    /**
     * Three clients: the server's loops take connections in turn, so the first and third share a loop and the second
     * is on the other one.
     */
    private static List<RelayPeer> connect(final ForwarderBaseline server, final String scheme, final DerpTrust trust,
        final boolean fastStart) throws Exception
    {
        final URI url = URI.create(scheme + "://127.0.0.1:" + server.address().getPort() + "/derp");
        final List<RelayPeer> peers = new ArrayList<>();
        for (int i = 0; i < 3; i++)
        {
            final RelayPeer peer = new RelayPeer();
            peer.client = clients.connect(DerpClientOptions.builder(url, NodePrivateKey.generate(RANDOM))
                .trust(trust).fastStart(fastStart).build(), peer).get(RelayPeer.WAIT_SECONDS, TimeUnit.SECONDS);
            peers.add(peer);
        }
        // The server registers a key just after it sends ServerInfo: wait until all three are routable.
        final long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(RelayPeer.WAIT_SECONDS);
        while (server.connectedPeers() < peers.size() && System.nanoTime() < deadline)
        {
            Thread.sleep(10);
        }
        assertThat(server.connectedPeers()).isEqualTo(peers.size());
        return peers;
    }

    /**
     * Every client sends a burst to every other: sizes from empty to 64 KiB, so frames are cut by read boundaries
     * (the copying path) as well as whole in one read (the in-place path). Each receiver gets each sender's packets
     * in order and intact.
     */
    private static void exchange(final List<RelayPeer> peers) throws Exception
    {
        final Random random = new Random(42);
        final int perPair = 200;
        final List<List<byte[]>> sent = new ArrayList<>();
        for (final RelayPeer from : peers)
        {
            final List<byte[]> fromThis = new ArrayList<>();
            for (int i = 0; i < perPair; i++)
            {
                for (final RelayPeer to : peers)
                {
                    if (to == from)
                    {
                        continue;
                    }
                    final int length = 0 == i % 50 ? 65536 : random.nextInt(3000);
                    final byte[] data = new byte[length];
                    random.nextBytes(data);
                    fromThis.add(data);
                    final UnsafeBuffer key = new UnsafeBuffer(to.client.publicKey().toBytes());
                    assertThat(from.client.sendPacket(key, 0, new UnsafeBuffer(data), 0, length)).isTrue();
                }
                if (0 == i % 16)
                {
                    from.client.flush();
                }
            }
            from.client.flush();
            sent.add(fromThis);
        }
        for (int r = 0; r < peers.size(); r++)
        {
            final RelayPeer to = peers.get(r);
            final List<List<byte[]>> expected = new ArrayList<>();
            for (int s = 0; s < peers.size(); s++)
            {
                expected.add(new ArrayList<>());
            }
            for (int s = 0; s < peers.size(); s++)
            {
                final List<byte[]> fromS = sent.get(s);
                int index = 0;
                for (int i = 0; i < perPair; i++)
                {
                    for (int t = 0; t < peers.size(); t++)
                    {
                        if (t == s)
                        {
                            continue;
                        }
                        if (t == r)
                        {
                            expected.get(s).add(fromS.get(index));
                        }
                        index++;
                    }
                }
            }
            final int[] seen = new int[peers.size()];
            for (int n = 0; n < (peers.size() - 1) * perPair; n++)
            {
                final RelayPeer.Packet packet = to.nextPacket();
                final int s = RelayPeer.indexOf(peers, packet.source());
                assertThat(s).as("sender").isNotNegative().isNotEqualTo(r);
                final byte[] want = expected.get(s).get(seen[s]++);
                assertThat(Arrays.equals(packet.data(), want)).as("packet %d from %d to %d", seen[s] - 1, s, r)
                    .isTrue();
            }
        }
    }
}
