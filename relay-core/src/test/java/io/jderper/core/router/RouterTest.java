package io.jderper.core.router;

import static io.jderper.core.router.RelayHarness.data;
import static io.jderper.core.router.RelayHarness.disco;
import static org.assertj.core.api.Assertions.assertThat;

import java.net.InetSocketAddress;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.List;

import io.jderper.core.key.NodePrivateKey;
import io.jderper.core.protocol.FrameType;
import org.agrona.concurrent.UnsafeBuffer;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

class RouterTest
{
    private final RelayHarness harness = new RelayHarness();
    private final RelayHarness.Loop loop = harness.newLoop();

    @AfterEach
    void shouldLeakNoFrame()
    {
        harness.shutdownAndAssertNoLeak();
    }

    private static byte[] peerGone(final byte[] key, final int reason)
    {
        final byte[] frame = new byte[38];
        System.arraycopy(HexFormat.of().parseHex("0800000021"), 0, frame, 0, 5);
        System.arraycopy(key, 0, frame, 5, 32);
        frame[37] = (byte)reason;
        return frame;
    }

    private static List<byte[]> peerGones(final RelayHarness.Client client)
    {
        return client.channel.controls(FrameType.PEER_GONE);
    }

    @Test
    void shouldDeliverAPacketOnTheSameLoopWithTheSendersKeyAfterFlush()
    {
        final RelayHarness.Client a = loop.connect();
        final RelayHarness.Client b = loop.connect();
        final byte[] packet = data(100, 7);

        final TestFrame frame = a.send(b, packet);

        assertThat(frame).isNotNull();
        assertThat(frame.destinationId).isEqualTo(b.session.connectionId());
        assertThat(b.channel.writesSinceFlush).as("written at once, flushed only when the batch ends").isEqualTo(1);

        loop.relay.flushDirty();

        assertThat(b.channel.packets).containsExactly(frame);
        assertThat(frame.sourceKey).isEqualTo(a.publicKey());
        assertThat(frame.data()).isEqualTo(packet);
        assertThat(frame.disco).isFalse();
        assertThat(b.channel.flushes).isGreaterThanOrEqualTo(2);
        assertThat(b.channel.writesSinceFlush).as("flushed after the write").isZero();
        assertThat(a.channel.packets).isEmpty();
        assertThat(harness.metrics.packetsReceived.sum()).isEqualTo(1);
        assertThat(harness.metrics.bytesReceived.sum()).isEqualTo(100);
        assertThat(harness.metrics.packetsSent.sum()).isEqualTo(1);
        assertThat(harness.metrics.bytesSent.sum()).isEqualTo(100);
        assertThat(harness.metrics.packetsReceivedKind[RelayMetrics.KIND_OTHER].sum()).isEqualTo(1);
    }

    @Test
    void shouldDeliverABurstLargerThanTheQueueToAWritableClient()
    {
        final RelayHarness.Client a = loop.connect();
        final RelayHarness.Client b = loop.connect();

        for (int i = 0; i < 100; i++)
        {
            a.send(b, data(1200, i));
        }
        loop.relay.flushDirty();

        assertThat(b.channel.packets).hasSize(100);
        assertThat(harness.metrics.packetsDropped(DropReason.QUEUE_HEAD, RelayMetrics.KIND_OTHER)).isZero();
        for (int i = 0; i < 100; i++)
        {
            assertThat(b.channel.packets.get(i).data()).as("packet %d in order", i).isEqualTo(data(1200, i));
        }
    }

    @Test
    void shouldDeliverEmptyAndMaximumSizePackets()
    {
        final RelayHarness.Client a = loop.connect();
        final RelayHarness.Client b = loop.connect();

        a.send(b, new byte[0]);
        a.send(b, data(65_536, 3));
        loop.relay.flushDirty();

        assertThat(b.channel.packetData()).satisfiesExactly(
            first -> assertThat(first).isEmpty(),
            second -> assertThat(second).isEqualTo(data(65_536, 3)));
    }

