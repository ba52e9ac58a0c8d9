package io.jderper.bench.vthreads;

import io.jderper.core.protocol.FrameHeader;
import io.jderper.core.protocol.FrameRules;
import io.jderper.core.protocol.FrameType;
import io.jderper.core.protocol.ProtocolException;
import io.jderper.core.protocol.ProtocolLimits;
import io.jderper.core.router.ClientChannel;
import io.jderper.core.router.ClientSession;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.netty.util.ReferenceCountUtil;
import org.agrona.DirectBuffer;
import org.agrona.concurrent.UnsafeBuffer;

import javax.net.ssl.SSLEngine;
import javax.net.ssl.SSLEngineResult;
import javax.net.ssl.SSLException;
import java.io.EOFException;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.util.ArrayDeque;
import java.util.Locale;
import java.util.concurrent.Semaphore;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;

/**
 * One client connection served by two virtual threads over a blocking socket: a reader (TLS handshake, the HTTP
 * upgrade, then read, decrypt and dispatch DERP frames under the shard's lock) and a writer (encrypt and write what
 * the relay core queued, outside any lock the core holds). The core sees it as a {@link ClientChannel}.
 *
 * <p>Buffers follow the event-loop transport's rule that an idle connection holds none it can give back: the
 * plaintext buffer is returned whenever every byte in it was dispatched, and the writer's ciphertext buffer is held
 * only while it writes. The reader's ciphertext buffer has to stay, since the reader waits in a read into it.
 */
final class VirtualThreadConnection implements ClientChannel<ByteBuf>
{
    private static final int HIGH_WATER_MARK = 64 << 10;
    private static final int LOW_WATER_MARK = 32 << 10;
    private static final int MAX_REQUEST_HEAD = 16 << 10;
    private static final int READ_CHUNK = 16 << 10;
    private static final int MAX_WRITE_BATCH = 64;
    private static final int DISCO_PREFIX = 6;
    private static final ByteBuffer EMPTY = ByteBuffer.allocate(0);
    private static final byte[] HEAD_END = {'\r', '\n', '\r', '\n'};

    private final VirtualThreadRelay relay;
    private final Shard shard;
    private final SocketChannel socket;
    private final SSLEngine engine;
    private final ByteBufAllocator allocator;
    private final InetSocketAddress remote;

    /** Ciphertext read but not yet decrypted (TLS only); in write mode between reads. */
    private ByteBuf netIn;
    private ByteBuffer netInView;
    /** Plaintext not yet dispatched, or null. Reader thread only, and under the shard lock while dispatching. */
    private ByteBuf appIn;

    private ClientSession<ByteBuf> session;
    private ByteBuf filling;
    private int fillRemaining;
    private long skipRemaining;
    private volatile boolean paused;
    private final Semaphore resumed = new Semaphore(0);

    private final ReentrantLock outLock = new ReentrantLock();
    private final Condition outWork = outLock.newCondition();
    private final ArrayDeque<ByteBuf> outbound = new ArrayDeque<>();
    private long outboundBytes;
    private boolean flushRequested;
    private boolean wrapRequested;
    private Thread writer;
    /** Set under the shard lock when the outbound bytes pass the high-water mark; cleared by a shard task. */
    private volatile boolean writable = true;
    private final AtomicBoolean writableTaskPending = new AtomicBoolean();
    private volatile boolean closed;

    VirtualThreadConnection(final VirtualThreadRelay relay, final Shard shard, final SocketChannel socket,
        final SSLEngine engine, final ByteBufAllocator allocator, final InetSocketAddress remote)
    {
        this.relay = relay;
        this.shard = shard;
        this.socket = socket;
        this.engine = engine;
        this.allocator = allocator;
        this.remote = remote;
    }

