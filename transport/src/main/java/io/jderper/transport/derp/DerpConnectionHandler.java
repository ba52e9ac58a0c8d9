package io.jderper.transport.derp;

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
import io.netty.buffer.CompositeByteBuf;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import org.agrona.DirectBuffer;
import org.agrona.concurrent.UnsafeBuffer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.net.InetSocketAddress;

/**
 * Reads DERP frames from an upgraded connection and writes what the relay core sends back; the core's view of
 * the connection ({@link ClientChannel}).
 *
 * <p>Inbound bytes are not merged into one buffer: a frame split over several reads is held as a composite of
 * the read buffers, and a packet's data is copied exactly once, from those buffers into the RecvPacket frame
 * the receiver will write. Only a frame still incomplete at the end of a read keeps a composite alive, so an
 * idle connection holds no inbound buffer. Frames are checked at their header (spec §4.2): a length that can
 * never be valid closes the connection before anything is buffered, unknown types are skipped as they stream by.
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
    private CompositeByteBuf pending;
    private long skipRemaining;
    private boolean closed;

    /**
     * @param loops    the relay loops.
     * @param notIdeal whether the upgrade request carried an Ideal-Node header.
     */
    public DerpConnectionHandler(final RelayLoops loops, final boolean notIdeal)
    {
        this.loops = loops;
        this.metrics = loops.router().metrics();
        this.notIdeal = notIdeal;
    }

    @Override
    public void handlerAdded(final ChannelHandlerContext ctx)
    {
        this.ctx = ctx;
        this.loop = loops.of(ctx.channel().eventLoop());
        final InetSocketAddress remote = ctx.channel().remoteAddress() instanceof InetSocketAddress address ?
            address : null;
        this.session = loop.relay().newSession(this, remote, notIdeal);
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
        if (closed)
        {
            in.release();
            return;
        }
        if (null == pending)
        {
            process(in);
            if (in.isReadable() && !closed)
            {
                pending = ctx.alloc().compositeDirectBuffer(64);
                pending.addComponent(true, in);
            }
            else
            {
                in.release();
            }
        }
        else
        {
            pending.addComponent(true, in);
            process(pending);
            releasePendingIfDrained();
        }
    }

    private void releasePendingIfDrained()
    {
        if (null == pending)
        {
            return;
        }
        if (!pending.isReadable() || closed)
        {
            pending.release();
            pending = null;
        }
        else
        {
            pending.discardReadComponents();
        }
    }

    private void process(final ByteBuf in)
    {
        try
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
                if (session.isAdmitting() || in.readableBytes() < FrameHeader.LENGTH)
                {
                    return;
                }
                final int at = in.readerIndex();
                final byte type = in.getByte(at);
                final long length = in.getUnsignedInt(at + 1);
                if (session.awaitsClientInfo())
                {
                    FrameRules.checkFirstFrame(type, length);
                    if (!readClientInfo(in, type, (int)length))
                    {
                        return;
                    }
                    continue;
                }
                if (FrameRules.SKIP == FrameRules.check(type, length, session.isMeshPrivileged()))
                {
                    in.skipBytes(FrameHeader.LENGTH);
                    skipRemaining = length;
                    session.onSkippedFrame(type);
                    continue;
                }
                if (in.readableBytes() - FrameHeader.LENGTH < length)
                {
                    return;
                }
                dispatch(in, type, (int)length);
                in.skipBytes(FrameHeader.LENGTH + (int)length);
            }
        }
        catch (final ProtocolException ex)
        {
            onViolation(ex.violation(), ex.getMessage());
        }
    }

    private boolean readClientInfo(final ByteBuf in, final byte type, final int length)
    {
        if (in.readableBytes() - FrameHeader.LENGTH < length)
        {
            return false;
        }
        // Once per connection: a plain array is fine here.
        final byte[] payload = new byte[length];
        in.getBytes(in.readerIndex() + FrameHeader.LENGTH, payload);
        in.skipBytes(FrameHeader.LENGTH + length);
        session.onClientInfo(type, new UnsafeBuffer(payload), 0, length);
        return true;
    }

    private void dispatch(final ByteBuf in, final byte type, final int length)
    {
        final int payloadAt = in.readerIndex() + FrameHeader.LENGTH;
        final UnsafeBuffer scratch = loop.scratch();
        switch (type)
        {
            case FrameType.SEND_PACKET -> relay(in, payloadAt, length, ProtocolLimits.KEY_LENGTH, false);
            case FrameType.FORWARD_PACKET -> relay(in, payloadAt, length, 2 * ProtocolLimits.KEY_LENGTH, true);
            default ->
            {
                // Control frames are at most 1000 bytes (Ping): copy them into the loop's scratch.
                in.getBytes(payloadAt, scratch.byteArray(), 0, length);
                session.onFrame(type, scratch, 0, length);
            }
        }
    }

    private void relay(final ByteBuf in, final int payloadAt, final int length, final int keysLength,
        final boolean forwarded)
    {
        final int dataLength = length - keysLength;
        final UnsafeBuffer head = loop.scratch();
        // Keys plus enough data to recognise disco: routing reads only these bytes.
        in.getBytes(payloadAt, head.byteArray(), 0, keysLength + Math.min(DISCO_PREFIX, dataLength));
        final ByteBuf frame = forwarded ?
            session.beginForwardPacket(head, 0, dataLength) : session.beginSendPacket(head, 0, dataLength);
        if (null != frame)
        {
            frame.writeBytes(in, payloadAt + keysLength, dataLength);
            session.completePacket(frame);
        }
    }

    private void onViolation(final Violation violation, final String message)
    {
        metrics.violation(violation);
        LOG.info("closing {}: {} ({})", session.describe(), message, violation.label());
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
        session.onWritabilityChanged(ctx.channel().isWritable());
        ctx.fireChannelWritabilityChanged();
    }

    @Override
    public void channelInactive(final ChannelHandlerContext ctx)
    {
        final boolean midFrame = skipRemaining > 0 || (null != pending && pending.isReadable());
        closed = true;
        if (null != pending)
        {
            pending.release();
            pending = null;
        }
        if (midFrame)
        {
            metrics.violation(Violation.TRUNCATED_FRAME);
            LOG.debug("{} closed in the middle of a frame", session.describe());
        }
        session.onClosed();
        ctx.fireChannelInactive();
    }

    @Override
    public void handlerRemoved(final ChannelHandlerContext ctx)
    {
        if (null != pending)
        {
            pending.release();
            pending = null;
        }
    }

    @Override
    public void exceptionCaught(final ChannelHandlerContext ctx, final Throwable cause)
    {
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
        if (reading && null != pending && !closed)
        {
            // Frames that arrived behind ClientInfo while admission ran.
            process(pending);
            releasePendingIfDrained();
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
    public void execute(final Runnable task)
    {
        ctx.channel().eventLoop().execute(task);
    }
}
