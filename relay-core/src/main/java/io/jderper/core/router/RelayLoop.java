package io.jderper.core.router;

import org.agrona.concurrent.ManyToOneConcurrentArrayQueue;
import org.agrona.concurrent.NanoClock;
import org.agrona.concurrent.UnsafeBuffer;

import java.net.InetSocketAddress;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.concurrent.Executor;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * The relay's share of one event loop: the sessions it owns, its inbox of packets from other loops, the list of
 * sessions that need a flush, and their pooled queue storage. Modelled on an Agrona agent: other threads only
 * {@link #offer} into the inbox; everything else runs on the loop thread.
 *
 * <p>Packets from other loops wake the loop once per batch: the first offer into an idle inbox schedules one
 * drain task, which handles everything that arrived by the time it runs.
 *
 * @param <P> the transport's packet type.
 */
public final class RelayLoop<P>
{
    private static final int DRAIN_LIMIT = 4096;

    private final Router<P> router;
    private final Executor executor;
    private final PacketFrames<P> frames;
    private final RelayConfig config;
    private final NanoClock clock;
    private final QueuePool queuePool;
    private final ManyToOneConcurrentArrayQueue<P> inbox;
    private final AtomicBoolean drainScheduled = new AtomicBoolean();
    private final Runnable drainTask = this::drainInbox;
    private final ArrayList<ClientSession<P>> sessions = new ArrayList<>();
    private final ArrayList<ClientSession<P>> dirty = new ArrayList<>();
    private final UnsafeBuffer scratch = new UnsafeBuffer(new byte[128]);
    /** Queue depths seen by one tick, by bucket of {@link RelayMetrics#queueDepth}; loop thread only. */
    private final long[] depthCounts;

    /**
     * @param router   the shared router.
     * @param executor runs tasks on this loop's thread (the event loop).
     * @param frames   the transport's packet frames.
     * @param clock    monotonic clock.
     */
    public RelayLoop(final Router<P> router, final Executor executor, final PacketFrames<P> frames,
        final NanoClock clock)
    {
        this.router = router;
        this.executor = executor;
        this.frames = frames;
        this.config = router.config();
        this.clock = clock;
        this.queuePool = new QueuePool(config.sendQueueDepth(), config.pooledQueues());
        this.inbox = new ManyToOneConcurrentArrayQueue<>(config.inboxCapacity());
        this.depthCounts = new long[router.metrics().queueDepth.bucketCount()];
        router.addLoop(this);
    }

    /**
     * Runs a control-plane task on this loop's thread.
     */
    void execute(final Runnable task)
    {
        executor.execute(task);
    }

    /**
     * A key left the region: PeerGone to each session here that received packets from it through a mesh peer.
     */
    void onPeerGoneFromRegion(final byte[] key)
    {
        final UnsafeBuffer keyBuffer = new UnsafeBuffer(key);
        final long prefix = keyBuffer.getLong(0, ByteOrder.BIG_ENDIAN);
        for (int i = sessions.size() - 1; i >= 0; i--)
        {
            sessions.get(i).onRemoteSenderGone(prefix, keyBuffer);
        }
        flushDirty();
    }

    /**
     * Creates a session for a connection that just completed the {@code /derp} upgrade. On the loop thread.
     *
     * @param channel  the connection.
     * @param remote   the peer address.
     * @param notIdeal whether the client sent an Ideal-Node header.
     * @return the session, awaiting ClientInfo.
     */
    public ClientSession<P> newSession(final ClientChannel<P> channel, final InetSocketAddress remote,
        final boolean notIdeal)
    {
        return newSession(channel, remote, notIdeal, null);
    }

    /**
     * Creates a session for a connection whose upgrade request carried credentials. On the loop thread.
     *
     * @param channel     the connection.
     * @param remote      the peer address.
     * @param notIdeal    whether the client sent an Ideal-Node header.
     * @param bearerToken the upgrade request's {@code Authorization: Bearer} value, or null; handed to admission.
     * @return the session, awaiting ClientInfo.
     */
    public ClientSession<P> newSession(final ClientChannel<P> channel, final InetSocketAddress remote,
        final boolean notIdeal, final String bearerToken)
    {
        final ClientSession<P> session = new ClientSession<>(
            router.allocateId(), this, router, channel, remote, notIdeal, bearerToken, clock.nanoTime());
        router.sessionTable().put(session);
        session.loopIndex = sessions.size();
        sessions.add(session);
        router.metrics().accepts.increment();
        return session;
    }

    void remove(final ClientSession<P> session)
    {
        router.sessionTable().remove(session);
        // Swap-remove: O(1) however many sessions the loop owns.
        final int index = session.loopIndex;
        final int last = sessions.size() - 1;
        if (index < 0 || index > last || sessions.get(index) != session)
        {
            return;
        }
        final ClientSession<P> moved = sessions.remove(last);
        if (index != last)
        {
            sessions.set(index, moved);
            moved.loopIndex = index;
        }
        session.loopIndex = -1;
    }

    /**
     * @return how many sessions this loop owns.
     */
    public int sessionCount()
    {
        return sessions.size();
    }

    /**
     * Hands a packet to a session on this loop from another loop. Never blocks: a full inbox drops the packet.
     */
    void offer(final P packet, final boolean disco, final int dataLength)
    {
        if (!inbox.offer(packet))
        {
            router.metrics().dropped(DropReason.QUEUE_TAIL, disco, dataLength);
            frames.release(packet);
            return;
        }
        if (!drainScheduled.get() && drainScheduled.compareAndSet(false, true))
        {
            executor.execute(drainTask);
        }
    }

    private void drainInbox()
    {
        // Cleared before draining, so a packet offered while we drain schedules another pass.
        drainScheduled.set(false);
        int drained = 0;
        P packet;
        while (drained < DRAIN_LIMIT && null != (packet = inbox.poll()))
        {
            drained++;
            final ClientSession<P> destination = router.sessionTable().get(frames.destinationId(packet));
            if (null == destination || destination.loop() != this)
            {
                router.metrics().dropped(DropReason.GONE_DISCONNECTED, frames.isDisco(packet),
                    frames.dataLength(packet));
                frames.release(packet);
                continue;
            }
            destination.enqueue(packet, frames.isDisco(packet), frames.dataLength(packet));
        }
        flushDirty();
        if (!inbox.isEmpty() && drainScheduled.compareAndSet(false, true))
        {
            executor.execute(drainTask);
        }
    }

    void markDirty(final ClientSession<P> session)
    {
        dirty.add(session);
    }

    /**
     * Writes and flushes every session that got packets or control frames since the last call. The transport
     * calls this at the end of each read batch; the inbox drain calls it itself.
     */
    public void flushDirty()
    {
        final ArrayList<ClientSession<P>> list = dirty;
        // Index loop: draining may mark further sessions dirty, which then join this pass.
        for (int i = 0; i < list.size(); i++)
        {
            list.get(i).drainAndFlush();
        }
        list.clear();
    }

    /**
     * Housekeeping for every session of this loop; the transport calls it on a fixed period. It also samples each
     * established session's queue depth into {@link RelayMetrics#queueDepth}: the tick visits every session anyway,
     * so the metric costs the packet path nothing.
     */
    public void onTick()
    {
        final long nowNs = clock.nanoTime();
        final BucketCounts queueDepth = router.metrics().queueDepth;
        final long[] counts = depthCounts;
        int sampled = 0;
        long depthSum = 0;
        // Backwards: a session that closes during its tick removes itself from the list.
        for (int i = sessions.size() - 1; i >= 0; i--)
        {
            if (i < sessions.size())
            {
                final ClientSession<P> session = sessions.get(i);
                final int depth = session.queuedPackets();
                if (depth >= 0)
                {
                    counts[queueDepth.bucketOf(depth)]++;
                    depthSum += depth;
                    sampled++;
                }
                session.onTick(nowNs);
            }
        }
        if (sampled > 0)
        {
            queueDepth.add(counts, depthSum);
            Arrays.fill(counts, 0);
        }
        flushDirty();
    }

    /**
     * Graceful shutdown: every session here gets a Restarting frame, its queued packets, and then its close. The
     * reconnect time is spread over {@code [reconnectInMs, reconnectInMs + jitterMs)} per client, so a restarted
     * relay is not dialled by everyone at once. On the loop thread.
     *
     * @param reconnectInMs earliest reconnect hint.
     * @param jitterMs      spread added per client.
     * @param tryForMs      how long clients should keep trying.
     */
    public void announceRestart(final int reconnectInMs, final int jitterMs, final int tryForMs)
    {
        final ThreadLocalRandom random = ThreadLocalRandom.current();
        for (int i = sessions.size() - 1; i >= 0; i--)
        {
            if (i < sessions.size())
            {
                sessions.get(i).announceRestart(reconnectInMs + (jitterMs > 0 ? random.nextInt(jitterMs) : 0),
                    tryForMs);
            }
        }
        flushDirty();
    }

    long nanoTime()
    {
        return clock.nanoTime();
    }

    RelayConfig config()
    {
        return config;
    }

    PacketFrames<P> frames()
    {
        return frames;
    }

    QueuePool queuePool()
    {
        return queuePool;
    }

    UnsafeBuffer scratch()
    {
        return scratch;
    }
}
