package io.jderper.loadgen;

import io.jderper.transport.client.DerpClient;
import org.agrona.DirectBuffer;
import org.agrona.concurrent.UnsafeBuffer;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;

/**
 * One stream of packets from a sender peer to a receiver peer, with a window of packets in flight.
 *
 * <h2>Implicit acknowledgement</h2>
 * Both ends live in this process, so the receiver acknowledges by publishing how far it got: {@link #acked} is the
 * sum over both kinds (data, disco) of the highest sequence number received plus one. Packets in flight are
 * {@code sent - acked}: packets lost in a gap count as acknowledged, so a loss never shrinks the window for good.
 * If nothing moves for {@link #STALL_NS} while packets are in flight (the tail of a burst lost, or a slow or stalled
 * relay), the sender counts a stall; outside the lossless profile it also presumes those packets lost and sends on.
 *
 * <h2>Threads</h2>
 * Sender fields are written only on the sender's event loop, receiver fields only on the receiver's; counters the
 * reporter reads are published with release stores. The sender sets {@link #blocked} (volatile) before re-reading
 * {@link #acked}; the receiver writes {@link #acked} (volatile) before reading {@link #blocked}: one of them always
 * sees the other, so a full window is never left without a wake-up. The receiver wakes a blocked sender only once
 * half the window is free ({@link Traffic#wakeThreshold}), so the sender sends in bursts with one flush each.
 *
 * <h2>Pausing for churn</h2>
 * With {@code --churn-traffic} a pair is closed only while its flow is paused and drained: {@link #pauseOnLoop} runs
 * on the sender's loop, so once it ran no pump is half way through a send and {@link #outstanding} can only fall.
 * {@link #resumeOnLoop} moves the rate schedule on by the pause, so the sender does not catch up in a burst.
 */
final class Flow
{
    /** No progress for this long with packets in flight is a stall. */
    static final long STALL_NS = 1_000_000_000L;
    /** Most packets one pump call sends for one flow before letting the others on the loop go. */
    static final int MAX_BURST = 64;

    private static final VarHandle SENT;
    private static final VarHandle BLOCKED;
    private static final VarHandle QUEUED;
    private static final VarHandle DELIVERED;
    private static final VarHandle GAP_LOST;
    private static final VarHandle DUPLICATES;
    private static final VarHandle STALLS;
    private static final VarHandle SEND_FAILURES;

    static
    {
        try
        {
            final MethodHandles.Lookup lookup = MethodHandles.lookup();
            SENT = lookup.findVarHandle(Flow.class, "sent", long.class);
            BLOCKED = lookup.findVarHandle(Flow.class, "blocked", int.class);
            QUEUED = lookup.findVarHandle(Flow.class, "queued", int.class);
            DELIVERED = lookup.findVarHandle(Flow.class, "delivered", long.class);
            GAP_LOST = lookup.findVarHandle(Flow.class, "gapLost", long.class);
            DUPLICATES = lookup.findVarHandle(Flow.class, "duplicates", long.class);
            STALLS = lookup.findVarHandle(Flow.class, "stalls", long.class);
            SEND_FAILURES = lookup.findVarHandle(Flow.class, "sendFailures", long.class);
        }
        catch (final ReflectiveOperationException ex)
        {
            throw new ExceptionInInitializerError(ex);
        }
    }

    // Static after construction.
    final Peer sender;
    final Peer receiver;
    final LoopContext senderLoop;
    private final DirectBuffer destination;
    private final Traffic traffic;

    // Sender loop only.
    private long nextDataSequence;
    private long nextDiscoSequence;
    private long presumedLostBase;
    private long lastAckedSeen;
    private long lastProgressNs;
    private boolean stallCounted;
    private long random;
    /** Packets the rate schedule no longer asks for: the time spent paused. */
    private long rateOffset;

