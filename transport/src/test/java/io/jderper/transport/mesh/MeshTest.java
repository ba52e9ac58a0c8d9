package io.jderper.transport.mesh;

import static org.assertj.core.api.Assertions.assertThat;

import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.URI;
import java.nio.file.Path;
import java.security.SecureRandom;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.function.BooleanSupplier;

import io.jderper.core.admission.AdmissionPolicy;
import io.jderper.core.handshake.ServerHandshake;
import io.jderper.core.key.NodePrivateKey;
import io.jderper.core.key.NodePublicKey;
import io.jderper.core.protocol.PeerGoneReason;
import io.jderper.core.protocol.Violation;
import io.jderper.core.router.RelayConfig;
import io.jderper.core.router.RelayMetrics;
import io.jderper.core.router.Router;
import io.jderper.tls.ManualCertificates;
import io.jderper.tls.MetaCertificate;
import io.jderper.tls.ServerTlsContexts;
import io.jderper.tls.TlsProvider;
import io.jderper.transport.RelayServer;
import io.jderper.transport.client.DerpClient;
import io.jderper.transport.client.DerpClientOptions;
import io.jderper.transport.client.DerpClients;
import io.jderper.transport.client.DerpTrust;
import io.jderper.transport.client.Recorder;
import io.netty.buffer.ByteBuf;
import io.netty.channel.EventLoopGroup;
import io.netty.handler.ssl.SslContext;
import io.netty.util.ReferenceCountUtil;
import org.agrona.concurrent.UnsafeBuffer;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Nodes of one region meshed over real TLS connections on loopback, each checking the others' certificates against
 * a test CA (spec §4.7): packets cross nodes both ways, a dead node's keys get PeerGone, a restarted node is
 * dialled again, and a wrong mesh key gets no privilege.
 */
class MeshTest
{
    private static final Duration DEADLINE = Duration.ofSeconds(20);

    @TempDir
    Path dir;

    private final SecureRandom random = new SecureRandom();
    private final byte[] meshKey = new byte[32];
    private final List<AutoCloseable> open = new ArrayList<>();
    private TestCa ca;
    private EventLoopGroup clientGroup;
    private DerpClients clients;

    @BeforeEach
    void setUp() throws Exception
    {
        random.nextBytes(meshKey);
        meshKey[0] |= 1;
        ca = TestCa.create(dir);
        clientGroup = DerpClients.newEventLoopGroup(1);
        clients = DerpClients.builder(clientGroup).build();
    }

    @AfterEach
    void tearDown() throws Exception
    {
        for (final AutoCloseable each : open.reversed())
        {
            each.close();
        }
        clients.close();
        clientGroup.shutdownGracefully(0, 1, java.util.concurrent.TimeUnit.SECONDS).syncUninterruptibly();
    }

    @Test
    void shouldRelayBetweenTwoNodesBothWaysSendPeerGoneWhenOneDiesAndRedialItWhenItReturns() throws Exception
    {
        final Node east = node(0, NodePrivateKey.generate(random), meshKey);
        final Node west = node(0, NodePrivateKey.generate(random), meshKey);
        east.meshWith(east, west);
        west.meshWith(east, west);
        final Client a = connect(east);
        final Client b = connect(west);
        awaitRoute(east, b);
        awaitRoute(west, a);

        a.send(b, "east to west");
        b.expectPacket(a, "east to west");
        b.send(a, "west to east");
        a.expectPacket(b, "west to east");
        assertThat(east.metrics.packetsForwardedOut.sum()).isEqualTo(1);
        assertThat(east.metrics.packetsForwardedIn.sum()).isEqualTo(1);
        await("each node to see its own entry as itself", () ->
            east.mesh().peers().getFirst().isSelf() && west.mesh().peers().get(1).isSelf());

        west.close();
        final Recorder.PeerGone gone = Recorder.next(a.recorder.peerGone);
        assertThat(gone.key()).isEqualTo(b.key);
        assertThat(gone.reason()).isEqualTo(PeerGoneReason.DISCONNECTED);
        await("east to drop its routes through west", () -> 0 == east.metrics.remoteKeys.get());

        final Node westAgain = node(west.port(), west.key, meshKey);
        westAgain.meshWith(east, westAgain);
        final Client c = connect(westAgain);
        awaitRoute(east, c);
        awaitRoute(westAgain, a);
        a.send(c, "after the restart");
        c.expectPacket(a, "after the restart");
        c.send(a, "and back");
        a.expectPacket(c, "and back");
    }

    @Test
    void shouldRelayBetweenEveryPairOfThreeNodesInFullMesh() throws Exception
    {
        final List<Node> nodes = List.of(node(0, NodePrivateKey.generate(random), meshKey),
            node(0, NodePrivateKey.generate(random), meshKey), node(0, NodePrivateKey.generate(random), meshKey));
        for (final Node each : nodes)
        {
            // Named by an address nothing listens on, reached through the dial host (derper's host/dialhost).
            each.meshWith(nodes.stream().map(peer -> MeshPeerAddress.parse(
                TestCa.DIAL_TEST_ADDRESS + ":" + peer.port() + "/127.0.0.1")).toList());
        }
        final List<Client> clientsOnNodes = new ArrayList<>();
        for (final Node each : nodes)
        {
            clientsOnNodes.add(connect(each));
        }
        for (final Node each : nodes)
        {
            for (final Client client : clientsOnNodes)
            {
                if (client.node != each)
                {
                    awaitRoute(each, client);
                }
            }
        }
        for (final Client from : clientsOnNodes)
        {
            for (final Client to : clientsOnNodes)
            {
                if (from != to)
                {
                    final String text = "from " + from.key.toShortString() + " to " + to.key.toShortString();
                    from.send(to, text);
                    to.expectPacket(from, text);
                }
            }
        }
        assertThat(nodes).allSatisfy(each -> assertThat(each.metrics.packetsForwardedIn.sum()).isEqualTo(2));
    }

