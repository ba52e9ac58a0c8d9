package io.jderper.transport.http;

import io.jderper.core.log.ConnectionLogs;
import io.jderper.core.log.LogBudget;
import io.jderper.core.protocol.Violation;
import io.jderper.core.router.RelayMetrics;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.util.concurrent.ScheduledFuture;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.time.Duration;
import java.util.concurrent.TimeUnit;

/**
 * Closes a connection that has not finished a stage (a TLS handshake, an HTTP request) by an absolute deadline,
 * counting and logging it once. Unlike a read-idle timeout, bytes trickled in do not push the deadline back, so a
 * slowloris client is bounded too. Subclasses say what ends (or restarts) the stage; the timer starts at accept.
 */
abstract class StageDeadline extends ChannelInboundHandlerAdapter
{
    private static final Logger LOG = LoggerFactory.getLogger(StageDeadline.class);

    private final long timeoutMs;
    private final RelayMetrics metrics;
    private final Violation violation;
    private ScheduledFuture<?> timer;

    StageDeadline(final Duration timeout, final RelayMetrics metrics, final Violation violation)
    {
        this.timeoutMs = timeout.toMillis();
        this.metrics = metrics;
        this.violation = violation;
    }

    /**
     * @return the stage, for the log line ("TLS handshake").
     */
    abstract String stage();

    @Override
    public void handlerAdded(final ChannelHandlerContext ctx)
    {
        if (ctx.channel().isActive())
        {
            start(ctx);
        }
    }

    @Override
    public void channelActive(final ChannelHandlerContext ctx)
    {
        if (null == timer)
        {
            start(ctx);
        }
        ctx.fireChannelActive();
    }

    @Override
    public void channelInactive(final ChannelHandlerContext ctx)
    {
        cancel();
        ctx.fireChannelInactive();
    }

    @Override
    public void handlerRemoved(final ChannelHandlerContext ctx)
    {
        cancel();
    }

    /**
     * Starts the stage's clock afresh.
     */
    final void start(final ChannelHandlerContext ctx)
    {
        cancel();
        timer = ctx.executor().schedule(() -> expire(ctx), timeoutMs, TimeUnit.MILLISECONDS);
    }

    /**
     * Stops the clock: the stage is done.
     */
    final void cancel()
    {
        if (null != timer)
        {
            timer.cancel(false);
            timer = null;
        }
    }

    private void expire(final ChannelHandlerContext ctx)
    {
        timer = null;
        if (!ctx.channel().isActive())
        {
            return;
        }
        metrics.violation(violation);
        final long skipped = ConnectionLogs.VIOLATIONS.take(violation);
        if (skipped >= 0)
        {
            LOG.info("closing connection from {}: {} not finished within {} ms ({}){}", ctx.channel().remoteAddress(),
                stage(), timeoutMs, violation.label(), LogBudget.skippedNote(skipped));
        }
        ctx.close();
    }
}