    @Test
    void shouldTagDiscoPacketsAndCountThemByKind()
    {
        final RelayHarness.Client a = loop.connect();
        final RelayHarness.Client b = loop.connect();

        final TestFrame discoFrame = a.send(b, disco(62, 1));
        final TestFrame shortMagic = a.send(b, disco(61, 2));
        loop.relay.flushDirty();

        assertThat(discoFrame.disco).isTrue();
        assertThat(shortMagic.disco).isFalse();
        assertThat(harness.metrics.packetsReceivedKind[RelayMetrics.KIND_DISCO].sum()).isEqualTo(1);
        assertThat(harness.metrics.packetsReceivedKind[RelayMetrics.KIND_OTHER].sum()).isEqualTo(1);
        assertThat(b.channel.packets).containsExactlyInAnyOrder(discoFrame, shortMagic);
    }

    @Test
    void shouldDropPacketsForUnknownDestinationsWithoutPeerGoneUnlessDisco()
    {
        final RelayHarness.Client a = loop.connect();
        final byte[] nobody = NodePrivateKey.generate(harness.random).publicKey().toBytes();

        assertThat(a.send(nobody, data(100, 1))).isNull();
        loop.relay.flushDirty();

        assertThat(harness.metrics.packetsDropped(DropReason.UNKNOWN_DEST, RelayMetrics.KIND_OTHER)).isEqualTo(1);
        assertThat(harness.metrics.bytesDropped(DropReason.UNKNOWN_DEST, RelayMetrics.KIND_OTHER)).isEqualTo(100);
        assertThat(peerGones(a)).isEmpty();
        assertThat(harness.frames.created).isEmpty();
    }

    @Test
    void shouldAnswerDiscoToUnknownDestinationWithRateLimitedPeerGoneNotHere()
    {
        final RelayHarness.Client a = loop.connect();
        final byte[] nobody = NodePrivateKey.generate(harness.random).publicKey().toBytes();

        for (int i = 0; i < 10; i++)
        {
            assertThat(a.send(nobody, disco(100, i))).isNull();
        }
        loop.relay.flushDirty();

        assertThat(harness.metrics.packetsDropped(DropReason.UNKNOWN_DEST, RelayMetrics.KIND_DISCO)).isEqualTo(10);
        assertThat(peerGones(a)).as("burst of 3").hasSize(3)
            .allSatisfy(frame -> assertThat(frame).isEqualTo(peerGone(nobody, 0x01)));
        assertThat(harness.metrics.peerGoneNotHereFrames.sum()).isEqualTo(3);

        harness.advanceMs(1_000);
        for (int i = 0; i < 5; i++)
        {
            a.send(nobody, disco(100, i));
        }

        assertThat(peerGones(a)).as("one more token after a second").hasSize(4);
        assertThat(a.channel.writesSinceFlush).isPositive();
        loop.relay.flushDirty();
        assertThat(a.channel.writesSinceFlush).as("PeerGone flushed with the batch").isZero();
    }

    @Test
    void shouldRefillPeerGoneTokensAtOnePerSecondUpToThree()
    {
        final RelayHarness.Client a = loop.connect();
        final byte[] nobody = NodePrivateKey.generate(harness.random).publicKey().toBytes();

        harness.advanceMs(60_000);
        for (int i = 0; i < 10; i++)
        {
            a.send(nobody, disco(62, i));
        }
        assertThat(peerGones(a)).as("idle for a minute still only bursts 3").hasSize(3);

        harness.advanceMs(999);
        a.send(nobody, disco(62, 0));
        assertThat(peerGones(a)).as("not yet a whole token").hasSize(3);

        harness.advanceMs(2_001);
        for (int i = 0; i < 5; i++)
        {
            a.send(nobody, disco(62, i));
        }
        assertThat(peerGones(a)).as("three tokens after three seconds").hasSize(6);
    }

