package io.jderper.transport.client;

import io.jderper.core.key.NodePrivateKey;
import io.jderper.core.protocol.PeerGoneReason;
import io.jderper.tls.ManualCertificates;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.EventLoopGroup;
import org.agrona.concurrent.UnsafeBuffer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.URI;
import java.nio.file.Path;
import java.security.SecureRandom;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * The client against a real jderper relay over TLS on loopback: trust modes, both handshake paths, packets, Ping,
 * PeerGone, local binding and closing.
 */
class DerpClientTest
{
    private static final SecureRandom RANDOM = new SecureRandom();

    @TempDir
    static Path certdir;
    @TempDir
    static Path otherCertdir;
    private static ClientTestRelay relay;
    private static EventLoopGroup group;
    private static DerpClients clients;
    private final List<DerpClient> opened = new ArrayList<>();

    @BeforeAll
    static void start() throws Exception
    {
        relay = ClientTestRelay.tls(certdir);
        group = DerpClients.newEventLoopGroup(2);
        clients = DerpClients.builder(group).build();
    }

    @AfterAll
    static void stop()
    {
        relay.close();
        group.shutdownGracefully(0, 1, TimeUnit.SECONDS).syncUninterruptibly();
        clients.close();
    }

    @AfterEach
    void closeClients()
    {
        opened.forEach(DerpClient::close);
    }

    private DerpClientOptions.Builder options()
    {
        return DerpClientOptions.builder(relay.url(), NodePrivateKey.generate(RANDOM)).trust(relay.pin());
    }

    private DerpClient open(final DerpClientOptions options, final Recorder recorder)
    {
        final DerpClient client = clients.open(options, recorder);
        opened.add(client);
        return client;
    }

    private DerpClient connected(final DerpClientOptions options, final Recorder recorder) throws Exception
    {
        return open(options, recorder).ready().get(Recorder.WAIT_SECONDS, TimeUnit.SECONDS);
    }

    private static Throwable failureOf(final DerpClient client) throws Exception
    {
        try
        {
            client.ready().get(Recorder.WAIT_SECONDS, TimeUnit.SECONDS);
        }
        catch (final ExecutionException ex)
        {
            return ex.getCause();
        }
        throw new AssertionError("handshake succeeded but should have failed");
    }

    @Test
    void shouldConnectWithTheRightPinUsingFastStart() throws Exception
    {
        final Recorder recorder = new Recorder();
        final DerpClient client = connected(options().build(), recorder);

        assertThat(client.isReady()).isTrue();
        assertThat(client.usedFastStart()).as("meta certificate over TLS 1.3 means fast start").isTrue();
        assertThat(client.serverPublicKey()).isEqualTo(relay.publicKey());
        assertThat(client.serverInfo()).isEqualTo("{\"version\":2}");
        // The ServerKey frame that follows in fast start was skipped, not taken for a packet or an error.
        assertThat(client.ping(42)).isTrue();
        assertThat(Recorder.next(recorder.pongs)).isEqualTo(42L);
        assertThat(recorder.packets).isEmpty();
    }

    @Test
    void shouldRejectAWrongPinWithAClearMessage() throws Exception
    {
        final Recorder recorder = new Recorder();
        final DerpClient client = open(options()
            .trust(DerpTrust.sha256Raw("sha256-raw:" + "00".repeat(32))).build(), recorder);

        final Throwable failure = failureOf(client);
        assertThat(failure).isInstanceOf(DerpClientException.class)
            .hasMessageContaining("TLS handshake with 127.0.0.1")
            .hasMessageContaining("cert hash does not match expected cert hash");
        assertThat(recorder.awaitClosed()).isSameAs(failure);
        assertThat(client.sendPacketAndFlush(relay.publicKey(), new byte[1])).isFalse();
    }

    @Test
    void shouldUseThe101PathWhenFastStartIsDisabled() throws Exception
    {
        final DerpClient client = connected(options().fastStart(false).build(), new Recorder());

        assertThat(client.usedFastStart()).isFalse();
        assertThat(client.serverPublicKey()).isEqualTo(relay.publicKey());
        assertThat(client.serverInfo()).isEqualTo("{\"version\":2}");
    }