    // Sender writes, others read.
    private volatile long sent;
    private volatile long stalls;
    private volatile long sendFailures;
    private volatile boolean active = true;
    /** Churn: the sender is paused (written on the sender's loop). */
    private volatile boolean paused;
    /** 1 while the sender waits for the receiver to open the window. */
    private volatile int blocked;
    /** 1 while the flow sits in its loop's ready queue. */
    private volatile int queued;

    // Receiver loop only.
    private long expectData;
    private long expectDisco;

    // Receiver writes, others read.
    private volatile long acked;
    private volatile long delivered;
    private volatile long gapLost;
    private volatile long duplicates;

    Flow(final Peer sender, final Peer receiver, final LoopContext senderLoop, final Traffic traffic, final long seed)
    {
        this.sender = sender;
        this.receiver = receiver;
        this.senderLoop = senderLoop;
        this.traffic = traffic;
        this.destination = new UnsafeBuffer(receiver.publicKeyBytes());
        this.random = 0 == seed ? 0x9E3779B97F4A7C15L : seed;
    }

    // ---------------------------------------------------------------------------------------------------------------
    // Sender side, on the sender's event loop.

    /**
     * Sends what the window, the rate and the channel allow.
     *
     * @param loop  the sender's loop context (templates, clock).
     * @param nowNs the loop's clock for this cycle.
     */
    void pump(final LoopContext loop, final long nowNs)
    {
        QUEUED.setVolatile(this, 0);
        final DerpClient client = sender.client();
        if (!active || paused || !traffic.running() || null == client)
        {
            return;
        }
        final int window = traffic.window;
        int burst = 0;
        while (true)
        {
            long inFlight = sent - Math.max(acked, presumedLostBase);
            if (inFlight >= window)
            {
                BLOCKED.setVolatile(this, 1);
                inFlight = sent - Math.max(acked, presumedLostBase);
                if (inFlight >= window || !BLOCKED.compareAndSet(this, 1, 0))
                {
                    break;
                }
                continue;
            }
            if (traffic.rateLimited && sent >= traffic.allowedBy(nowNs) - rateOffset)
            {
                break;
            }
            if (burst == MAX_BURST)
            {
                loop.wake(this);
                break;
            }
            if (!client.isWritable())
            {
                break;
            }
            if (!sendOne(loop, client))
            {
                break;
            }
            burst++;
        }
        if (burst > 0)
        {
            client.flush();
        }
    }

    private boolean sendOne(final LoopContext loop, final DerpClient client)
    {
        final boolean disco = traffic.discoThreshold > 0 && (nextRandom() >>> 1) < traffic.discoThreshold;
        final UnsafeBuffer packet = disco ? loop.discoTemplate : loop.dataTemplate;
        final int header = PayloadDescriptor.headerOffset(disco);
        final long sequence = disco ? nextDiscoSequence : nextDataSequence;
        PayloadDescriptor.putHeader(packet, header, System.nanoTime(), sequence, sender.index);
        if (!client.sendPacket(destination, 0, packet, 0, traffic.packetSize))
        {
            SEND_FAILURES.setRelease(this, sendFailures + 1);
            active = false;
            return false;
        }
        if (disco)
        {
            nextDiscoSequence = sequence + 1;
        }
        else
        {
            nextDataSequence = sequence + 1;
        }
        SENT.setRelease(this, sent + 1);
        return true;
    }

    private long nextRandom()
    {
        long x = random;
        x ^= x << 13;
        x ^= x >>> 7;
        x ^= x << 17;
        random = x;
        return x;
    }

