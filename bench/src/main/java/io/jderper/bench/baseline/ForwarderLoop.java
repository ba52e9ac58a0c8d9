package io.jderper.bench.baseline;

import io.netty.buffer.ByteBuf;
import io.netty.channel.EventLoop;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.concurrent.atomic.AtomicReferenceArray;

/**
 * What the baseline keeps per event loop: the connections written to since their last flush, and one outgoing batch
 * per other loop. Everything here runs on the owning loop, except that a batch, once handed over, runs on the
 * destination loop and then comes back through {@link #spares}.
 *
 * <p>Same loop: a frame is written into the destination's pipeline at once and the destination is flushed when the
 * sender's read batch ends ({@link #flushDirty()}, from {@code channelReadComplete}). Other loop: the frame is
 * appended to the batch for that loop; after this loop's current round of I/O, one task per destination loop carries
 * the whole batch over, writes every frame and flushes each destination once. No queue bounds, no drops.
 */
final class ForwarderLoop
{
    private static final int INITIAL_BATCH_CAPACITY = 64;

    private final EventLoop eventLoop;
    private final int index;
    private final ArrayList<ForwarderConnection> dirty = new ArrayList<>();
    private final Runnable handOver = this::handOver;
    private ForwarderLoop[] loops;
    private Batch[] outboxes;
    /** Batches that a destination loop has finished with, one slot per destination; written by that loop. */
    private AtomicReferenceArray<Batch> spares;
    private boolean handOverScheduled;

    ForwarderLoop(final EventLoop eventLoop, final int index)
    {
        this.eventLoop = eventLoop;
        this.index = index;
    }

    /**
     * Completes construction once every loop exists (before the server accepts anything).
     *
     * @param all every loop of the group, indexed by {@link #index}.
     */
    void init(final ForwarderLoop[] all)
    {
        this.loops = all;
        this.outboxes = new Batch[all.length];
        this.spares = new AtomicReferenceArray<>(all.length);
        for (int i = 0; i < all.length; i++)
        {
            if (i != index)
            {
                outboxes[i] = new Batch(this, all[i]);
            }
        }
    }

    EventLoop eventLoop()
    {
        return eventLoop;
    }

    /**
     * Sends a whole RecvPacket frame to its destination. On this loop only.
     *
     * @param destination the receiving connection, on any loop.
     * @param frame       the frame; ownership passes here.
     */
    void deliver(final ForwarderConnection destination, final ByteBuf frame)
    {
        final ForwarderLoop target = destination.loop();
        if (this == target)
        {
            destination.write(frame);
            return;
        }
        outboxes[target.index].add(destination, frame);
        if (!handOverScheduled)
        {
            handOverScheduled = true;
            // From inside the loop this only queues the task: it runs after the I/O events of this round.
            eventLoop.execute(handOver);
        }
    }

    /**
     * Remembers that a connection of this loop has unflushed writes.
     */
    void markDirty(final ForwarderConnection connection)
    {
        dirty.add(connection);
    }

    /**
     * Flushes every connection of this loop written to since the last call.
     */
    void flushDirty()
    {
        final ArrayList<ForwarderConnection> connections = dirty;
        final int size = connections.size();
        for (int i = 0; i < size; i++)
        {
            connections.get(i).flush();
        }
        connections.clear();
    }

    private void handOver()
    {
        handOverScheduled = false;
        for (int i = 0; i < outboxes.length; i++)
        {
            final Batch batch = outboxes[i];
            if (null != batch && batch.size > 0)
            {
                final Batch spare = spares.getAndSet(i, null);
                outboxes[i] = null != spare ? spare : new Batch(this, loops[i]);
                loops[i].eventLoop.execute(batch);
            }
        }
    }

    /**
     * Frames for one destination loop, written there in order, then each destination flushed once.
     */
    private static final class Batch implements Runnable
    {
        private final ForwarderLoop origin;
        private final ForwarderLoop target;
        private ForwarderConnection[] destinations = new ForwarderConnection[INITIAL_BATCH_CAPACITY];
        private ByteBuf[] frames = new ByteBuf[INITIAL_BATCH_CAPACITY];
        private int size;

        Batch(final ForwarderLoop origin, final ForwarderLoop target)
        {
            this.origin = origin;
            this.target = target;
        }

        void add(final ForwarderConnection destination, final ByteBuf frame)
        {
            if (size == frames.length)
            {
                destinations = Arrays.copyOf(destinations, size * 2);
                frames = Arrays.copyOf(frames, size * 2);
            }
            destinations[size] = destination;
            frames[size] = frame;
            size++;
        }

        @Override
        public void run()
        {
            final int count = size;
            for (int i = 0; i < count; i++)
            {
                destinations[i].write(frames[i]);
                destinations[i] = null;
                frames[i] = null;
            }
            size = 0;
            target.flushDirty();
            origin.spares.lazySet(target.index, this);
        }
    }
}
