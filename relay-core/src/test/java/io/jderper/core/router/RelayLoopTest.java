package io.jderper.core.router;

import static io.jderper.core.router.RelayHarness.data;
import static io.jderper.core.router.RelayHarness.disco;
import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.List;

import io.jderper.core.key.NodePrivateKey;
import io.jderper.core.protocol.FrameType;
import io.jderper.core.protocol.Violation;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

class RelayLoopTest
{
    private final RelayHarness harness = new RelayHarness(new RelayConfig(32, 2_000, 10_000, 60_000, 0, 4, 2));
    private final RelayHarness.Loop loopOne = harness.newLoop();
    private final RelayHarness.Loop loopTwo = harness.newLoop();

    @AfterEach
    void shouldLeakNoFrame()
    {
        harness.shutdownAndAssertNoLeak();
    }

    @Test
    void shouldDeliverAcrossLoopsOnlyWhenTheDestinationLoopDrainsItsInbox()
    {
        final RelayHarness.Client a = loopOne.connect();
        final RelayHarness.Client b = loopTwo.connect();

        final TestFrame first = a.send(b, data(100, 1));
        final TestFrame second = a.send(b, disco(70, 2));
        loopOne.relay.flushDirty();

        assertThat(b.channel.packets).as("still in loop two's inbox").isEmpty();
        assertThat(loopTwo.tasks.size()).as("one wake-up for the batch").isEqualTo(1);
        assertThat(loopOne.tasks.size()).isZero();

        loopTwo.tasks.runAll();

        assertThat(b.channel.packets).containsExactlyInAnyOrder(first, second);
        assertThat(first.sourceKey).isEqualTo(a.publicKey());
        assertThat(first.data()).isEqualTo(data(100, 1));
        assertThat(second.disco).isTrue();
        assertThat(b.channel.writesSinceFlush).as("the drain flushes").isZero();
    }

    @Test
    void shouldScheduleAnotherDrainForPacketsThatArriveAfterOne()
    {
        final RelayHarness.Client a = loopOne.connect();
        final RelayHarness.Client b = loopTwo.connect();

        a.send(b, data(10, 1));
        loopTwo.tasks.runAll();
        a.send(b, data(10, 2));

        assertThat(loopTwo.tasks.size()).isEqualTo(1);
        loopTwo.tasks.runAll();
        assertThat(b.channel.packetData()).satisfiesExactly(
            p -> assertThat(p).isEqualTo(data(10, 1)), p -> assertThat(p).isEqualTo(data(10, 2)));
    }

    @Test
    void shouldDropAndReleaseWhenTheInboxIsFull()
    {
        final RelayHarness.Client a = loopOne.connect();
        final RelayHarness.Client b = loopTwo.connect();
        final List<TestFrame> sent = new ArrayList<>();

        for (int i = 0; i < 6; i++)
        {
            sent.add(a.send(b, data(10, i)));
        }

        assertThat(harness.metrics.packetsDropped(DropReason.QUEUE_TAIL, RelayMetrics.KIND_OTHER)).isEqualTo(2);
        assertThat(harness.frames.released()).containsExactlyElementsOf(sent.subList(4, 6));

        loopTwo.tasks.runAll();
        assertThat(b.channel.packets).containsExactlyElementsOf(sent.subList(0, 4));
    }

    @Test
    void shouldReleaseInboxPacketsWhoseDestinationClosedBeforeTheDrain()
    {
        final RelayHarness.Client a = loopOne.connect();
        final RelayHarness.Client b = loopTwo.connect();
        final TestFrame frame = a.send(b, data(10, 1));

        b.session.onClosed();
        loopTwo.tasks.runAll();

        assertThat(frame.released).isTrue();
        assertThat(b.channel.packets).isEmpty();
        assertThat(harness.metrics.packetsDropped(DropReason.GONE_DISCONNECTED, RelayMetrics.KIND_OTHER)).isEqualTo(1);
    }

    @Test
    void shouldNotDeliverToANewConnectionThatReusedTheSlotOfTheClosedDestination()
    {
        final RelayHarness.Client a = loopOne.connect();
        final NodePrivateKey key = NodePrivateKey.generate(harness.random);
        final RelayHarness.Client b = loopTwo.connect(key);
        final TestFrame frame = a.send(b, data(10, 1));

        b.session.onClosed();
        final RelayHarness.Client reconnected = loopTwo.connect(key);
        loopTwo.tasks.runAll();

        assertThat(reconnected.session.connectionId()).isNotEqualTo(b.session.connectionId());
        assertThat(frame.released).isTrue();
        assertThat(reconnected.channel.packets).as("tagged for the old connection id").isEmpty();
    }

    @Test
    void shouldQueueInboxPacketsForAnUnwritableDestination()
    {
        final RelayHarness.Client a = loopOne.connect();
        final RelayHarness.Client b = loopTwo.connect();
        b.setWritable(false);

        a.send(b, data(10, 1));
        loopTwo.tasks.runAll();
        assertThat(b.channel.packets).isEmpty();

        b.setWritable(true);
        loopTwo.relay.flushDirty();
        assertThat(b.channel.packets).hasSize(1);
    }