    /**
     * The reader thread's whole life.
     */
    void run()
    {
        try
        {
            if (null != engine)
            {
                netIn = allocator.directBuffer(engine.getSession().getPacketBufferSize());
                netInView = netIn.nioBuffer(0, netIn.capacity());
                handshake();
            }
            final Request request = readRequestHead();
            if (null == request)
            {
                return;
            }
            if (!request.upgradesToDerp())
            {
                writeNow(request.refusal().getBytes(StandardCharsets.US_ASCII));
                return;
            }
            relay.cancelDeadline(this);
            writeNow(request.fastStart() ? relay.serverKeyFrame() : relay.upgradeResponse());
            writer = Thread.ofVirtual().name("vthreads-writer").start(this::writeLoop);
            shard.lock();
            try
            {
                session = shard.relay().newSession(this, remote, request.notIdeal());
                dispatchBuffered();
            }
            finally
            {
                shard.unlock();
            }
            while (!closed)
            {
                if (paused)
                {
                    // Admission runs: wait for its verdict, then dispatch what arrived behind ClientInfo.
                    resumed.acquireUninterruptibly();
                }
                else
                {
                    readAndDecrypt();
                }
                shard.lock();
                try
                {
                    dispatchBuffered();
                }
                finally
                {
                    shard.unlock();
                }
            }
        }
        catch (final IOException ex)
        {
            // Peers going away and TLS failures end connections all the time: nothing to report.
        }
        catch (final RuntimeException ex)
        {
            System.err.println("vthreads: closing " + remote + " after an unexpected error: " + ex);
        }
        finally
        {
            cleanUp();
        }
    }

    // --- reading ---------------------------------------------------------------------------------------------

    private void handshake() throws IOException
    {
        engine.beginHandshake();
        while (true)
        {
            switch (engine.getHandshakeStatus())
            {
                case NEED_WRAP -> writeNow(EMPTY);
                case NEED_UNWRAP, NEED_UNWRAP_AGAIN ->
                {
                    if (!decryptAvailable())
                    {
                        readNet();
                    }
                }
                case NEED_TASK -> runDelegatedTasks();
                default ->
                {
                    return;
                }
            }
        }
    }

    private void runDelegatedTasks()
    {
        Runnable task;
        while (null != (task = engine.getDelegatedTask()))
        {
            task.run();
        }
    }

    /** Blocks until the socket gives bytes: into {@link #netIn} with TLS, else straight into {@link #appIn}. */
    private void readAndDecrypt() throws IOException
    {
        if (null == engine)
        {
            final ByteBuf in = plaintext();
            if (in.writeBytes(socket, READ_CHUNK) < 0)
            {
                throw new EOFException();
            }
            return;
        }
        while (!decryptAvailable())
        {
            readNet();
        }
    }

    private void readNet() throws IOException
    {
        if (!netInView.hasRemaining())
        {
            throw new SSLException("TLS record larger than the packet buffer");
        }
        if (socket.read(netInView) < 0)
        {
            throw new EOFException();
        }
    }

    /**
     * Decrypts every whole record in {@link #netIn}.
     *
     * @return whether anything was consumed (false: a record is incomplete and more must be read).
     */
    private boolean decryptAvailable() throws IOException
    {
        netInView.flip();
        boolean progress = false;
        try
        {
            while (netInView.hasRemaining())
            {
                final ByteBuf in = plaintext();
                in.ensureWritable(engine.getSession().getApplicationBufferSize());
                final ByteBuffer target = in.nioBuffer(in.writerIndex(), in.writableBytes());
                final SSLEngineResult result = engine.unwrap(netInView, target);
                in.writerIndex(in.writerIndex() + result.bytesProduced());
                if (result.bytesConsumed() > 0 || result.bytesProduced() > 0)
                {
                    progress = true;
                }
                if (SSLEngineResult.HandshakeStatus.NEED_TASK == result.getHandshakeStatus())
                {
                    runDelegatedTasks();
                }
                if (SSLEngineResult.HandshakeStatus.NEED_WRAP == result.getHandshakeStatus() && null != writer)
                {
                    requestWrap();
                }
                if (SSLEngineResult.Status.CLOSED == result.getStatus())
                {
                    throw new EOFException();
                }
                if (SSLEngineResult.Status.OK != result.getStatus() ||
                    (0 == result.bytesConsumed() && 0 == result.bytesProduced()) ||
                    (null == writer && SSLEngineResult.HandshakeStatus.NOT_HANDSHAKING != engine.getHandshakeStatus()))
                {
                    // Underflow (a partial record), or the handshake wants to act before more is decrypted.
                    break;
                }
            }
        }
        finally
        {
            netInView.compact();
        }
        return progress;
    }

    private ByteBuf plaintext()
    {
        if (null == appIn)
        {
            appIn = allocator.directBuffer(READ_CHUNK + 1024,
                2 * READ_CHUNK + FrameHeader.LENGTH + ProtocolLimits.MAX_CLIENT_INFO_LENGTH);
        }
        return appIn;
    }