    @Test
    void shouldExchangePacketsBothWaysWithExactBytesAndSourceKey() throws Exception
    {
        final Recorder recorderA = new Recorder();
        final Recorder recorderB = new Recorder();
        final DerpClient a = connected(options().build(), recorderA);
        final DerpClient b = connected(options().fastStart(false).build(), recorderB);

        final byte[] toB = "hello from a".getBytes();
        final byte[] toA = new byte[1200];
        RANDOM.nextBytes(toA);
        assertThat(a.sendPacketAndFlush(b.publicKey(), toB)).isTrue();
        final Recorder.Packet atB = Recorder.next(recorderB.packets);
        assertThat(atB.source()).isEqualTo(a.publicKey());
        assertThat(atB.data()).isEqualTo(toB);

        // The zero-copy variants: key and data from Agrona and Netty buffers, explicit flush.
        final UnsafeBuffer keyOfA = new UnsafeBuffer(new byte[40]);
        keyOfA.putBytes(8, a.publicKey().toBytes());
        final ByteBuf data = Unpooled.directBuffer(toA.length + 3).writeZero(3).writeBytes(toA);
        try
        {
            assertThat(b.sendPacket(keyOfA, 8, data, 3, toA.length)).isTrue();
            b.flush();
        }
        finally
        {
            data.release();
        }
        final Recorder.Packet atA = Recorder.next(recorderA.packets);
        assertThat(atA.source()).isEqualTo(b.publicKey());
        assertThat(atA.data()).isEqualTo(toA);
    }

    @Test
    void shouldRelayEmptyAndMaximumSizePackets() throws Exception
    {
        final Recorder recorderB = new Recorder();
        final DerpClient a = connected(options().build(), new Recorder());
        final DerpClient b = connected(options().build(), recorderB);
        final byte[] largest = new byte[65536];
        RANDOM.nextBytes(largest);

        final UnsafeBuffer key = new UnsafeBuffer(b.publicKey().toBytes());
        assertThat(a.sendPacket(key, 0, new UnsafeBuffer(new byte[0]), 0, 0)).isTrue();
        assertThat(a.sendPacket(key, 0, new UnsafeBuffer(largest), 0, largest.length)).isTrue();
        assertThat(a.sendPacket(key, 0, new UnsafeBuffer(new byte[0]), 0, 0)).isTrue();
        a.flush();

        assertThat(Recorder.next(recorderB.packets).data()).isEmpty();
        final Recorder.Packet big = Recorder.next(recorderB.packets);
        assertThat(big.source()).isEqualTo(a.publicKey());
        assertThat(big.data()).isEqualTo(largest);
        assertThat(Recorder.next(recorderB.packets).data()).isEmpty();
        assertThatThrownBy(() -> a.sendPacket(key, 0, new UnsafeBuffer(new byte[65537]), 0, 65537))
            .isInstanceOf(IllegalArgumentException.class)
            .hasMessageContaining("dataLength=65537");
    }

    @Test
    void shouldAnswerPingWithTheMatchingPong() throws Exception
    {
        final Recorder recorder = new Recorder();
        final DerpClient client = connected(options().fastStart(false).build(), recorder);

        // One at a time: like derper, the server keeps one Pong slot and ignores a Ping that finds it full.
        assertThat(client.ping(0x0102030405060708L)).isTrue();
        assertThat(Recorder.next(recorder.pongs)).isEqualTo(0x0102030405060708L);
        assertThat(client.ping(-1L)).isTrue();
        assertThat(Recorder.next(recorder.pongs)).isEqualTo(-1L);
    }

    @Test
    void shouldReportPeerGoneWhenTheSenderCloses() throws Exception
    {
        final Recorder recorderB = new Recorder();
        final Recorder recorderA = new Recorder();
        final DerpClient a = connected(options().build(), recorderA);
        final DerpClient b = connected(options().build(), recorderB);
        assertThat(a.sendPacketAndFlush(b.publicKey(), new byte[]{1, 2, 3})).isTrue();
        assertThat(Recorder.next(recorderB.packets).source()).isEqualTo(a.publicKey());

        a.close();

        final Recorder.PeerGone gone = Recorder.next(recorderB.peerGone);
        assertThat(gone.key()).isEqualTo(a.publicKey());
        assertThat(gone.reason()).isEqualTo(PeerGoneReason.DISCONNECTED);
        assertThat(recorderA.awaitClosed()).as("a local close reports no cause").isSameAs(Recorder.CLEAN);
        assertThat(recorderA.closedCalls).hasValue(1);
        assertThat(a.isReady()).isFalse();
        assertThat(a.sendPacketAndFlush(b.publicKey(), new byte[1])).isFalse();
        assertThat(a.ping(1)).isFalse();
    }