    @Test
    void shouldSendPeerGoneAcrossLoopsThroughTheReceiversLoop()
    {
        final RelayHarness.Client a = loopOne.connect();
        final RelayHarness.Client b = loopTwo.connect();
        a.send(b, data(10, 1));
        loopTwo.tasks.runAll();

        a.session.onClosed();
        assertThat(b.channel.controls(FrameType.PEER_GONE)).as("written on B's loop, not A's").isEmpty();
        loopTwo.tasks.runAll();

        assertThat(b.channel.controls(FrameType.PEER_GONE)).hasSize(1);
    }

    @Test
    void shouldKeepTickingEverySessionAfterRemovalsInAnyOrder()
    {
        final List<RelayHarness.Client> clients = new ArrayList<>();
        for (int i = 0; i < 7; i++)
        {
            clients.add(loopOne.accept(NodePrivateKey.generate(harness.random)));
        }

        clients.get(0).session.onClosed();
        clients.get(6).session.onClosed();
        clients.get(3).session.onClosed();
        clients.get(3).session.onClosed();
        assertThat(loopOne.relay.sessionCount()).isEqualTo(4);

        harness.advanceMs(10_001);
        loopOne.relay.onTick();

        for (final int open : new int[] {1, 2, 4, 5})
        {
            assertThat(clients.get(open).channel.closed).as("session %d ticked", open).isTrue();
        }
        assertThat(clients.get(0).channel.closed).as("already gone, not ticked").isFalse();
        assertThat(harness.metrics.violations(Violation.HANDSHAKE_TIMEOUT)).isEqualTo(4);
        harness.runAllTasks();
        assertThat(loopOne.relay.sessionCount()).isZero();
    }

    @Test
    void shouldTickEverySessionOnceWhenSessionsCloseSynchronouslyDuringTheTick()
    {
        final List<RelayHarness.Client> clients = new ArrayList<>();
        for (int i = 0; i < 6; i++)
        {
            final RelayHarness.Client client = loopOne.accept(NodePrivateKey.generate(harness.random));
            client.channel.closeSynchronously = true;
            clients.add(client);
        }
        final RelayHarness.Client established = loopOne.connect();

        harness.advanceMs(10_001);
        loopOne.relay.onTick();

        assertThat(clients).allSatisfy(client -> assertThat(client.channel.closeCalls).isEqualTo(1));
        assertThat(established.channel.closed).isFalse();
        assertThat(loopOne.relay.sessionCount()).isEqualTo(1);
        assertThat(harness.metrics.violations(Violation.HANDSHAKE_TIMEOUT)).isEqualTo(6);
    }

    @Test
    void shouldSampleTheQueueDepthOfEveryEstablishedSessionAtEachTick()
    {
        final RelayHarness.Client sender = loopOne.connect();
        final RelayHarness.Client slow = loopOne.connect();
        loopOne.accept(NodePrivateKey.generate(harness.random));
        slow.setWritable(false);
        for (int i = 0; i < 3; i++)
        {
            sender.send(slow, data(10, i));
        }
        final BucketCounts depth = harness.metrics.queueDepth;

        loopOne.relay.onTick();

        assertThat(depth.count(depth.bucketOf(0))).as("the sender's empty queues").isEqualTo(1);
        assertThat(depth.count(depth.bucketOf(3))).as("three packets wait for the slow client").isEqualTo(1);
        assertThat(depth.sum()).isEqualTo(3);
        long samples = 0;
        for (int i = 0; i < depth.bucketCount(); i++)
        {
            samples += depth.count(i);
        }
        assertThat(samples).as("the connection still in its handshake is not sampled").isEqualTo(2);

        slow.setWritable(true);
        loopOne.relay.flushDirty();
        assertThat(slow.channel.packets).hasSize(3);
        loopOne.relay.onTick();

        assertThat(depth.count(depth.bucketOf(0))).as("both empty at the second tick").isEqualTo(3);
        assertThat(depth.sum()).isEqualTo(3);
    }

    @Test
    void shouldTrackItsSessionsAndTickOnlyThose()
    {
        final RelayHarness.Client one = loopOne.accept(NodePrivateKey.generate(harness.random));
        loopTwo.accept(NodePrivateKey.generate(harness.random));
        loopTwo.accept(NodePrivateKey.generate(harness.random));

        assertThat(loopOne.relay.sessionCount()).isEqualTo(1);
        assertThat(loopTwo.relay.sessionCount()).isEqualTo(2);

        harness.advanceMs(10_001);
        loopOne.relay.onTick();
        harness.runAllTasks();

        assertThat(one.channel.closed).isTrue();
        assertThat(loopOne.relay.sessionCount()).isZero();
        assertThat(loopTwo.relay.sessionCount()).as("loop two has not ticked").isEqualTo(2);
        assertThat(harness.metrics.violations(Violation.HANDSHAKE_TIMEOUT)).isEqualTo(1);
    }
}
