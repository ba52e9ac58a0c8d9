package io.jderper.transport.derp;

import io.jderper.core.log.ConnectionLogs;
import io.jderper.core.log.LogBudget;
import io.jderper.core.protocol.FrameHeader;
import io.jderper.core.protocol.FrameRules;
import io.jderper.core.protocol.FrameType;
import io.jderper.core.protocol.ProtocolException;
import io.jderper.core.protocol.ProtocolLimits;
import io.jderper.core.protocol.Violation;
import io.jderper.core.router.ClientChannel;
import io.jderper.core.router.ClientSession;
import io.jderper.core.router.RelayMetrics;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.handler.codec.DecoderException;
import org.agrona.DirectBuffer;
import org.agrona.concurrent.UnsafeBuffer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import javax.net.ssl.SSLException;

/**
 * Reads DERP frames from an upgraded connection and writes what the relay core sends back; the core's view of
 * the connection ({@link ClientChannel}).
 *
 * <p>Packet data is copied once, from the read buffers straight into the RecvPacket frame the receiver will
 * write: as soon as a SendPacket's destination key and first data bytes are at hand the frame is started, and the
 * rest of the data is appended as it arrives, however many reads it spans. Only the few bytes of a unit cut by a
 * read boundary before that point (a header, the keys and up to six data bytes, or a small control frame) are
 * carried over in a small pooled buffer, which is returned as soon as it empties: an idle connection holds no
 * inbound buffer. Frames are checked at their header (spec §4.2): a length that can never be valid closes the
 * connection before anything is buffered, unknown types are skipped as they stream by.
 */
public final class DerpConnectionHandler extends ChannelInboundHandlerAdapter implements ClientChannel<ByteBuf>
{
    private static final Logger LOG = LoggerFactory.getLogger(DerpConnectionHandler.class);
    private static final int DISCO_PREFIX = 6;

    private final RelayLoops loops;
    private final RelayMetrics metrics;
    private final boolean notIdeal;
    private ChannelHandlerContext ctx;
    private RelayLoops.PerLoop loop;
    private ClientSession<ByteBuf> session;
    /** Until the session takes it. */
    private String bearerToken;
    /** Bytes of an unfinished unit (or, while admission runs, everything read), or null. */
    private ByteBuf carry;
    /** A RecvPacket frame still receiving data, or null. */
    private ByteBuf filling;
    private int fillRemaining;
    private long skipRemaining;
    private boolean closed;
    /** The frame at the head of the input has been charged to the receive rate limit. */
    private boolean frameCharged;
    /** Reading stopped until the receive rate limit's debt is paid. */
    private boolean throttled;
    private final Runnable resumeAfterThrottle = this::resumeAfterThrottle;
    private final long frameReadTimeoutMs;
    private final Runnable checkFrameStall = this::checkFrameStall;
    /** Reads so far, and at the last stall check: equal a timeout later means no byte arrived meanwhile. */
    private long reads;
    private long readsAtStallCheck;
    private boolean stallCheckPending;
    /** The pending stall check or throttle resumption: cancelled on close, so the loop's timer queue stops holding
     * the closed connection (its channel, pipeline and TLS engine) for up to the frame-read timeout. */
    private ScheduledFuture<?> stallCheck;
    private ScheduledFuture<?> throttleEnd;

    /**
     * @param loops       the relay loops.
     * @param notIdeal    whether the upgrade request carried an Ideal-Node header.
     * @param bearerToken the upgrade request's bearer token, or null; handed to admission.
     * @param frameReadTimeout how long a begun frame may go without a byte arriving before the connection is closed.
     */
    public DerpConnectionHandler(final RelayLoops loops, final boolean notIdeal, final String bearerToken,
        final Duration frameReadTimeout)
    {
        this.loops = loops;
        this.frameReadTimeoutMs = frameReadTimeout.toMillis();
        this.metrics = loops.router().metrics();
        this.notIdeal = notIdeal;
        this.bearerToken = bearerToken;
    }

    @Override
    public void handlerAdded(final ChannelHandlerContext ctx)
    {
        this.ctx = ctx;
        this.loop = loops.of(ctx.channel().eventLoop());
        final InetSocketAddress remote = ctx.channel().remoteAddress() instanceof InetSocketAddress address ?
            address : null;
        this.session = loop.relay().newSession(this, remote, notIdeal, bearerToken);
        bearerToken = null;
    }