    @Test
    void shouldTrustAPemCaFileThatHoldsTheServerCertificate() throws Exception
    {
        final DerpClient client = connected(options().trust(DerpTrust.caFile(relay.certificateFile)).build(),
            new Recorder());

        assertThat(client.isReady()).isTrue();
        assertThat(client.usedFastStart()).isTrue();
    }

    @Test
    void shouldRejectACertificateTheCaFileDoesNotCover() throws Exception
    {
        ManualCertificates.load(otherCertdir, ClientTestRelay.HOST);
        final Path otherCa = otherCertdir.resolve(relay.certificateFile.getFileName());

        final Throwable failure = failureOf(open(options().trust(DerpTrust.caFile(otherCa)).build(), new Recorder()));

        assertThat(failure).isInstanceOf(DerpClientException.class).hasMessageContaining("TLS handshake with");
    }

    @Test
    void shouldRejectASelfSignedCertificateUnderSystemTrust() throws Exception
    {
        final Throwable failure = failureOf(open(options().trust(DerpTrust.system()).build(), new Recorder()));

        assertThat(failure).isInstanceOf(DerpClientException.class).hasMessageContaining("TLS handshake with");
    }

    @Test
    void shouldCheckTheHostNameUnderEveryTrust() throws Exception
    {
        // "localhost" is resolved off the loop and reaches the relay, whose certificate names only 127.0.0.1.
        final URI byName = URI.create("https://localhost:" + relay.server.mainAddress().getPort() + "/derp");

        final Throwable pinned = failureOf(open(DerpClientOptions.builder(byName, NodePrivateKey.generate(RANDOM))
            .trust(relay.pin()).build(), new Recorder()));
        final Throwable fromCaFile = failureOf(open(DerpClientOptions.builder(byName, NodePrivateKey.generate(RANDOM))
            .trust(DerpTrust.caFile(relay.certificateFile)).build(), new Recorder()));

        assertThat(pinned).isInstanceOf(DerpClientException.class)
            .hasMessageContaining("TLS handshake with localhost:")
            .hasMessageContaining("cert does not match server name \"localhost\"");
        assertThat(fromCaFile).isInstanceOf(DerpClientException.class)
            .hasMessageContaining("TLS handshake with localhost:")
            .hasMessageContaining("No name matching localhost found");
    }

    @Test
    void shouldFailClearlyWhenTheCaFileIsMissing() throws Exception
    {
        final Throwable failure = failureOf(open(options()
            .trust(DerpTrust.caFile(certdir.resolve("missing.pem"))).build(), new Recorder()));

        assertThat(failure).isInstanceOf(DerpClientException.class)
            .hasMessageContaining("cannot set up TLS")
            .hasMessageContaining("missing.pem");
    }

    @Test
    void shouldConnectFromTheGivenLocalAddress() throws Exception
    {
        final InetAddress source = InetAddress.getByName("127.0.0.2");
        // All of 127/8 is local on Linux; elsewhere (macOS) only 127.0.0.1 may be configured.
        assumeTrue(canBind(source), "127.0.0.2 is not a local address here");
        final DerpClient client = connected(options().localAddress(source).build(), new Recorder());

        assertThat(client.localAddress().getAddress()).isEqualTo(source);
    }

    private static boolean canBind(final InetAddress address)
    {
        try (ServerSocket socket = new ServerSocket(0, 1, address))
        {
            return socket.isBound();
        }
        catch (final IOException ex)
        {
            return false;
        }
    }

