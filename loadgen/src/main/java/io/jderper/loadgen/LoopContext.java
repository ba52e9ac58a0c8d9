package io.jderper.loadgen;

import io.netty.channel.EventLoop;
import io.netty.util.concurrent.ScheduledFuture;
import org.HdrHistogram.Histogram;
import org.HdrHistogram.SingleWriterRecorder;
import org.agrona.concurrent.ManyToOneConcurrentArrayQueue;
import org.agrona.concurrent.UnsafeBuffer;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * Per event loop state of the load generator: the senders that live on the loop and the pump that feeds them, the
 * packet templates, and the latency recorder the loop's receivers write to (one writer per recorder).
 *
 * <p>The pump is event driven: a flow whose window was full is put in the {@link #ready} queue by its receiver (from
 * any loop) and the pump runs once per wake-up, however many flows were queued. Rate-limited traffic also has a
 * 1 ms tick that pumps every flow; a 250 ms housekeeping tick looks for stalls.
 */
final class LoopContext implements Runnable
{
    /** Period of the rate tick. */
    static final long RATE_TICK_US = 1000;
    /** Period of the stall check. */
    static final long HOUSEKEEPING_MS = 250;
    /** Most queued flows one pump run serves before yielding the loop. */
    static final int DRAIN_LIMIT = 4096;

    private static final VarHandle MALFORMED;

    static
    {
        try
        {
            MALFORMED = MethodHandles.lookup().findVarHandle(LoopContext.class, "malformed", long.class);
        }
        catch (final ReflectiveOperationException ex)
        {
            throw new ExceptionInInitializerError(ex);
        }
    }

    final EventLoop loop;
    final UnsafeBuffer dataTemplate;
    final UnsafeBuffer discoTemplate;
    private final ManyToOneConcurrentArrayQueue<Flow> ready;
    private final AtomicBoolean scheduled = new AtomicBoolean();
    private final SingleWriterRecorder latency = new SingleWriterRecorder(3);
    private Histogram recycled;

    // Loop only, after start().
    private final List<Flow> flows = new ArrayList<>();
    private ScheduledFuture<?> rateTick;
    private ScheduledFuture<?> housekeeping;

    private volatile long malformed;

    LoopContext(final EventLoop loop, final int packetSize, final int maxFlows, final long seed)
    {
        this.loop = loop;
        this.ready = new ManyToOneConcurrentArrayQueue<>(Math.max(2, maxFlows));
        final SplittableRandom random = new SplittableRandom(seed);
        this.dataTemplate = new UnsafeBuffer(new byte[packetSize]);
        this.discoTemplate = new UnsafeBuffer(new byte[Math.max(packetSize, PayloadDescriptor.MIN_DISCO_LENGTH)]);
        PayloadDescriptor.fillTemplate(dataTemplate, false, random);
        PayloadDescriptor.fillTemplate(discoTemplate, true, random);
    }

    /**
     * Starts sending (any thread): the flows whose sender lives on this loop begin at once.
     *
     * @param traffic  the run's shared traffic settings.
     * @param myFlows  flows whose sender is on this loop.
     */
    void start(final Traffic traffic, final List<Flow> myFlows)
    {
        loop.execute(() ->
        {
            flows.addAll(myFlows);
            if (traffic.rateLimited)
            {
                rateTick = loop.scheduleAtFixedRate(this::pumpAll, RATE_TICK_US, RATE_TICK_US, TimeUnit.MICROSECONDS);
            }
            housekeeping = loop.scheduleAtFixedRate(this::checkStalls, HOUSEKEEPING_MS, HOUSEKEEPING_MS,
                TimeUnit.MILLISECONDS);
            pumpAll();
        });
    }

    /**
     * Stops the ticks (any thread); flows stop through {@link Traffic#stop()}.
     */
    void stop()
    {
        loop.execute(() ->
        {
            if (null != rateTick)
            {
                rateTick.cancel(false);
            }
            if (null != housekeeping)
            {
                housekeeping.cancel(false);
            }
        });
    }

    /**
     * Puts a flow in the ready queue and makes sure a pump run follows (any thread).
     *
     * @param flow a flow whose sender is on this loop.
     */
    void wake(final Flow flow)
    {
        if (flow.markQueued())
        {
            // Never fails: the queue holds every flow and a flow is in it at most once.
            ready.offer(flow);
        }
        if (scheduled.compareAndSet(false, true))
        {
            loop.execute(this);
        }
    }

    /**
     * The pump: serves the queued flows.
     */
    @Override
    public void run()
    {
        scheduled.set(false);
        final long nowNs = System.nanoTime();
        for (int i = 0; i < DRAIN_LIMIT; i++)
        {
            final Flow flow = ready.poll();
            if (null == flow)
            {
                return;
            }
            flow.pump(this, nowNs);
        }
        if (!ready.isEmpty() && scheduled.compareAndSet(false, true))
        {
            loop.execute(this);
        }
    }

    private void pumpAll()
    {
        final long nowNs = System.nanoTime();
        for (int i = 0, n = flows.size(); i < n; i++)
        {
            flows.get(i).pump(this, nowNs);
        }
    }

    private void checkStalls()
    {
        final long nowNs = System.nanoTime();
        for (int i = 0, n = flows.size(); i < n; i++)
        {
            flows.get(i).checkStall(this, nowNs);
        }
    }

    /**
     * @param latencyNs one packet's one-way latency; on this loop only.
     */
    void recordLatency(final long latencyNs)
    {
        latency.recordValue(Math.max(0, latencyNs));
    }

    /**
     * Counts a packet that is not one of ours or not intact; on this loop only.
     */
    void malformed()
    {
        MALFORMED.setRelease(this, malformed + 1);
    }

    long malformedCount()
    {
        return malformed;
    }

    /**
     * Moves what was recorded since the last call into {@code into}; the reporter thread only.
     *
     * @param into the histogram that accumulates this interval over every loop.
     */
    void drainLatency(final Histogram into)
    {
        final Histogram interval = latency.getIntervalHistogram(recycled);
        into.add(interval);
        recycled = interval;
    }
}
