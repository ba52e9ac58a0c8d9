package io.jderper.core.router;

import io.jderper.bench.AbstractMicrobenchmark;
import io.jderper.core.protocol.ClientFrames;
import io.jderper.core.protocol.FrameHeader;
import org.agrona.concurrent.UnsafeBuffer;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.Group;
import org.openjdk.jmh.annotations.GroupThreads;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.infra.Control;

/**
 * The packet path through the relay core without Netty: what {@code DerpConnectionHandler} does per SendPacket,
 * {@link ClientSession#beginSendPacket} (disco test, counters, key lookup, sent-to note, frame from the pool), the
 * one payload copy into the frame, {@link ClientSession#completePacket}, and {@link RelayLoop#flushDirty} (queue,
 * drain to the channel, flush). The channel hands each written frame straight back to a fixed pool, so the frames
 * allocate nothing and {@code gc.alloc.rate.norm} is the core's own: it must be about 0 B/op in steady state.
 *
 * <ul>
 *   <li>{@link #sameLoop}: sender and receiver on one loop; the frame goes straight into the receiver's queue.</li>
 *   <li>{@code crossLoop} group: the receiver lives on a second loop whose tasks a second thread runs. The sender's
 *   thread offers each frame into that loop's inbox (an MPSC queue) and wakes it once per batch; the other thread
 *   runs the drain task, which queues, writes and flushes. Both threads run at full speed, so the inbox and the
 *   receiver's 32-deep queue overflow and drop (counted, frames released) as they would under overload; the drops
 *   are printed at teardown.</li>
 * </ul>
 */
public class RouterBenchmark extends AbstractMicrobenchmark
{
    /** A typical WireGuard packet. */
    static final int DATA_LENGTH = 1200;

    /**
     * Two established sessions on one loop.
     */
    @State(Scope.Thread)
    public static class SameLoop
    {
        BenchRelay relay;
        LoopTasks tasks;
        RelayLoop<BenchFrame> loop;
        BenchRelay.Client sender;
        BenchRelay.Client receiver;
        UnsafeBuffer sendPacket;

        /**
         * Logs both clients in and checks one packet gets through.
         */
        @Setup(Level.Trial)
        public void setUp()
        {
            relay = new BenchRelay(64, DATA_LENGTH);
            tasks = new LoopTasks();
            loop = relay.newLoop(tasks);
            sender = relay.connect(loop, tasks);
            receiver = relay.connect(loop, tasks);
            sendPacket = sender.sendPacketTo(receiver, DATA_LENGTH);
            forward(sender.session(), sendPacket, loop);
            if (1 != receiver.channel().packetsWritten || 0 != relay.frames.outstanding())
            {
                throw new IllegalStateException("packet not delivered: written=" +
                    receiver.channel().packetsWritten + " outstanding=" + relay.frames.outstanding());
            }
        }

        /**
         * Checks every packet was delivered and every frame came back.
         */
        @TearDown(Level.Trial)
        public void tearDown()
        {
            final long received = relay.metrics.packetsReceived.sum();
            if (received != receiver.channel().packetsWritten || 0 != relay.frames.outstanding())
            {
                throw new IllegalStateException("received=" + received + " written=" +
                    receiver.channel().packetsWritten + " outstanding=" + relay.frames.outstanding() + " drops:" +
                    relay.drops());
            }
        }
    }

    /**
     * A sender on loop A, its destination on loop B, and B's task queue run by the group's second thread.
     */
    @State(Scope.Group)
    public static class CrossLoop
    {
        BenchRelay relay;
        LoopTasks tasksA;
        LoopTasks tasksB;
        RelayLoop<BenchFrame> loopA;
        RelayLoop<BenchFrame> loopB;
        BenchRelay.Client sender;
        BenchRelay.Client receiver;
        UnsafeBuffer sendPacket;

        /**
         * Logs both clients in and checks one packet gets through the inbox.
         */
        @Setup(Level.Trial)
        public void setUp()
        {
            // Enough frames to fill B's inbox and both of the receiver's queues: only the relay's own limits drop.
            final int inbox = RelayConfig.defaults(0).inboxCapacity();
            relay = new BenchRelay(inbox + 2 * RelayConfig.defaults(0).sendQueueDepth() + 64, DATA_LENGTH);
            tasksA = new LoopTasks();
            tasksB = new LoopTasks();
            loopA = relay.newLoop(tasksA);
            loopB = relay.newLoop(tasksB);
            sender = relay.connect(loopA, tasksA);
            receiver = relay.connect(loopB, tasksB);
            sendPacket = sender.sendPacketTo(receiver, DATA_LENGTH);
            forward(sender.session(), sendPacket, loopA);
            tasksB.runPending();
            if (1 != receiver.channel().packetsWritten || 0 != relay.frames.outstanding())
            {
                throw new IllegalStateException("packet not delivered: written=" +
                    receiver.channel().packetsWritten + " outstanding=" + relay.frames.outstanding());
            }
        }

        /**
         * Drains what is left, checks every frame came back, and reports deliveries and drops.
         */
        @TearDown(Level.Trial)
        public void tearDown()
        {
            tasksB.runPending();
            tasksA.runPending();
            final long received = relay.metrics.packetsReceived.sum();
            System.out.println("crossLoop: received=" + received + " written=" + receiver.channel().packetsWritten +
                " drops:" + relay.drops());
            if (0 != relay.frames.outstanding())
            {
                throw new IllegalStateException("frames leaked: outstanding=" + relay.frames.outstanding());
            }
        }
    }

    static BenchFrame forward(
        final ClientSession<BenchFrame> sender, final UnsafeBuffer sendPacket, final RelayLoop<BenchFrame> loop)
    {
        final BenchFrame frame = sender.beginSendPacket(sendPacket, FrameHeader.LENGTH, DATA_LENGTH);
        if (null != frame)
        {
            frame.fill(sendPacket, ClientFrames.SEND_PACKET_PREFIX_LENGTH);
            sender.completePacket(frame);
        }
        loop.flushDirty();
        return frame;
    }

    /**
     * One SendPacket relayed to a session on the same loop, written and flushed.
     *
     * @param state the relay.
     * @return the frame (already back in the pool).
     */
    @Benchmark
    public BenchFrame sameLoop(final SameLoop state)
    {
        return forward(state.sender.session(), state.sendPacket, state.loop);
    }

    /**
     * One SendPacket handed to the destination loop's inbox (loop A's side of the cross-loop path).
     *
     * @param state the relay.
     * @return the frame, or null if the pool was empty.
     */
    @Benchmark
    @Group("crossLoop")
    @GroupThreads(1)
    public BenchFrame crossLoopSend(final CrossLoop state)
    {
        return forward(state.sender.session(), state.sendPacket, state.loopA);
    }

    /**
     * Loop B's thread: waits for the inbox drain task (scheduled once per batch) and runs it, which queues, writes
     * and flushes everything that arrived.
     *
     * @param state   the relay.
     * @param control tells the wait when the iteration is over.
     * @return tasks run.
     */
    @Benchmark
    @Group("crossLoop")
    @GroupThreads(1)
    public int crossLoopDrain(final CrossLoop state, final Control control)
    {
        Runnable task;
        while (null == (task = state.tasksB.poll()))
        {
            if (control.stopMeasurement)
            {
                return 0;
            }
            Thread.onSpinWait();
        }
        task.run();
        return 1;
    }
}