    @Override
    public void channelRead(final ChannelHandlerContext ctx, final Object msg)
    {
        if (!(msg instanceof ByteBuf in))
        {
            // Only bytes flow after the upgrade; anything else is a leftover HTTP object with no content.
            io.netty.util.ReferenceCountUtil.release(msg);
            return;
        }
        reads++;
        try
        {
            if (null != carry)
            {
                topUpCarry(in);
            }
            if (null == carry)
            {
                process(in);
            }
            if (in.isReadable() && !closed)
            {
                appendToCarry(in, in.readableBytes());
            }
        }
        catch (final ProtocolException ex)
        {
            onViolation(ex.violation(), ex.getMessage());
        }
        finally
        {
            in.release();
            if (closed)
            {
                releaseBuffers();
            }
            else if (!stallCheckPending && midFrame())
            {
                scheduleStallCheck();
            }
        }
    }

    /**
     * @return whether a frame has begun and not ended: its header, part of it or bytes to skip are pending.
     */
    private boolean midFrame()
    {
        return skipRemaining > 0 || null != filling || (null != carry && carry.isReadable());
    }

    private void scheduleStallCheck()
    {
        // One timer per connection at most, and only while a frame is unfinished across reads: nothing per packet.
        stallCheckPending = true;
        readsAtStallCheck = reads;
        stallCheck = ctx.executor().schedule(checkFrameStall, frameReadTimeoutMs, TimeUnit.MILLISECONDS);
    }

    private void checkFrameStall()
    {
        stallCheck = null;
        stallCheckPending = false;
        if (closed || !midFrame())
        {
            return;
        }
        if (reads == readsAtStallCheck && !throttled)
        {
            // Dropped here, so that the close is not counted as a truncated frame as well.
            skipRemaining = 0;
            releaseBuffers();
            onViolation(Violation.FRAME_STALLED, "no byte of a begun frame for " + frameReadTimeoutMs + " ms");
            return;
        }
        scheduleStallCheck();
    }

    /**
     * Moves just enough bytes from {@code in} into the carry buffer to finish its unit, processes it, and repeats
     * until the carry is empty (then {@code in} is read directly) or {@code in} is exhausted.
     */
    private void topUpCarry(final ByteBuf in)
    {
        while (null != carry && !closed)
        {
            final int needed = bytesNeeded(carry);
            if (needed > 0)
            {
                if (!in.isReadable())
                {
                    return;
                }
                appendToCarry(in, Math.min(needed, in.readableBytes()));
                if (bytesNeeded(carry) > 0)
                {
                    return;
                }
            }
            process(carry);
            if (!carry.isReadable())
            {
                carry.release();
                carry = null;
            }
            else if (session.isAdmitting() || throttled)
            {
                return;
            }
        }
    }

    /**
     * How many more bytes the unit at the head of {@code buffer} needs before {@link #process} can act on it.
     */
    private int bytesNeeded(final ByteBuf buffer)
    {
        final int readable = buffer.readableBytes();
        if (session.isAdmitting() || throttled)
        {
            return Integer.MAX_VALUE;
        }
        if (skipRemaining > 0 || null != filling)
        {
            return 0;
        }
        if (readable < FrameHeader.LENGTH)
        {
            return FrameHeader.LENGTH - readable;
        }
        final int at = buffer.readerIndex();
        final byte type = buffer.getByte(at);
        final long length = buffer.getUnsignedInt(at + 1);
        final long unit;
        if (session.awaitsClientInfo())
        {
            FrameRules.checkFirstFrame(type, length);
            unit = FrameHeader.LENGTH + length;
        }
        else if (FrameRules.SKIP == FrameRules.check(type, length, session.isMeshPrivileged()))
        {
            return 0;
        }
        else if (FrameType.SEND_PACKET == type || FrameType.FORWARD_PACKET == type)
        {
            unit = FrameHeader.LENGTH + headLength(type, length);
        }
        else
        {
            unit = FrameHeader.LENGTH + length;
        }
        return (int)Math.max(0, unit - readable);
    }

    private static int headLength(final byte type, final long length)
    {
        final int keys = FrameType.SEND_PACKET == type ? ProtocolLimits.KEY_LENGTH : 2 * ProtocolLimits.KEY_LENGTH;
        return keys + (int)Math.min(DISCO_PREFIX, length - keys);
    }

    private void appendToCarry(final ByteBuf in, final int length)
    {
        if (null == carry)
        {
            carry = ctx.alloc().directBuffer(Math.max(128, length));
        }
        carry.writeBytes(in, length);
    }