    @Test
    void shouldFailClearlyWhenNothingListens() throws Exception
    {
        final int port;
        try (ServerSocket socket = new ServerSocket(0, 1, InetAddress.getLoopbackAddress()))
        {
            port = socket.getLocalPort();
        }
        final Recorder recorder = new Recorder();
        final DerpClient client = open(DerpClientOptions.builder(URI.create("https://127.0.0.1:" + port + "/derp"),
            NodePrivateKey.generate(RANDOM)).trust(relay.pin()).build(), recorder);

        assertThat(failureOf(client)).isInstanceOf(DerpClientException.class)
            .hasMessageContaining("cannot connect to https://127.0.0.1:" + port);
        assertThat(recorder.awaitClosed()).isInstanceOf(DerpClientException.class);
        assertThat(recorder.closedCalls).hasValue(1);
    }

    @Test
    void shouldNeverBecomeReadyOnceClosedWhicheverStepTheCloseMeets() throws Exception
    {
        // close() lands at a different step each time (before the connect, during TCP, TLS or the DERP handshake):
        // the handshake must not complete after it, and the close must be reported as requested, not as a failure.
        for (int i = 0; i < 100; i++)
        {
            final Recorder recorder = new Recorder();
            final DerpClient client = open(options().build(), recorder);
            final long closeAtNs = System.nanoTime() + (i % 50) * 40_000L;
            while (System.nanoTime() - closeAtNs < 0)
            {
                Thread.onSpinWait();
            }
            final boolean readyBeforeClose = client.ready().isDone();
            client.close();

            assertThat(recorder.awaitClosed()).as("iteration %d", i).isSameAs(Recorder.CLEAN);
            if (!readyBeforeClose)
            {
                assertThat(failureOf(client)).as("iteration %d", i).isInstanceOf(DerpClientException.class)
                    .hasMessageStartingWith("closed by close() before the handshake with");
            }
            assertThat(recorder.closedCalls).hasValue(1);
        }
    }

    @Test
    void shouldWatchConnectionsAndClosePeersWithTheMeshKey(@TempDir final Path meshCertdir) throws Exception
    {
        final byte[] meshKey = new byte[32];
        RANDOM.nextBytes(meshKey);
        try (ClientTestRelay meshRelay = ClientTestRelay.tlsWithMeshKey(meshCertdir, meshKey))
        {
            final Recorder watcherEvents = new Recorder();
            final DerpClient watcher = connected(DerpClientOptions.builder(meshRelay.url(),
                NodePrivateKey.generate(RANDOM)).trust(meshRelay.pin()).meshKey(meshKey).build(), watcherEvents);
            assertThat(watcher.watchConns()).isTrue();
            // The watcher is told about itself first; skip that.
            assertThat(Recorder.next(watcherEvents.peerPresent).key()).isEqualTo(watcher.publicKey());

            final Recorder peerEvents = new Recorder();
            final DerpClient peer = connected(DerpClientOptions.builder(meshRelay.url(),
                NodePrivateKey.generate(RANDOM)).trust(meshRelay.pin()).build(), peerEvents);
            final Recorder.PeerPresent present = Recorder.next(watcherEvents.peerPresent);
            assertThat(present.key()).isEqualTo(peer.publicKey());
            assertThat(present.port()).isEqualTo(peer.localAddress().getPort());
            assertThat(present.ip16()).endsWith(127, 0, 0, 1);
            assertThat(present.flags()).isEqualTo((byte)0x01);

            assertThat(watcher.closePeer(peer.publicKey())).isTrue();

            assertThat(peerEvents.awaitClosed()).isInstanceOf(DerpClientException.class)
                .hasMessageContaining("closed by the server");
            final Recorder.PeerGone gone = Recorder.next(watcherEvents.peerGone);
            assertThat(gone.key()).isEqualTo(peer.publicKey());
            watcher.close();
            assertThat(watcherEvents.awaitClosed()).isSameAs(Recorder.CLEAN);
        }
    }

    @Test
    void shouldSendNotePreferredWithoutUpsettingTheServer() throws Exception
    {
        final Recorder recorder = new Recorder();
        final DerpClient client = connected(options().build(), recorder);

        assertThat(client.notePreferred(true)).isTrue();
        assertThat(client.ping(7)).isTrue();
        assertThat(Recorder.next(recorder.pongs)).as("still connected after NotePreferred").isEqualTo(7L);
    }
}