    /**
     * Housekeeping on the sender's loop: notices a window that has not moved for {@link #STALL_NS}.
     *
     * @param loop  the sender's loop context.
     * @param nowNs the loop's clock.
     */
    void checkStall(final LoopContext loop, final long nowNs)
    {
        final long ackedNow = acked;
        if (ackedNow != lastAckedSeen || 0 == lastProgressNs)
        {
            lastAckedSeen = ackedNow;
            lastProgressNs = nowNs;
            stallCounted = false;
            return;
        }
        final long base = Math.max(ackedNow, presumedLostBase);
        if (sent > base && nowNs - lastProgressNs - STALL_NS > 0 && traffic.running())
        {
            if (!stallCounted)
            {
                STALLS.setRelease(this, stalls + 1);
                stallCounted = true;
            }
            if (traffic.presumeLossOnStall)
            {
                // Only outside the lossless profile: sending past a window still in flight could overflow the
                // relay's queue and cause the very loss the lossless profile fails on.
                presumedLostBase = sent;
                lastProgressNs = nowNs;
                stallCounted = false;
                BLOCKED.setVolatile(this, 0);
                loop.wake(this);
            }
        }
    }

    /**
     * Marks the flow queued; false if it already was.
     *
     * @return whether the caller should put it in the ready queue.
     */
    boolean markQueued()
    {
        return QUEUED.compareAndSet(this, 0, 1);
    }

    /**
     * Pauses the sender; must run on the sender's loop ({@link #senderLoop}), where every send happens.
     */
    void pauseOnLoop()
    {
        paused = true;
    }

    /**
     * Resumes a paused sender; must run on the sender's loop.
     *
     * @param nowNs the loop's clock.
     */
    void resumeOnLoop(final long nowNs)
    {
        if (traffic.rateLimited)
        {
            rateOffset = Math.max(rateOffset, traffic.allowedBy(nowNs) - sent - 1);
        }
        // The pause is no stall.
        lastAckedSeen = acked;
        lastProgressNs = nowNs;
        stallCounted = false;
        paused = false;
        senderLoop.wake(this);
    }

    /**
     * @return packets sent that have neither arrived nor been skipped by a later one (any thread).
     */
    long outstanding()
    {
        return sent - delivered - gapLost;
    }

    /**
     * The sender's connection went away: the flow cannot send any more.
     */
    void senderLost()
    {
        active = false;
    }

    // ---------------------------------------------------------------------------------------------------------------
    // Receiver side, on the receiver's event loop.

    /**
     * Accounts one packet of this flow and acknowledges it.
     *
     * @param disco     its kind.
     * @param sequence  its per-kind sequence number.
     * @param latencyNs now minus its send time.
     * @param loop      the receiver's loop context (latency recorder).
     */
    void onReceived(final boolean disco, final long sequence, final long latencyNs, final LoopContext loop)
    {
        final long expect = disco ? expectDisco : expectData;
        if (sequence < expect || sequence < 0)
        {
            DUPLICATES.setRelease(this, duplicates + 1);
            return;
        }
        if (sequence > expect)
        {
            GAP_LOST.setRelease(this, gapLost + (sequence - expect));
        }
        if (disco)
        {
            expectDisco = sequence + 1;
        }
        else
        {
            expectData = sequence + 1;
        }
        // Recorded before it counts as delivered: once the reporter sees every packet delivered, every latency is in.
        loop.recordLatency(latencyNs);
        DELIVERED.setRelease(this, delivered + 1);
        final long nowAcked = expectData + expectDisco;
        acked = nowAcked;
        // Wake the sender once half the window is free, not for every packet: a wake-up crosses threads and each
        // pump run ends in a flush, so waking per packet would measure the wake-ups. While more than half is in
        // flight, more acknowledgements are on their way (or the stall check steps in).
        if (1 == blocked && sent - nowAcked <= traffic.wakeThreshold && BLOCKED.compareAndSet(this, 1, 0))
        {
            senderLoop.wake(this);
        }
    }

    // ---------------------------------------------------------------------------------------------------------------
    // Counters, any thread.

    long sent()
    {
        return sent;
    }

    long delivered()
    {
        return delivered;
    }

    long gapLost()
    {
        return gapLost;
    }

    long duplicates()
    {
        return duplicates;
    }

    long stalls()
    {
        return stalls;
    }

    long sendFailures()
    {
        return sendFailures;
    }
}