    private Request readRequestHead() throws IOException
    {
        while (true)
        {
            if (null != appIn)
            {
                final int end = indexOf(appIn, HEAD_END);
                if (end >= 0)
                {
                    final String head = appIn.toString(appIn.readerIndex(), end - appIn.readerIndex(),
                        StandardCharsets.ISO_8859_1);
                    appIn.readerIndex(end + HEAD_END.length);
                    return Request.parse(head);
                }
                if (appIn.readableBytes() > MAX_REQUEST_HEAD)
                {
                    writeNow("HTTP/1.1 431 Request Header Fields Too Large\r\nConnection: close\r\n\r\n"
                        .getBytes(StandardCharsets.US_ASCII));
                    return null;
                }
            }
            readAndDecrypt();
        }
    }

    private static int indexOf(final ByteBuf buffer, final byte[] pattern)
    {
        final int last = buffer.writerIndex() - pattern.length;
        outer:
        for (int i = buffer.readerIndex(); i <= last; i++)
        {
            for (int j = 0; j < pattern.length; j++)
            {
                if (buffer.getByte(i + j) != pattern[j])
                {
                    continue outer;
                }
            }
            return i;
        }
        return -1;
    }

    // --- dispatch, under the shard lock ----------------------------------------------------------------------

    private void dispatchBuffered()
    {
        if (null == appIn)
        {
            return;
        }
        try
        {
            process(appIn);
        }
        catch (final ProtocolException ex)
        {
            relay.router().metrics().violation(ex.violation());
            close();
        }
        if (!appIn.isReadable())
        {
            appIn.release();
            appIn = null;
        }
        else if (appIn.readerIndex() > 0)
        {
            appIn.discardReadBytes();
        }
        shard.relay().flushDirty();
    }

