package io.jderper.core.router;

import static io.jderper.core.router.RelayHarness.data;
import static org.assertj.core.api.Assertions.assertThat;

import java.util.Arrays;
import java.util.List;

import io.jderper.core.key.NodePrivateKey;
import io.jderper.core.key.NodePublicKey;
import io.jderper.core.protocol.FrameType;
import org.agrona.concurrent.UnsafeBuffer;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * Routing across the nodes of a region (spec §4.7): packets for keys on other nodes go to their mesh peer,
 * ForwardPackets are delivered locally only, and a key that leaves the region gets PeerGone to whoever heard from it.
 */
class MeshRoutingTest
{
    private final RelayHarness harness = new RelayHarness();
    private final RelayHarness.Loop loop = harness.newLoop();
    private final RelayHarness.Loop otherLoop = harness.newLoop();
    private final TestForwarder east = new TestForwarder("east");
    private final TestForwarder west = new TestForwarder("west");

    @AfterEach
    void shouldLeakNoFrame()
    {
        harness.shutdownAndAssertNoLeak();
    }

    private NodePublicKey remoteKey()
    {
        return NodePrivateKey.generate(harness.random).publicKey();
    }

    private static List<byte[]> peerGoneKeys(final RelayHarness.Client client)
    {
        return client.channel.controls(FrameType.PEER_GONE).stream()
            .map(frame -> Arrays.copyOfRange(frame, 5, 37)).toList();
    }

    @Test
    void shouldHandAPacketForARemoteKeyToItsMeshPeerAsAForwardPacket()
    {
        final RelayHarness.Client sender = loop.connect();
        final NodePublicKey remote = remoteKey();
        harness.router.addForwarder(remote, east);

        final TestFrame frame = sender.send(remote.toBytes(), data(300, 5));

        assertThat(east.forwarded).containsExactly(frame);
        assertThat(frame.sourceKey).isEqualTo(sender.publicKey());
        assertThat(frame.destinationKey).isEqualTo(remote.toBytes());
        assertThat(frame.data()).isEqualTo(data(300, 5));
        assertThat(harness.metrics.packetsForwardedOut.sum()).isEqualTo(1);
        assertThat(harness.metrics.packetsDropped(DropReason.UNKNOWN_DEST, RelayMetrics.KIND_OTHER)).isZero();
        assertThat(harness.metrics.remoteKeys.get()).isEqualTo(1);
    }

    @Test
    void shouldCountKeysKnownOnlyThroughMeshPeersAsRemote()
    {
        final RelayHarness.Client local = loop.connect();
        harness.router.addForwarder(local.key.publicKey(), east);
        harness.router.addForwarder(remoteKey(), east);
        final NodePublicKey twice = remoteKey();
        harness.router.addForwarder(twice, east);
        harness.router.addForwarder(twice, west);

        assertThat(harness.router.remoteOnlyKeyCount()).as("the local key is not remote").isEqualTo(2);
        assertThat(harness.router.localKeyCount()).isEqualTo(1);
    }

    @Test
    void shouldPreferALocalConnectionOverAMeshPeer()
    {
        final RelayHarness.Client sender = loop.connect();
        final RelayHarness.Client local = loop.connect();
        harness.router.addForwarder(local.key.publicKey(), east);

        final TestFrame frame = sender.send(local, data(10, 1));
        loop.relay.flushDirty();

        assertThat(local.channel.packets).containsExactly(frame);
        assertThat(east.forwarded).isEmpty();
    }

    @Test
    void shouldCountADropWhenTheMeshPeerRefusesThePacket()
    {
        final RelayHarness.Client sender = loop.connect();
        final NodePublicKey remote = remoteKey();
        harness.router.addForwarder(remote, east);
        east.refusing = true;

        sender.send(remote.toBytes(), data(64, 1));

        assertThat(east.forwarded).isEmpty();
        assertThat(harness.metrics.packetsDropped(DropReason.QUEUE_TAIL, RelayMetrics.KIND_OTHER)).isEqualTo(1);
    }

    @Test
    void shouldKeepTheFirstMeshPeerPreferredAndFallBackToTheNextWhenItGoes()
    {
        final RelayHarness.Client sender = loop.connect();
        final NodePublicKey remote = remoteKey();
        harness.router.addForwarder(remote, east);
        harness.router.addForwarder(remote, west);
        harness.router.addForwarder(remote, east);

        sender.send(remote.toBytes(), data(8, 1));
        harness.router.removeForwarder(remote, east);
        sender.send(remote.toBytes(), data(8, 2));
        harness.router.removeForwarder(remote, east);

        assertThat(east.forwarded).singleElement().satisfies(f -> assertThat(f.data()).isEqualTo(data(8, 1)));
        assertThat(west.forwarded).singleElement().satisfies(f -> assertThat(f.data()).isEqualTo(data(8, 2)));
        assertThat(harness.metrics.multiForwarderCreated.sum()).isEqualTo(1);
        assertThat(harness.metrics.multiForwarderDeleted.sum()).isEqualTo(1);
        assertThat(harness.metrics.packetForwarderDeleteOtherValue.sum()).as("second removal of east").isEqualTo(1);

        harness.router.removeForwarder(remote, west);
        sender.send(remote.toBytes(), data(8, 3));

        assertThat(harness.metrics.packetsDropped(DropReason.UNKNOWN_DEST, RelayMetrics.KIND_OTHER)).isEqualTo(1);
        assertThat(harness.metrics.remoteKeys.get()).isZero();
    }

