package io.jderper.bench.vthreads;

import io.jderper.bench.LeakRecorder;
import io.jderper.bench.RelayPeer;
import io.jderper.bench.baseline.ForwarderBaseline;
import io.jderper.core.key.NodePrivateKey;
import io.jderper.tls.TlsProvider;
import io.jderper.transport.client.DerpClientOptions;
import io.jderper.transport.client.DerpClients;
import io.jderper.transport.client.DerpTrust;
import io.netty.channel.EventLoopGroup;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

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
import java.util.List;
import java.util.Optional;
import java.util.Random;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Our own DERP clients against the virtual-thread relay, on each TLS provider jderper offers and over plain HTTP,
 * with three clients on two shards so that packets travel within a shard and between the two.
 */
class VirtualThreadRelayTest
{
    private static final SecureRandom RANDOM = new SecureRandom();
    private static final int SHARDS = 2;

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

    @ParameterizedTest
    @ValueSource(strings = {"openssl", "conscrypt", "jdk"})
    void shouldRelayPacketsOfEverySizeOverTls(final String provider) throws Exception
    {
        final NodePrivateKey serverKey = NodePrivateKey.generate(RANDOM);
        try (ForwarderBaseline.Tls tls = ForwarderBaseline.tls(certdir, "127.0.0.1", serverKey,
            TlsProvider.named(provider));
            VirtualThreadRelay server = start(Optional.of(tls), serverKey))
        {
            final DerpTrust trust = DerpTrust.sha256Raw(tls.certificate().sha256RawPin());
            final List<RelayPeer> peers = connect(server, "https", trust, true);
            peers.addAll(connect(server, "https", trust, false));

            assertThat(peers).allSatisfy(peer ->
                assertThat(peer.client.serverPublicKey()).isEqualTo(serverKey.publicKey()));
            exchange(peers);
            peers.getFirst().pingAndAwaitPong();
        }
    }

    @Test
    void shouldRelayOverPlainHttpAndTellASenderThatItsPeerWentAway() throws Exception
    {
        final NodePrivateKey serverKey = NodePrivateKey.generate(RANDOM);
        try (VirtualThreadRelay server = start(Optional.empty(), serverKey))
        {
            final List<RelayPeer> peers = connect(server, "http", DerpTrust.system(), true);
            final RelayPeer a = peers.get(0);
            final RelayPeer b = peers.get(1);
            exchange(peers);
            assertThat(a.client.sendPacketAndFlush(b.client.publicKey(), new byte[]{7})).isTrue();
            assertThat(b.nextPacket().data()).containsExactly(7);

            b.client.close();

            assertThat(a.peerGone.get(RelayPeer.WAIT_SECONDS, TimeUnit.SECONDS)).isEqualTo(b.client.publicKey());
        }
    }

    @Test
    void shouldAnswerOtherRequestsWithAnErrorAndClose() throws Exception
    {
        try (VirtualThreadRelay server = start(Optional.empty(), NodePrivateKey.generate(RANDOM)))
        {
            assertThat(request(server, "GET / HTTP/1.1\r\nHost: x\r\n\r\n")).startsWith("HTTP/1.1 404 ");
            assertThat(request(server, "GET /derp HTTP/1.1\r\nHost: x\r\n\r\n")).startsWith("HTTP/1.1 426 ");
        }
    }

    private static String request(final VirtualThreadRelay server, final String request) throws Exception
    {
        try (Socket socket = new Socket())
        {
            socket.connect(server.address(), 5_000);
            socket.setSoTimeout(5_000);
            final OutputStream out = socket.getOutputStream();
            out.write(request.getBytes(StandardCharsets.US_ASCII));
            out.flush();
            final InputStream in = socket.getInputStream();
            return new String(in.readAllBytes(), StandardCharsets.US_ASCII);
        }
    }

    private static VirtualThreadRelay start(final Optional<ForwarderBaseline.Tls> tls, final NodePrivateKey serverKey)
        throws Exception
    {
        return VirtualThreadRelay.start(new VirtualThreadRelay.Settings(
            new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), tls.map(ForwarderBaseline.Tls::context),
            serverKey, SHARDS));
    }

    /**
     * Three clients: shards take connections in turn, so the first and third share one and the second is on the
     * other.
     */
    private static List<RelayPeer> connect(final VirtualThreadRelay server, final String scheme, final DerpTrust trust,
        final boolean fastStart) throws Exception
    {
        final URI url = URI.create(scheme + "://127.0.0.1:" + server.address().getPort() + "/derp");
        final int registeredBefore = server.connectedPeers();
        final List<RelayPeer> peers = new ArrayList<>();
        for (int i = 0; i < 3; i++)
        {
            final RelayPeer peer = new RelayPeer();
            peer.client = clients.connect(DerpClientOptions.builder(url, NodePrivateKey.generate(RANDOM))
                .trust(trust).fastStart(fastStart).build(), peer).get(RelayPeer.WAIT_SECONDS, TimeUnit.SECONDS);
            // Fast start needs the meta certificate: over plain HTTP the client always waits for the 101.
            assertThat(peer.client.usedFastStart()).isEqualTo(fastStart && "https".equals(scheme));
            peers.add(peer);
        }
        // A key becomes routable just after its ServerInfo is written: wait until these three are (polled, bounded).
        final int wanted = registeredBefore + peers.size();
        final long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(RelayPeer.WAIT_SECONDS);
        while (server.connectedPeers() < wanted && System.nanoTime() < deadline)
        {
            LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(1));
        }
        assertThat(server.connectedPeers()).isEqualTo(wanted);
        return peers;
    }

    /**
     * Rounds in which every client sends one packet to every other and then waits for its own: sizes from empty to
     * the largest packet, so frames span several TLS records and reads. Each arrives intact, from the right sender.
     */
    private static void exchange(final List<RelayPeer> peers) throws Exception
    {
        final Random random = new Random(42);
        for (int round = 0; round < 40; round++)
        {
            final List<List<byte[]>> expected = new ArrayList<>();
            for (final RelayPeer ignored : peers)
            {
                expected.add(new ArrayList<>());
            }
            for (final RelayPeer from : peers)
            {
                for (int t = 0; t < peers.size(); t++)
                {
                    final RelayPeer to = peers.get(t);
                    if (to == from)
                    {
                        continue;
                    }
                    final int length = 0 == round % 10 ? 65536 : 1 == round % 10 ? 0 : random.nextInt(3000);
                    final byte[] data = new byte[length];
                    random.nextBytes(data);
                    expected.get(t).add(data);
                    assertThat(from.client.sendPacketAndFlush(to.client.publicKey(), data)).isTrue();
                }
            }
            for (int r = 0; r < peers.size(); r++)
            {
                final RelayPeer to = peers.get(r);
                final List<byte[]> want = expected.get(r);
                for (int n = 0; n < want.size(); n++)
                {
                    final RelayPeer.Packet packet = to.nextPacket();
                    assertThat(RelayPeer.indexOf(peers, packet.source())).as("sender").isNotNegative().isNotEqualTo(r);
                    assertThat(want).as("round %d, receiver %d", round, r)
                        .anySatisfy(bytes -> assertThat(packet.data()).isEqualTo(bytes));
                }
            }
        }
    }
}