    /** The event-loop transport's dispatch, on one buffer that holds everything not yet dispatched. */
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
                if (in.readableBytes() - FrameHeader.LENGTH < length)
                {
                    return;
                }
                final byte[] payload = new byte[(int)length];
                in.getBytes(at + FrameHeader.LENGTH, payload);
                in.skipBytes(FrameHeader.LENGTH + (int)length);
                session.onClientInfo(type, new UnsafeBuffer(payload), 0, (int)length);
                continue;
            }
            if (FrameRules.SKIP == FrameRules.check(type, length, session.isMeshPrivileged()))
            {
                in.skipBytes(FrameHeader.LENGTH);
                skipRemaining = length;
                session.onSkippedFrame(type);
                continue;
            }
            if (FrameType.SEND_PACKET == type || FrameType.FORWARD_PACKET == type)
            {
                final int keys = FrameType.SEND_PACKET == type ?
                    ProtocolLimits.KEY_LENGTH : 2 * ProtocolLimits.KEY_LENGTH;
                final int head = keys + (int)Math.min(DISCO_PREFIX, length - keys);
                if (in.readableBytes() - FrameHeader.LENGTH < head)
                {
                    return;
                }
                startPacket(in, type, (int)length, keys, head);
                continue;
            }
            if (in.readableBytes() - FrameHeader.LENGTH < length)
            {
                return;
            }
            final UnsafeBuffer scratch = shard.scratch();
            in.getBytes(at + FrameHeader.LENGTH, scratch.byteArray(), 0, (int)length);
            in.skipBytes(FrameHeader.LENGTH + (int)length);
            session.onFrame(type, scratch, 0, (int)length);
        }
    }

    private void startPacket(final ByteBuf in, final byte type, final int length, final int keys, final int head)
    {
        final int dataLength = length - keys;
        final UnsafeBuffer scratch = shard.scratch();
        in.getBytes(in.readerIndex() + FrameHeader.LENGTH, scratch.byteArray(), 0, head);
        in.skipBytes(FrameHeader.LENGTH + keys);
        final ByteBuf frame = FrameType.FORWARD_PACKET == type ?
            session.beginForwardPacket(scratch, 0, dataLength) : session.beginSendPacket(scratch, 0, dataLength);
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

    // --- ClientChannel: under the shard lock except execute() --------------------------------------------------

    @Override
    public boolean isWritable()
    {
        return writable;
    }

    @Override
    public void writePacket(final ByteBuf packet)
    {
        enqueueOutbound(packet);
    }

    @Override
    public void writeControl(final DirectBuffer frame, final int offset, final int length)
    {
        final ByteBuf out = allocator.directBuffer(length);
        for (int i = 0; i < length; i++)
        {
            out.writeByte(frame.getByte(offset + i));
        }
        enqueueOutbound(out);
    }

    private void enqueueOutbound(final ByteBuf buffer)
    {
        final long queued;
        outLock.lock();
        try
        {
            if (closed)
            {
                buffer.release();
                return;
            }
            outbound.add(buffer);
            outboundBytes += buffer.readableBytes();
            queued = outboundBytes;
        }
        finally
        {
            outLock.unlock();
        }
        if (queued > HIGH_WATER_MARK && writable)
        {
            writable = false;
            session.onWritabilityChanged(false);
        }
    }

    @Override
    public void flush()
    {
        wakeWriter(true, false);
    }

    private void requestWrap()
    {
        wakeWriter(false, true);
    }

    /**
     * Wakes the writer, which looks again at what it has to do: a flush, a TLS record with no data (the engine asked
     * for one), or, once {@link #closed} is set, nothing but to stop.
     */
    private void wakeWriter(final boolean flush, final boolean wrap)
    {
        outLock.lock();
        try
        {
            flushRequested |= flush;
            wrapRequested |= wrap;
            outWork.signal();
        }
        finally
        {
            outLock.unlock();
        }
    }

    @Override
    public void setReading(final boolean reading)
    {
        paused = !reading;
        if (reading)
        {
            // The admission result came on the shard's task thread: frames that arrived behind ClientInfo are
            // dispatched by the reader once it wakes.
            resumed.release();
        }
    }

    @Override
    public void closeAfterFlush()
    {
        // The experiment is never shut down gracefully (only the event-loop server announces restarts), so the
        // core never asks for this; closing at once keeps the contract's outcome.
        close();
    }

    @Override
    public void close()
    {
        if (closed)
        {
            return;
        }
        closed = true;
        resumed.release();
        try
        {
            socket.close();
        }
        catch (final IOException ignored)
        {
            // Closing a socket that already failed: nothing more to do.
        }
        wakeWriter(false, false);
    }

    @Override
    public void execute(final Runnable task)
    {
        shard.execute(task);
    }

    // --- writing ---------------------------------------------------------------------------------------------

    private void writeLoop()
    {
        final ByteBuf[] batch = new ByteBuf[MAX_WRITE_BATCH];
        final ByteBuffer[] views = new ByteBuffer[MAX_WRITE_BATCH];
        try
        {
            while (true)
            {
                int count = 0;
                long bytes = 0;
                outLock.lock();
                try
                {
                    while (!closed && !wrapRequested && (!flushRequested || outbound.isEmpty()))
                    {
                        outWork.awaitUninterruptibly();
                    }
                    if (closed)
                    {
                        return;
                    }
                    wrapRequested = false;
                    ByteBuf next;
                    while (count < MAX_WRITE_BATCH && null != (next = outbound.poll()))
                    {
                        batch[count] = next;
                        views[count] = next.nioBuffer();
                        bytes += next.readableBytes();
                        count++;
                    }
                    if (outbound.isEmpty())
                    {
                        flushRequested = false;
                    }
                }
                finally
                {
                    outLock.unlock();
                }
                try
                {
                    write(views, count);
                }
                finally
                {
                    for (int i = 0; i < count; i++)
                    {
                        batch[i].release();
                        batch[i] = null;
                        views[i] = null;
                    }
                }
                afterWrite(bytes);
            }
        }
        catch (final IOException ex)
        {
            close();
        }
        catch (final RuntimeException ex)
        {
            System.err.println("vthreads: writer for " + remote + " failed: " + ex);
            close();
        }
    }

    private void afterWrite(final long bytes)
    {
        final long queued;
        outLock.lock();
        try
        {
            outboundBytes -= bytes;
            queued = outboundBytes;
        }
        finally
        {
            outLock.unlock();
        }
        if (!writable && queued < LOW_WATER_MARK && writableTaskPending.compareAndSet(false, true))
        {
            shard.execute(() ->
            {
                writableTaskPending.set(false);
                if (!writable && !closed)
                {
                    writable = true;
                    session.onWritabilityChanged(true);
                    shard.relay().flushDirty();
                }
            });
        }
    }

    /** Before the writer starts: the reader writes the handshake and the upgrade response itself. */
    private void writeNow(final byte[] bytes) throws IOException
    {
        writeNow(ByteBuffer.wrap(bytes));
    }

    private void writeNow(final ByteBuffer plaintext) throws IOException
    {
        write(new ByteBuffer[]{plaintext}, 1);
    }

    private void write(final ByteBuffer[] sources, final int count) throws IOException
    {
        if (null == engine)
        {
            long remaining = remaining(sources, count);
            while (remaining > 0)
            {
                remaining -= socket.write(sources, 0, count);
            }
            return;
        }
        final int packetSize = engine.getSession().getPacketBufferSize();
        final ByteBuf net = allocator.directBuffer(4 * packetSize);
        try
        {
            final ByteBuffer out = net.nioBuffer(0, net.capacity());
            boolean first = true;
            while (first || remaining(sources, count) > 0)
            {
                first = false;
                out.clear();
                do
                {
                    final SSLEngineResult result = engine.wrap(sources, 0, count, out);
                    if (SSLEngineResult.HandshakeStatus.NEED_TASK == result.getHandshakeStatus())
                    {
                        runDelegatedTasks();
                    }
                    if (SSLEngineResult.Status.CLOSED == result.getStatus())
                    {
                        throw new EOFException();
                    }
                    if (SSLEngineResult.Status.OK != result.getStatus() || 0 == result.bytesProduced())
                    {
                        break;
                    }
                }
                while (remaining(sources, count) > 0 && out.remaining() >= packetSize);
                if (0 == out.position() && remaining(sources, count) > 0)
                {
                    throw new SSLException("the TLS engine encrypted nothing of " + remaining(sources, count) +
                        " bytes");
                }
                out.flip();
                while (out.hasRemaining())
                {
                    socket.write(out);
                }
            }
        }
        finally
        {
            net.release();
        }
    }

    private static long remaining(final ByteBuffer[] buffers, final int count)
    {
        long total = 0;
        for (int i = 0; i < count; i++)
        {
            total += buffers[i].remaining();
        }
        return total;
    }

    // --- closing ---------------------------------------------------------------------------------------------

    private void cleanUp()
    {
        close();
        relay.cancelDeadline(this);
        if (null != writer)
        {
            try
            {
                writer.join();
            }
            catch (final InterruptedException ex)
            {
                Thread.currentThread().interrupt();
            }
        }
        shard.lock();
        try
        {
            if (null != filling)
            {
                filling.release();
                filling = null;
                session.abandonPacket();
            }
            if (null != session)
            {
                session.onClosed();
            }
        }
        finally
        {
            shard.unlock();
        }
        outLock.lock();
        try
        {
            ByteBuf left;
            while (null != (left = outbound.poll()))
            {
                left.release();
            }
            outboundBytes = 0;
        }
        finally
        {
            outLock.unlock();
        }
        if (null != appIn)
        {
            appIn.release();
            appIn = null;
        }
        if (null != netIn)
        {
            netIn.release();
            netIn = null;
        }
        if (null != engine)
        {
            ReferenceCountUtil.release(engine);
        }
        relay.connectionClosed(this);
    }

    /**
     * The request head of an HTTP/1.1 request: just what the upgrade needs.
     */
    private record Request(String method, String path, String upgrade, boolean fastStart, boolean notIdeal)
    {
        static Request parse(final String head)
        {
            final String[] lines = head.split("\r\n");
            final String[] requestLine = lines[0].split(" ");
            String upgrade = "";
            boolean fastStart = false;
            boolean notIdeal = false;
            for (int i = 1; i < lines.length; i++)
            {
                final int colon = lines[i].indexOf(':');
                if (colon <= 0)
                {
                    continue;
                }
                final String name = lines[i].substring(0, colon).trim().toLowerCase(Locale.ROOT);
                final String value = lines[i].substring(colon + 1).trim();
                switch (name)
                {
                    case "upgrade" -> upgrade = value;
                    case "derp-fast-start" -> fastStart = "1".equals(value);
                    case "ideal-node" -> notIdeal = !value.isEmpty();
                    default ->
                    {
                    }
                }
            }
            return new Request(requestLine[0], requestLine.length > 1 ? requestLine[1] : "", upgrade, fastStart,
                notIdeal);
        }

        boolean upgradesToDerp()
        {
            return "GET".equals(method) && isDerpPath() && "derp".equalsIgnoreCase(upgrade);
        }

        private boolean isDerpPath()
        {
            return "/derp".equals(path) || path.startsWith("/derp?");
        }

        /** This experiment serves the DERP upgrade only: no WebSocket, probes or home page. */
        String refusal()
        {
            final String status = isDerpPath() ? "426 Upgrade Required" : "404 Not Found";
            final String body = isDerpPath() ? "DERP requires connection upgrade\n" :
                "the virtual-thread experiment serves /derp only\n";
            return "HTTP/1.1 " + status + "\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Length: " +
                body.length() + "\r\nConnection: close\r\n\r\n" + body;
        }
    }
}