    @Test
    void shouldDeliverAForwardPacketLocallyWithTheOriginalSendersKey()
    {
        final RelayHarness.Client mesh = loop.connectMesh();
        final RelayHarness.Client receiver = otherLoop.connect();
        final NodePublicKey remote = remoteKey();

        final TestFrame frame = mesh.forward(remote.toBytes(), receiver.publicKey(), data(50, 9));
        harness.runAllTasks();

        assertThat(receiver.channel.packets).containsExactly(frame);
        assertThat(frame.sourceKey).isEqualTo(remote.toBytes());
        assertThat(frame.forwarded).isTrue();
        assertThat(harness.metrics.packetsForwardedIn.sum()).isEqualTo(1);
    }

    @Test
    void shouldNeverForwardAForwardPacketAgain()
    {
        final RelayHarness.Client mesh = loop.connectMesh();
        final NodePublicKey elsewhere = remoteKey();
        harness.router.addForwarder(elsewhere, east);

        final TestFrame frame = mesh.forward(remoteKey().toBytes(), elsewhere.toBytes(), data(20, 1));

        assertThat(frame).isNull();
        assertThat(east.forwarded).isEmpty();
        assertThat(harness.metrics.packetsDropped(DropReason.UNKNOWN_DEST_ON_FWD, RelayMetrics.KIND_OTHER))
            .isEqualTo(1);
    }

    @Test
    void shouldIgnoreForwardPacketsFromConnectionsWithoutTheMeshKey()
    {
        final RelayHarness.Client notMesh = loop.connect();
        final RelayHarness.Client receiver = loop.connect();

        assertThat(notMesh.forward(remoteKey().toBytes(), receiver.publicKey(), data(20, 1))).isNull();
        assertThat(harness.metrics.packetsForwardedIn.sum()).isZero();
    }

    @Test
    void shouldSendPeerGoneToReceiversWhenARemoteKeyLeavesTheRegion()
    {
        final RelayHarness.Client mesh = loop.connectMesh();
        final RelayHarness.Client receiver = otherLoop.connect();
        final RelayHarness.Client bystander = loop.connect();
        final NodePublicKey remote = remoteKey();
        harness.router.addForwarder(remote, east);
        harness.router.addForwarder(remote, west);
        mesh.forward(remote.toBytes(), receiver.publicKey(), data(10, 1));
        mesh.forward(remote.toBytes(), receiver.publicKey(), data(10, 2));
        harness.runAllTasks();

        harness.router.removeForwarder(remote, east);
        harness.runAllTasks();
        assertThat(peerGoneKeys(receiver)).as("still reachable through west").isEmpty();

        harness.router.removeForwarder(remote, west);
        harness.runAllTasks();

        assertThat(peerGoneKeys(receiver)).containsExactly(remote.toBytes());
        assertThat(peerGoneKeys(bystander)).isEmpty();
        assertThat(peerGoneKeys(mesh)).isEmpty();

        harness.router.addForwarder(remote, east);
        harness.router.removeForwarder(remote, east);
        harness.runAllTasks();
        assertThat(peerGoneKeys(receiver)).as("told once per departure, not again without new packets").hasSize(1);
    }

    @Test
    void shouldNotSendPeerGoneWhenTheRemoteKeyIsAlsoConnectedHere()
    {
        final RelayHarness.Client mesh = loop.connectMesh();
        final RelayHarness.Client receiver = loop.connect();
        final NodePrivateKey roaming = NodePrivateKey.generate(harness.random);
        harness.router.addForwarder(roaming.publicKey(), east);
        mesh.forward(roaming.publicKey().toBytes(), receiver.publicKey(), data(10, 1));
        final RelayHarness.Client roamingHere = otherLoop.connect(roaming);
        harness.runAllTasks();

        harness.router.removeForwarder(roaming.publicKey(), east);
        harness.runAllTasks();

        assertThat(peerGoneKeys(receiver)).isEmpty();
        assertThat(roamingHere.session.isEstablished()).isTrue();
    }

    @Test
    void shouldHoldBackPeerGoneForALocalKeyThatIsStillOnAnotherNodeUntilItLeavesThere()
    {
        final RelayHarness.Client moving = loop.connect();
        final RelayHarness.Client receiver = otherLoop.connect();
        moving.send(receiver, data(10, 1));
        harness.runAllTasks();
        harness.router.addForwarder(moving.key.publicKey(), east);

        moving.session.onClosed();
        harness.runAllTasks();
        assertThat(peerGoneKeys(receiver)).as("the key moved to another node of the region").isEmpty();
        assertThat(harness.router.lookupForwarder(new UnsafeBuffer(moving.publicKey()), 0)).isSameAs(east);

        harness.router.removeForwarder(moving.key.publicKey(), east);
        harness.runAllTasks();

        assertThat(peerGoneKeys(receiver)).containsExactly(moving.publicKey());
    }

    @Test
    void shouldForgetRemoteSendersOfAReceiverThatClosed()
    {
        final RelayHarness.Client mesh = loop.connectMesh();
        final RelayHarness.Client receiver = loop.connect();
        final NodePublicKey remote = remoteKey();
        harness.router.addForwarder(remote, east);
        mesh.forward(remote.toBytes(), receiver.publicKey(), data(10, 1));
        harness.runAllTasks();
        final int controlsBefore = receiver.channel.controls.size();

        receiver.session.onClosed();
        harness.router.removeForwarder(remote, east);
        harness.runAllTasks();

        assertThat(receiver.channel.controls).hasSize(controlsBefore);
    }
}