    @Test
    void shouldSendPeerGoneDisconnectedOnlyToThoseThatReceivedFromTheDepartedKey()
    {
        final RelayHarness.Client a = loop.connect();
        final RelayHarness.Client receiver = loop.connect();
        final RelayHarness.Client sender = loop.connect();
        final RelayHarness.Client bystander = loop.connect();
        a.send(receiver, data(10, 1));
        a.send(receiver, data(10, 2));
        sender.send(a, data(10, 3));
        loop.relay.flushDirty();

        a.session.onClosed();
        harness.runAllTasks();

        assertThat(peerGones(receiver)).singleElement().isEqualTo(peerGone(a.publicKey(), 0x00));
        assertThat(peerGones(sender)).as("sent to A but never received from A").isEmpty();
        assertThat(peerGones(bystander)).isEmpty();
        assertThat(harness.metrics.peerGoneDisconnectedFrames.sum()).isEqualTo(1);
        assertThat(harness.router.localKeyCount()).isEqualTo(3);
        assertThat(harness.router.lookupActive(new UnsafeBuffer(a.publicKey()), 0)).isNull();
    }

    @Test
    void shouldNotSendPeerGoneWhileADuplicateOfTheKeyRemains()
    {
        final NodePrivateKey key = NodePrivateKey.generate(harness.random);
        final RelayHarness.Client first = loop.connect(key);
        final RelayHarness.Client second = loop.connect(key);
        final RelayHarness.Client receiver = loop.connect();
        first.send(receiver, data(10, 1));
        loop.relay.flushDirty();

        first.session.onClosed();
        harness.runAllTasks();

        assertThat(peerGones(receiver)).as("key still present through its duplicate").isEmpty();

        second.session.onClosed();
        harness.runAllTasks();

        assertThat(peerGones(receiver)).as("told once the key leaves, though the survivor never sent to it")
            .singleElement().isEqualTo(peerGone(key.publicKey().toBytes(), 0x00));
    }

    @Test
    void shouldForgetTheClosedDestinationsOfDepartedDuplicatesWhileTheKeyStays()
    {
        final NodePrivateKey key = NodePrivateKey.generate(harness.random);
        final RelayHarness.Client stayingReceiver = loop.connect();
        RelayHarness.Client current = loop.connect(key);
        current.send(stayingReceiver, data(10, 0));
        // A client that reconnects before its old connection is seen to close: the key never leaves.
        for (int i = 1; i <= 100; i++)
        {
            final RelayHarness.Client next = loop.connect(key);
            final RelayHarness.Client receiver = loop.connect();
            current.send(receiver, data(10, i));
            loop.relay.flushDirty();
            receiver.session.onClosed();
            current.session.onClosed();
            harness.runAllTasks();
            current = next;
        }

        assertThat(harness.router.departedDestinationCountForTest(key.publicKey()))
            .as("only the destination still connected is remembered").isEqualTo(1);

        current.session.onClosed();
        harness.runAllTasks();

        assertThat(peerGones(stayingReceiver)).as("still told when the key leaves")
            .singleElement().isEqualTo(peerGone(key.publicKey().toBytes(), 0x00));
    }

    @Test
    void shouldForgetClosedDestinationsOfALongLivedSender()
    {
        final RelayHarness.Client sender = loop.connect();
        for (int i = 0; i < 1000; i++)
        {
            final RelayHarness.Client receiver = loop.connect();
            sender.send(receiver, data(10, i));
            loop.relay.flushDirty();
            receiver.session.onClosed();
            harness.runAllTasks();
        }

        assertThat(sender.session.sentToCountForTest()).as("closed destinations pruned as new ones come")
            .isLessThanOrEqualTo(64);
    }

    @Test
    void shouldNotSendPeerGoneToAReceiverThatHasItselfClosed()
    {
        final RelayHarness.Client a = loop.connect();
        final RelayHarness.Client receiver = loop.connect();
        a.send(receiver, data(10, 1));
        loop.relay.flushDirty();
        receiver.session.onClosed();
        final int controlsBefore = receiver.channel.controls.size();

        a.session.onClosed();
        harness.runAllTasks();

        assertThat(receiver.channel.controls).hasSize(controlsBefore);
    }

