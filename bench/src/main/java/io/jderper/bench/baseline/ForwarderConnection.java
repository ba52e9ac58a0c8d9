package io.jderper.bench.baseline;

import io.jderper.core.handshake.ServerHandshake;
import io.jderper.core.protocol.FrameHeader;
import io.jderper.core.protocol.FrameType;
import io.jderper.core.protocol.ProtocolException;
import io.jderper.core.protocol.ProtocolLimits;
import io.jderper.core.protocol.Violation;
import io.netty.buffer.ByteBuf;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.util.ReferenceCountUtil;
import org.agrona.concurrent.UnsafeBuffer;

import java.nio.charset.StandardCharsets;
import java.util.Locale;

/**
 * One connection of the baseline, from the HTTP request to the end: the only handler after TLS.
 *
 * <p>Upgrade: reads the request head (at most 8 KiB), answers {@code GET /derp} with {@code Upgrade: DERP} by the
 * 101 and ServerKey (only ServerKey with {@code Derp-Fast-Start: 1}), anything else with an error and a close. Then
 * ClientInfo is opened and ServerInfo sent with relay-core's {@link ServerHandshake}, and the key is registered.
 *
 * <p>Packets: a SendPacket and a RecvPacket differ only in the type byte and the key, so a SendPacket that lies whole
 * in one read buffer is rewritten in place (type, then the sender's key over the destination's) and a retained slice
 * of the read buffer is written to the destination: no copy of the payload in our code. A SendPacket cut by a read
 * boundary is copied once into a new frame buffer as its bytes arrive. Ping is answered with Pong; every other frame is
 * skipped as it streams past. Bytes of a frame head cut by a read boundary are carried over in a small buffer.
 */
final class ForwarderConnection extends ChannelInboundHandlerAdapter
{
    private static final byte STATE_HTTP = 0;
    private static final byte STATE_CLIENT_INFO = 1;
    private static final byte STATE_READY = 2;
    private static final int MAX_HTTP_HEAD_BYTES = 8192;
    /** Header plus destination key: all a SendPacket needs before it can be routed. */
    private static final int PACKET_HEAD = FrameHeader.LENGTH + ProtocolLimits.KEY_LENGTH;
    private static final int PONG_FRAME_LENGTH = FrameHeader.LENGTH + ProtocolLimits.PING_DATA_LENGTH;
    private static final byte[] NOT_AN_UPGRADE = ("HTTP/1.1 426 Upgrade Required\r\n" +
        "Content-Length: 0\r\nConnection: close\r\n\r\n").getBytes(StandardCharsets.US_ASCII);

    private final ForwarderBaseline server;
    private final PeerKey probe = new PeerKey();
    private ChannelHandlerContext ctx;
    private ForwarderLoop loop;
    private byte state = STATE_HTTP;
    private PeerKey key;
    /** Bytes of an unfinished unit (the HTTP head, a frame head or a Ping), or null. */
    private ByteBuf carry;
    /** A RecvPacket frame cut by a read boundary, still receiving data, and where it goes. */
    private ByteBuf filling;
    private ForwarderConnection fillingDestination;
    private int fillRemaining;
    private long skipRemaining;
    private boolean dirty;
    private boolean closed;

    ForwarderConnection(final ForwarderBaseline server)
    {
        this.server = server;
    }

    ForwarderLoop loop()
    {
        return loop;
    }

    @Override
    public void handlerAdded(final ChannelHandlerContext ctx)
    {
        this.ctx = ctx;
        this.loop = server.loopOf(ctx.channel().eventLoop());
    }

    @Override
    public void channelRead(final ChannelHandlerContext ctx, final Object msg)
    {
        if (!(msg instanceof ByteBuf in))
        {
            ReferenceCountUtil.release(msg);
            return;
        }
        try
        {
            if (STATE_HTTP == state)
            {
                appendToCarry(in, in.readableBytes());
                readHttpHead();
                return;
            }
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
            close();
        }
        finally
        {
            in.release();
            if (closed)
            {
                releaseBuffers();
            }
        }
    }

    @Override
    public void channelReadComplete(final ChannelHandlerContext ctx)
    {
        loop.flushDirty();
        ctx.fireChannelReadComplete();
    }

    @Override
    public void channelInactive(final ChannelHandlerContext ctx)
    {
        closed = true;
        if (null != key)
        {
            server.peers().remove(key, this);
        }
        releaseBuffers();
        ctx.fireChannelInactive();
    }

    @Override
    public void handlerRemoved(final ChannelHandlerContext ctx)
    {
        releaseBuffers();
    }

    @Override
    public void exceptionCaught(final ChannelHandlerContext ctx, final Throwable cause)
    {
        close();
    }