    /**
     * Acts on every complete unit at the head of {@code in}, leaving an incomplete one unread.
     */
    private void process(final ByteBuf in)
    {
        while (!closed && in.isReadable())
        {
            if (skipRemaining > 0)
            {
                final int skip = (int)Math.min(skipRemaining, in.readableBytes());
                in.skipBytes(skip);
                skipRemaining -= skip;
                continue;
            }
            if (null != filling)
            {
                fill(in);
                continue;
            }
            if (session.isAdmitting() || throttled || in.readableBytes() < FrameHeader.LENGTH)
            {
                return;
            }
            final int at = in.readerIndex();
            final byte type = in.getByte(at);
            final long length = in.getUnsignedInt(at + 1);
            if (session.awaitsClientInfo())
            {
                FrameRules.checkFirstFrame(type, length);
                if (in.readableBytes() - FrameHeader.LENGTH < length)
                {
                    return;
                }
                readClientInfo(in, type, (int)length);
                continue;
            }
            if (!frameCharged)
            {
                // Charged once the header is here, before the payload is read, as derper (spec §4.8).
                frameCharged = true;
                final long waitNs = session.chargeFrame(length);
                if (waitNs > 0)
                {
                    throttle(waitNs);
                    return;
                }
            }
            if (FrameRules.SKIP == FrameRules.check(type, length, session.isMeshPrivileged()))
            {
                frameCharged = false;
                in.skipBytes(FrameHeader.LENGTH);
                skipRemaining = length;
                session.onSkippedFrame(type);
                continue;
            }
            if (FrameType.SEND_PACKET == type || FrameType.FORWARD_PACKET == type)
            {
                if (in.readableBytes() - FrameHeader.LENGTH < headLength(type, length))
                {
                    return;
                }
                frameCharged = false;
                startPacket(in, type, (int)length);
                continue;
            }
            if (in.readableBytes() - FrameHeader.LENGTH < length)
            {
                return;
            }
            // Control frames are at most 1000 bytes (Ping): copy them into the loop's scratch.
            final UnsafeBuffer scratch = loop.scratch();
            in.getBytes(at + FrameHeader.LENGTH, scratch.byteArray(), 0, (int)length);
            in.skipBytes(FrameHeader.LENGTH + (int)length);
            frameCharged = false;
            session.onFrame(type, scratch, 0, (int)length);
        }
    }

    /**
     * Stops reading for {@code waitNs}: what the kernel holds stays unread, so TCP slows the client down; what was
     * already read waits in the carry buffer.
     */
    private void throttle(final long waitNs)
    {
        throttled = true;
        ctx.channel().config().setAutoRead(false);
        throttleEnd = ctx.executor().schedule(resumeAfterThrottle, waitNs, TimeUnit.NANOSECONDS);
    }

    private void resumeAfterThrottle()
    {
        throttleEnd = null;
        if (closed)
        {
            return;
        }
        throttled = false;
        setReading(true);
    }

    private void readClientInfo(final ByteBuf in, final byte type, final int length)
    {
        // Once per connection: a plain array is fine here.
        final byte[] payload = new byte[length];
        in.getBytes(in.readerIndex() + FrameHeader.LENGTH, payload);
        in.skipBytes(FrameHeader.LENGTH + length);
        session.onClientInfo(type, new UnsafeBuffer(payload), 0, length);
    }

    private void startPacket(final ByteBuf in, final byte type, final int length)
    {
        final boolean forwarded = FrameType.FORWARD_PACKET == type;
        final int keys = forwarded ? 2 * ProtocolLimits.KEY_LENGTH : ProtocolLimits.KEY_LENGTH;
        final int dataLength = length - keys;
        final UnsafeBuffer head = loop.scratch();
        // Keys plus enough data to recognise disco: routing reads only these bytes.
        in.getBytes(in.readerIndex() + FrameHeader.LENGTH, head.byteArray(), 0, headLength(type, length));
        in.skipBytes(FrameHeader.LENGTH + keys);
        final ByteBuf frame = forwarded ?
            session.beginForwardPacket(head, 0, dataLength) : session.beginSendPacket(head, 0, dataLength);
        if (null == frame)
        {
            skipRemaining = dataLength;
            return;
        }
        filling = frame;
        fillRemaining = dataLength;
        fill(in);
    }

    private void fill(final ByteBuf in)
    {
        // The one copy of the packet data: from the read buffer into the receiver's frame.
        final int length = Math.min(fillRemaining, in.readableBytes());
        filling.writeBytes(in, length);
        fillRemaining -= length;
        if (0 == fillRemaining)
        {
            final ByteBuf frame = filling;
            filling = null;
            session.completePacket(frame);
        }
    }

    private void releaseBuffers()
    {
        if (null != carry)
        {
            carry.release();
            carry = null;
        }
        if (null != filling)
        {
            filling.release();
            filling = null;
            session.abandonPacket();
        }
    }

    private void onViolation(final Violation violation, final String message)
    {
        metrics.violation(violation);
        final long skipped = ConnectionLogs.VIOLATIONS.take(violation);
        if (skipped >= 0)
        {
            LOG.info("closing {}: {} ({}){}", session.describe(), message, violation.label(),
                LogBudget.skippedNote(skipped));
        }
        close();
    }