    @Test
    void shouldMakeTheNewestDuplicateActiveThenTheLastWriter()
    {
        final NodePrivateKey key = NodePrivateKey.generate(harness.random);
        final RelayHarness.Client peer = loop.connect();
        final RelayHarness.Client older = loop.connect(key);
        harness.advanceMs(1);
        final RelayHarness.Client newer = loop.connect(key);

        assertThat(harness.metrics.currentDupClientKeys.get()).isEqualTo(1);
        assertThat(harness.metrics.currentDupClientConns.get()).isEqualTo(2);
        assertThat(harness.metrics.totalDupClientConns.sum()).isEqualTo(1);
        assertThat(harness.metrics.currentConnections.get()).isEqualTo(3);
        assertThat(harness.router.localKeyCount()).isEqualTo(2);

        peer.send(older, data(10, 1));
        loop.relay.flushDirty();
        assertThat(newer.channel.packets).as("newest connection is active").hasSize(1);
        assertThat(older.channel.packets).isEmpty();

        harness.advanceMs(1);
        older.frame(FrameType.NOTE_PREFERRED, new byte[] {1});
        peer.send(older, data(10, 2));
        loop.relay.flushDirty();
        assertThat(older.channel.packets).as("a frame from the older one makes it active").hasSize(1);

        harness.advanceMs(1);
        newer.send(peer, data(10, 3));
        peer.send(older, data(10, 4));
        loop.relay.flushDirty();
        assertThat(newer.channel.packetData()).as("last writer wins again")
            .satisfiesExactly(p -> assertThat(p).isEqualTo(data(10, 1)), p -> assertThat(p).isEqualTo(data(10, 4)));
    }

    @Test
    void shouldHandOverToTheLatestSenderWhenTheActiveDuplicateLeaves()
    {
        final NodePrivateKey key = NodePrivateKey.generate(harness.random);
        final RelayHarness.Client peer = loop.connect();
        final RelayHarness.Client one = loop.connect(key);
        harness.advanceMs(1);
        final RelayHarness.Client two = loop.connect(key);
        harness.advanceMs(1);
        one.frame(FrameType.PING, new byte[8]);
        harness.advanceMs(1);
        two.frame(FrameType.PING, new byte[8]);
        harness.advanceMs(1);
        final RelayHarness.Client three = loop.connect(key);

        assertThat(harness.metrics.currentDupClientKeys.get()).isEqualTo(1);
        assertThat(harness.metrics.currentDupClientConns.get()).isEqualTo(3);
        assertThat(harness.metrics.totalDupClientConns.sum()).isEqualTo(2);

        three.session.onClosed();
        peer.send(key.publicKey().toBytes(), data(10, 1));
        loop.relay.flushDirty();

        assertThat(two.channel.packets).as("most recent sender takes over").hasSize(1);
        assertThat(harness.metrics.currentDupClientConns.get()).isEqualTo(2);

        two.session.onClosed();
        assertThat(harness.metrics.currentDupClientKeys.get()).isZero();
        assertThat(harness.metrics.currentDupClientConns.get()).isZero();
        peer.send(key.publicKey().toBytes(), data(10, 2));
        loop.relay.flushDirty();
        assertThat(one.channel.packets).as("survivor is a normal active connection").hasSize(1);
        assertThat(harness.metrics.totalDupClientConns.sum()).as("a total, never decremented").isEqualTo(2);
        assertThat(harness.metrics.currentConnections.get()).isEqualTo(2);
    }

    @Test
    void shouldNotRouteToSessionsBeforeServerInfoOrAfterClose()
    {
        final RelayHarness.Client a = loop.connect();
        final NodePrivateKey pendingKey = NodePrivateKey.generate(harness.random);
        loop.accept(pendingKey);

        assertThat(a.send(pendingKey.publicKey().toBytes(), data(10, 1))).isNull();

        final RelayHarness.Client b = loop.connect();
        b.session.onClosed();
        assertThat(a.send(b, data(10, 2))).isNull();
        assertThat(harness.metrics.packetsDropped(DropReason.UNKNOWN_DEST, RelayMetrics.KIND_OTHER)).isEqualTo(2);
    }