    /**
     * Writes a whole frame to this connection without flushing; it is flushed when the current batch ends. On this
     * connection's loop only.
     *
     * @param frame the frame; ownership passes here.
     */
    void write(final ByteBuf frame)
    {
        if (closed)
        {
            frame.release();
            return;
        }
        final Channel channel = ctx.channel();
        if (!channel.isWritable() && channel.bytesBeforeWritable() > ForwarderBaseline.MAX_PENDING_BYTES)
        {
            // No drop policy: a receiver this far behind is broken, and the machine must not run out of memory.
            frame.release();
            close();
            return;
        }
        ctx.write(frame, ctx.voidPromise());
        if (!dirty)
        {
            dirty = true;
            loop.markDirty(this);
        }
    }

    /**
     * Flushes what {@link #write} wrote. On this connection's loop only.
     */
    void flush()
    {
        dirty = false;
        ctx.flush();
    }

    // -------------------------------------------------------------------------------------------------------------
    // Upgrade and handshake.

    private void readHttpHead()
    {
        final int end = headEnd(carry);
        if (end < 0)
        {
            if (carry.readableBytes() > MAX_HTTP_HEAD_BYTES)
            {
                close();
            }
            return;
        }
        final String head = carry.toString(carry.readerIndex(), end - carry.readerIndex(), StandardCharsets.US_ASCII);
        carry.readerIndex(end + 4);
        if (!isDerpUpgrade(head))
        {
            ctx.writeAndFlush(ctx.alloc().buffer(NOT_AN_UPGRADE.length).writeBytes(NOT_AN_UPGRADE))
                .addListener(f -> ctx.close());
            closed = true;
            return;
        }
        final byte[] response = hasHeader(head, "derp-fast-start", "1") ?
            server.serverKeyFrame() : server.upgradeResponse();
        ctx.writeAndFlush(ctx.alloc().buffer(response.length).writeBytes(response), ctx.voidPromise());
        state = STATE_CLIENT_INFO;
        // A fast-start ClientInfo (and whatever follows it) may already be here.
        process(carry);
        if (!carry.isReadable())
        {
            carry.release();
            carry = null;
        }
    }

    private static int headEnd(final ByteBuf buffer)
    {
        final int last = buffer.writerIndex() - 4;
        for (int i = buffer.readerIndex(); i <= last; i++)
        {
            if ('\r' == buffer.getByte(i) && '\n' == buffer.getByte(i + 1) && '\r' == buffer.getByte(i + 2) &&
                '\n' == buffer.getByte(i + 3))
            {
                return i;
            }
        }
        return -1;
    }

    private static boolean isDerpUpgrade(final String head)
    {
        final int lineEnd = head.indexOf("\r\n");
        final String requestLine = lineEnd < 0 ? head : head.substring(0, lineEnd);
        final String[] parts = requestLine.split(" ");
        if (3 != parts.length || !"GET".equals(parts[0]))
        {
            return false;
        }
        final String path = parts[1].indexOf('?') < 0 ? parts[1] : parts[1].substring(0, parts[1].indexOf('?'));
        return "/derp".equals(path) && (hasHeader(head, "upgrade", "derp") || hasHeader(head, "upgrade", "websocket"));
    }

    private static boolean hasHeader(final String head, final String name, final String value)
    {
        for (final String line : head.split("\r\n"))
        {
            final int colon = line.indexOf(':');
            if (colon > 0 && name.equals(line.substring(0, colon).trim().toLowerCase(Locale.ROOT)) &&
                value.equalsIgnoreCase(line.substring(colon + 1).trim()))
            {
                return true;
            }
        }
        return false;
    }

    private void onClientInfo(final ByteBuf in, final int at, final int length)
    {
        // Once per connection: plain arrays are fine here.
        final byte[] payload = new byte[length];
        in.getBytes(at + FrameHeader.LENGTH, payload);
        in.skipBytes(FrameHeader.LENGTH + length);
        final ServerHandshake handshake = server.handshake();
        final ServerHandshake.AuthenticatedClient client =
            handshake.openClientInfo(FrameType.CLIENT_INFO, new UnsafeBuffer(payload), 0, length);
        final byte[] serverInfo = client.serverInfoFrame();
        ctx.writeAndFlush(ctx.alloc().buffer(serverInfo.length).writeBytes(serverInfo), ctx.voidPromise());
        key = PeerKey.copyOf(client.key().toBytes());
        state = STATE_READY;
        // After ServerInfo went out: a packet for this client can only follow it.
        server.peers().put(key, this);
    }