    @Override
    public void channelReadComplete(final ChannelHandlerContext ctx)
    {
        loop.relay().flushDirty();
        ctx.fireChannelReadComplete();
    }

    @Override
    public void channelWritabilityChanged(final ChannelHandlerContext ctx)
    {
        final boolean writable = ctx.channel().isWritable();
        session.onWritabilityChanged(writable);
        if (writable)
        {
            // Write what queued up for this client now, not at the loop's next read or tick (up to 250 ms later).
            loop.relay().flushDirty();
        }
        ctx.fireChannelWritabilityChanged();
    }

    @Override
    public void channelInactive(final ChannelHandlerContext ctx)
    {
        final boolean midFrame = midFrame();
        closed = true;
        releaseBuffers();
        cancelTimers();
        if (midFrame)
        {
            metrics.violation(Violation.TRUNCATED_FRAME);
            LOG.debug("{} closed in the middle of a frame ({})", session.describe(), Violation.TRUNCATED_FRAME.label());
        }
        session.onClosed();
        ctx.fireChannelInactive();
    }

    @Override
    public void handlerRemoved(final ChannelHandlerContext ctx)
    {
        releaseBuffers();
        cancelTimers();
    }

    private void cancelTimers()
    {
        if (null != stallCheck)
        {
            stallCheck.cancel(false);
            stallCheck = null;
        }
        if (null != throttleEnd)
        {
            throttleEnd.cancel(false);
            throttleEnd = null;
        }
    }

    @Override
    public void exceptionCaught(final ChannelHandlerContext ctx, final Throwable cause)
    {
        final Throwable tlsError = cause instanceof DecoderException ? cause.getCause() : cause;
        if (tlsError instanceof SSLException)
        {
            // TLS records the engine refuses after the handshake (a renegotiation, a forged record): the peer's
            // doing, not ours.
            onViolation(Violation.BAD_TRANSPORT, "TLS error: " + tlsError.getMessage());
            return;
        }
        if (cause instanceof DecoderException)
        {
            // The other decoder in front is DERP over WebSocket's: the client broke RFC 6455 framing (unmasked, over
            // the size limit, a bad opcode). The decoder has sent its close frame; that is bad input, not an error.
            onViolation(Violation.BAD_TRANSPORT, "bad WebSocket framing: " + cause.getMessage());
            return;
        }
        if (cause instanceof IOException)
        {
            LOG.debug("{}: {}", session.describe(), cause.toString());
        }
        else
        {
            LOG.warn("closing {} after an unexpected error", session.describe(), cause);
        }
        close();
    }

    // ClientChannel: the relay core's view of this connection. All on the event loop except execute().

    @Override
    public boolean isWritable()
    {
        return ctx.channel().isWritable();
    }

    @Override
    public long tcpRttMicros()
    {
        return loop.tcpRtt().rttMicros(ctx.channel());
    }

    @Override
    public void writePacket(final ByteBuf packet)
    {
        ctx.write(packet, ctx.voidPromise());
    }

    @Override
    public void writeControl(final DirectBuffer frame, final int offset, final int length)
    {
        final ByteBuf out = ctx.alloc().directBuffer(length);
        final byte[] array = frame.byteArray();
        if (null != array)
        {
            out.writeBytes(array, frame.wrapAdjustment() + offset, length);
        }
        else
        {
            for (int i = 0; i < length; i++)
            {
                out.writeByte(frame.getByte(offset + i));
            }
        }
        ctx.write(out, ctx.voidPromise());
    }

    @Override
    public void flush()
    {
        ctx.flush();
    }

    @Override
    public void setReading(final boolean reading)
    {
        ctx.channel().config().setAutoRead(reading);
        if (reading && null != carry && !closed)
        {
            // Frames that arrived behind ClientInfo while admission ran, or while the rate limit held reading.
            try
            {
                process(carry);
                if (!carry.isReadable())
                {
                    carry.release();
                    carry = null;
                }
            }
            catch (final ProtocolException ex)
            {
                onViolation(ex.violation(), ex.getMessage());
            }
            if (closed)
            {
                releaseBuffers();
            }
            loop.relay().flushDirty();
        }
    }

    @Override
    public void close()
    {
        if (!closed)
        {
            closed = true;
            ctx.close();
        }
    }

    @Override
    public void closeAfterFlush()
    {
        if (!closed)
        {
            // Completes once every earlier write has reached the socket; then the channel closes.
            ctx.writeAndFlush(Unpooled.EMPTY_BUFFER).addListener(ChannelFutureListener.CLOSE);
        }
    }

    @Override
    public void execute(final Runnable task)
    {
        ctx.channel().eventLoop().execute(task);
    }
}