    @Test
    void shouldGiveNoPrivilegeToAPeerWithAnotherMeshKey() throws Exception
    {
        final byte[] otherKey = meshKey.clone();
        otherKey[31] ^= 1;
        final Node honest = node(0, NodePrivateKey.generate(random), meshKey);
        final Node stranger = node(0, NodePrivateKey.generate(random), otherKey);
        stranger.meshWith(honest);
        final Client onHonest = connect(honest);

        await("the stranger's WatchConns to be refused", () ->
            honest.metrics.violations(Violation.NOT_PRIVILEGED) >= 1);
        assertThat(honest.metrics.watchers.get()).isZero();
        assertThat(stranger.router.lookupForwarder(new UnsafeBuffer(onHonest.key.toBytes()), 0)).isNull();
        assertThat(stranger.metrics.remoteKeys.get()).isZero();
    }

    private void awaitRoute(final Node node, final Client client)
    {
        await(node + " to route " + client.key.toShortString() + " through the mesh", () ->
            null != node.router.lookupForwarder(new UnsafeBuffer(client.key.toBytes()), 0));
    }

    private static void await(final String what, final BooleanSupplier condition)
    {
        final long deadline = System.nanoTime() + DEADLINE.toNanos();
        while (!condition.getAsBoolean())
        {
            if (System.nanoTime() - deadline > 0)
            {
                throw new AssertionError("timed out after " + DEADLINE + " waiting for " + what);
            }
            Thread.onSpinWait();
            Thread.yield();
        }
    }

    private Node node(final int port, final NodePrivateKey key, final byte[] mesh) throws Exception
    {
        final Node node = new Node(port, key, mesh);
        open.add(node);
        return node;
    }

    private Client connect(final Node node) throws Exception
    {
        final NodePrivateKey key = NodePrivateKey.generate(random);
        final Recorder recorder = new Recorder();
        final DerpClient client = clients.connect(DerpClientOptions.builder(
                URI.create("https://127.0.0.1:" + node.port() + "/derp"), key).trust(DerpTrust.caFile(ca.caFile))
            .build(), recorder).get(DEADLINE.toSeconds(), java.util.concurrent.TimeUnit.SECONDS);
        open.add(client::close);
        return new Client(node, key.publicKey(), client, recorder);
    }

    private record Client(Node node, NodePublicKey key, DerpClient client, Recorder recorder)
    {
        void send(final Client to, final String text)
        {
            final byte[] data = text.getBytes(java.nio.charset.StandardCharsets.UTF_8);
            client.eventLoop().execute(() -> client.sendPacketAndFlush(to.key, data));
        }

        void expectPacket(final Client from, final String text) throws InterruptedException
        {
            final Recorder.Packet packet = Recorder.next(recorder.packets);
            assertThat(packet.source()).isEqualTo(from.key);
            assertThat(new String(packet.data(), java.nio.charset.StandardCharsets.UTF_8)).isEqualTo(text);
        }
    }

    /** One relay node: a TLS listener on loopback with the CA's certificate, its router and its mesh. */
    private final class Node implements AutoCloseable
    {
        final NodePrivateKey key;
        final byte[] mesh;
        final RelayMetrics metrics = new RelayMetrics();
        final Router<ByteBuf> router;
        final RelayServer server;
        final SslContext tls;
        Mesh meshLinks;
        boolean closed;
        Mesh mesh()
        {
            return meshLinks;
        }

        Node(final int port, final NodePrivateKey key, final byte[] mesh) throws Exception
        {
            this.key = key;
            this.mesh = mesh;
            tls = ServerTlsContexts.create(TlsProvider.detect(),
                ManualCertificates.store(ManualCertificates.load(ca.certDir, "127.0.0.1"), "127.0.0.1"),
                MetaCertificate.create(key.publicKey().toHex()));
            final ServerHandshake handshake = new ServerHandshake(key, Optional.of(mesh), random);
            router = new Router<>(handshake, AdmissionPolicy.ADMIT_ALL, RelayConfig.defaults(2_000), metrics);
            server = RelayServer.start(new RelayServer.Settings(
                new InetSocketAddress(InetAddress.getLoopbackAddress(), port), Optional.of(tls), -1, handshake, router,
                1));
        }

        int port()
        {
            return server.mainAddress().getPort();
        }

        void meshWith(final Node... peers)
        {
            final List<MeshPeerAddress> addresses = new ArrayList<>();
            for (final Node peer : peers)
            {
                addresses.add(MeshPeerAddress.parse("127.0.0.1:" + peer.port()));
            }
            meshWith(addresses);
        }

        void meshWith(final List<MeshPeerAddress> addresses)
        {
            meshLinks = Mesh.start(addresses, key, mesh, DerpTrust.caFile(ca.caFile), TlsProvider.detect(), router);
        }

        @Override
        public void close()
        {
            if (closed)
            {
                return;
            }
            closed = true;
            if (null != meshLinks)
            {
                meshLinks.close();
                meshLinks = null;
            }
            server.close();
            ReferenceCountUtil.release(tls);
        }

        @Override
        public String toString()
        {
            return "node :" + port();
        }
    }
}