    // -------------------------------------------------------------------------------------------------------------
    // Frames.

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
        }
    }

    /**
     * How many more bytes the unit at the head of {@code buffer} needs before {@link #process} can act on it.
     */
    private int bytesNeeded(final ByteBuf buffer)
    {
        if (skipRemaining > 0 || null != filling)
        {
            return 0;
        }
        final int readable = buffer.readableBytes();
        if (readable < FrameHeader.LENGTH)
        {
            return FrameHeader.LENGTH - readable;
        }
        final int at = buffer.readerIndex();
        final byte type = buffer.getByte(at);
        final long length = buffer.getUnsignedInt(at + 1);
        check(type, length);
        final long unit;
        if (STATE_CLIENT_INFO == state || FrameType.PING == type)
        {
            unit = FrameHeader.LENGTH + length;
        }
        else if (FrameType.SEND_PACKET == type)
        {
            unit = PACKET_HEAD;
        }
        else
        {
            return 0;
        }
        return (int)Math.max(0, unit - readable);
    }

    private void check(final byte type, final long length)
    {
        if (STATE_CLIENT_INFO == state)
        {
            if (FrameType.CLIENT_INFO != type || length < ProtocolLimits.MIN_CLIENT_INFO_LENGTH ||
                length > ProtocolLimits.MAX_CLIENT_INFO_LENGTH)
            {
                throw new ProtocolException(Violation.FIRST_FRAME_NOT_CLIENT_INFO,
                    "first frame type=" + FrameType.name(type) + " length=" + length);
            }
        }
        else if (FrameType.SEND_PACKET == type)
        {
            if (length < ProtocolLimits.KEY_LENGTH || length > ProtocolLimits.MAX_SEND_PACKET_LENGTH)
            {
                throw new ProtocolException(Violation.FRAME_LENGTH,
                    "SendPacket length=" + length);
            }
        }
        else if (FrameType.PING == type)
        {
            if (length < ProtocolLimits.MIN_PING_LENGTH || length > ProtocolLimits.MAX_PING_LENGTH)
            {
                throw new ProtocolException(Violation.FRAME_LENGTH, "Ping length=" + length);
            }
        }
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
            final int readable = in.readableBytes();
            if (readable < FrameHeader.LENGTH)
            {
                return;
            }
            final int at = in.readerIndex();
            final byte type = in.getByte(at);
            final long length = in.getUnsignedInt(at + 1);
            check(type, length);
            if (STATE_CLIENT_INFO == state)
            {
                if (readable - FrameHeader.LENGTH < length)
                {
                    return;
                }
                onClientInfo(in, at, (int)length);
            }
            else if (FrameType.SEND_PACKET == type)
            {
                final int frameLength = FrameHeader.LENGTH + (int)length;
                if (readable >= frameLength)
                {
                    forwardInPlace(in, at, frameLength);
                }
                else if (readable >= PACKET_HEAD)
                {
                    startFilling(in, at, (int)length);
                }
                else
                {
                    return;
                }
            }
            else if (FrameType.PING == type)
            {
                if (readable - FrameHeader.LENGTH < length)
                {
                    return;
                }
                pong(in.getLong(at + FrameHeader.LENGTH));
                in.skipBytes(FrameHeader.LENGTH + (int)length);
            }
            else
            {
                in.skipBytes(FrameHeader.LENGTH);
                skipRemaining = length;
            }
        }
    }

    private void forwardInPlace(final ByteBuf in, final int at, final int frameLength)
    {
        final ForwarderConnection destination = server.peers().get(probe.set(in, at + FrameHeader.LENGTH));
        if (null != destination)
        {
            in.setByte(at, FrameType.RECV_PACKET);
            key.setInto(in, at + FrameHeader.LENGTH);
            loop.deliver(destination, in.retainedSlice(at, frameLength));
        }
        in.skipBytes(frameLength);
    }

    private void startFilling(final ByteBuf in, final int at, final int length)
    {
        final ForwarderConnection destination = server.peers().get(probe.set(in, at + FrameHeader.LENGTH));
        final int dataLength = length - ProtocolLimits.KEY_LENGTH;
        in.skipBytes(PACKET_HEAD);
        if (null == destination)
        {
            skipRemaining = dataLength;
            return;
        }
        final ByteBuf frame = ctx.alloc().directBuffer(PACKET_HEAD + dataLength);
        frame.writeByte(FrameType.RECV_PACKET).writeInt(length);
        key.writeTo(frame);
        filling = frame;
        fillingDestination = destination;
        fillRemaining = dataLength;
        fill(in);
    }

    private void fill(final ByteBuf in)
    {
        final int length = Math.min(fillRemaining, in.readableBytes());
        filling.writeBytes(in, length);
        fillRemaining -= length;
        if (0 == fillRemaining)
        {
            final ByteBuf frame = filling;
            final ForwarderConnection destination = fillingDestination;
            filling = null;
            fillingDestination = null;
            loop.deliver(destination, frame);
        }
    }

    private void pong(final long data)
    {
        final ByteBuf out = ctx.alloc().directBuffer(PONG_FRAME_LENGTH);
        out.writeByte(FrameType.PONG).writeInt(ProtocolLimits.PING_DATA_LENGTH).writeLong(data);
        write(out);
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
            fillingDestination = null;
        }
    }

    private void close()
    {
        if (!closed)
        {
            closed = true;
            ctx.close();
        }
    }
}