    @Test
    void shouldTellWatchersAboutArrivalsAndDepartures()
    {
        final RelayHarness.Client existing = loop.connect();
        final RelayHarness.Client watcher = loop.connectMesh();

        watcher.frame(FrameType.WATCH_CONNS, new byte[0]);
        harness.runAllTasks();

        assertThat(harness.metrics.watchers.get()).isEqualTo(1);
        assertThat(watcher.channel.controls(FrameType.PEER_PRESENT))
            .anySatisfy(frame -> assertThat(Arrays.copyOfRange(frame, 5, 37)).isEqualTo(existing.publicKey()));

        final RelayHarness.Client arriving = loop.accept(NodePrivateKey.generate(harness.random),
            new InetSocketAddress("198.51.100.7", 41641), false);
        arriving.sendClientInfo(RelayHarness.TAILSCALED_JSON);
        harness.runAllTasks();

        final byte[] expected = new byte[56];
        System.arraycopy(HexFormat.of().parseHex("0900000033"), 0, expected, 0, 5);
        System.arraycopy(arriving.publicKey(), 0, expected, 5, 32);
        System.arraycopy(HexFormat.of().parseHex("00000000000000000000FFFFC6336407" + "A2A9" + "01"), 0, expected, 37, 19);
        assertThat(watcher.channel.controls(FrameType.PEER_PRESENT)).last().isEqualTo(expected);

        arriving.session.onClosed();
        harness.runAllTasks();

        assertThat(peerGones(watcher)).singleElement().isEqualTo(peerGone(arriving.publicKey(), 0x00));
    }

    @Test
    void shouldFlagNotIdealAndProberConnectionsInPeerPresent()
    {
        final RelayHarness.Client watcher = loop.connectMesh();
        watcher.frame(FrameType.WATCH_CONNS, new byte[0]);
        harness.runAllTasks();

        final RelayHarness.Client notIdeal = loop.accept(NodePrivateKey.generate(harness.random),
            new InetSocketAddress("2001:db8::1", 443), true);
        notIdeal.sendClientInfo("{\"version\":2,\"CanAckPings\":false,\"IsProber\":true}");
        harness.runAllTasks();

        final byte[] frame = watcher.channel.controls(FrameType.PEER_PRESENT).getLast();
        assertThat(Arrays.copyOfRange(frame, 5, 37)).isEqualTo(notIdeal.publicKey());
        assertThat(Arrays.copyOfRange(frame, 37, 53)).isEqualTo(HexFormat.of().parseHex("20010db8000000000000000000000001"));
        assertThat(frame[55]).isEqualTo((byte)0x0C);
        assertThat(harness.metrics.currentNotIdealConnections.get()).isEqualTo(1);

        notIdeal.session.onClosed();
        assertThat(harness.metrics.currentNotIdealConnections.get()).isZero();
    }

    @Test
    void shouldCloseEveryConnectionOfAKeyOnClosePeerFromAMeshPeer()
    {
        final NodePrivateKey key = NodePrivateKey.generate(harness.random);
        final RelayHarness.Client one = loop.connect(key);
        final RelayHarness.Client two = loop.connect(key);
        final RelayHarness.Client other = loop.connect();
        final RelayHarness.Client mesh = loop.connectMesh();

        mesh.frame(FrameType.CLOSE_PEER, key.publicKey().toBytes());
        harness.runAllTasks();

        assertThat(one.channel.closed).isTrue();
        assertThat(two.channel.closed).isTrue();
        assertThat(other.channel.closed).isFalse();
        assertThat(harness.router.localKeyCount()).as("other and the mesh peer").isEqualTo(2);
    }
}
