package io.jderper.transport.derp;

import io.jderper.core.router.RelayLoop;
import io.jderper.core.router.Router;
import io.jderper.transport.io.TcpRttReader;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.netty.channel.EventLoop;
import io.netty.channel.EventLoopGroup;
import io.netty.util.concurrent.EventExecutor;
import io.netty.util.concurrent.ScheduledFuture;
import org.agrona.concurrent.SystemNanoClock;
import org.agrona.concurrent.UnsafeBuffer;

import java.util.ArrayList;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * One {@link RelayLoop} per Netty event loop, created when the group starts and found by the loop a connection
 * lives on. Also starts each loop's housekeeping tick (handshake deadlines, keepalives, write timeouts).
 */
public final class RelayLoops
{
    /** Housekeeping period: bounds how late a deadline can fire. */
    public static final long TICK_MS = 250;

    private final Map<EventExecutor, PerLoop> byExecutor = new IdentityHashMap<>();
    private final List<ScheduledFuture<?>> ticks = new ArrayList<>();
    private final Router<ByteBuf> router;

    /**
     * @param group     the event loops that serve DERP connections.
     * @param router    the shared router.
     * @param allocator where packet frames come from.
     */
    public RelayLoops(final EventLoopGroup group, final Router<ByteBuf> router, final ByteBufAllocator allocator)
    {
        this.router = router;
        final ByteBufPacketFrames frames = new ByteBufPacketFrames(allocator);
        for (final EventExecutor executor : group)
        {
            final RelayLoop<ByteBuf> loop = new RelayLoop<>(router, executor, frames, SystemNanoClock.INSTANCE);
            byExecutor.put(executor, new PerLoop(loop, new UnsafeBuffer(new byte[
                io.jderper.core.protocol.ProtocolLimits.MAX_PING_LENGTH + 96]), new TcpRttReader()));
            ticks.add(executor.scheduleAtFixedRate(loop::onTick, TICK_MS, TICK_MS, TimeUnit.MILLISECONDS));
        }
    }

    /**
     * @return the shared router.
     */
    public Router<ByteBuf> router()
    {
        return router;
    }

    PerLoop of(final EventLoop eventLoop)
    {
        final PerLoop loop = byExecutor.get(eventLoop);
        if (null == loop)
        {
            throw new IllegalStateException("no relay loop for event loop " + eventLoop);
        }
        return loop;
    }

    /**
     * @return total sessions on all loops (read from other threads: a hint, not exact).
     */
    public int sessionCountHint()
    {
        int total = 0;
        for (final PerLoop each : byExecutor.values())
        {
            total += each.relay().sessionCount();
        }
        return total;
    }

    /**
     * Starts a graceful shutdown on every loop: each client gets Restarting, its queued packets and its close.
     *
     * @param reconnectInMs earliest reconnect hint.
     * @param jitterMs      spread of the hint over clients.
     * @param tryForMs      how long clients should keep trying.
     */
    public void announceRestart(final int reconnectInMs, final int jitterMs, final int tryForMs)
    {
        for (final Map.Entry<EventExecutor, PerLoop> each : byExecutor.entrySet())
        {
            final RelayLoop<ByteBuf> relay = each.getValue().relay();
            each.getKey().execute(() -> relay.announceRestart(reconnectInMs, jitterMs, tryForMs));
        }
    }

    /**
     * Stops the housekeeping ticks.
     */
    public void stop()
    {
        ticks.forEach(tick -> tick.cancel(false));
    }

    /**
     * A loop's relay state plus scratch memory its connections share (they never run concurrently).
     *
     * @param relay   the relay loop.
     * @param scratch holds control-frame payloads and packet heads while they are dispatched.
     * @param tcpRtt  reads the connections' TCP round-trip times.
     */
    record PerLoop(RelayLoop<ByteBuf> relay, UnsafeBuffer scratch, TcpRttReader tcpRtt)
    {
    }
}
