package io.jderper.transport.client;

import io.jderper.core.crypto.NaclBox;
import io.jderper.core.key.NodePublicKey;
import io.jderper.core.protocol.ClientFrames;
import io.jderper.core.protocol.ControlFrames;
import io.jderper.core.protocol.FrameHeader;
import io.jderper.core.protocol.FrameType;
import io.jderper.core.protocol.ProtocolException;
import io.jderper.core.protocol.ProtocolLimits;
import io.jderper.core.protocol.ServerFrames;
import io.netty.bootstrap.Bootstrap;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.EventLoop;
import io.netty.handler.ssl.SslHandler;
import io.netty.handler.ssl.SslHandshakeCompletionEvent;
import io.netty.util.ReferenceCountUtil;
import io.netty.util.concurrent.ScheduledFuture;
import org.agrona.DirectBuffer;
import org.agrona.concurrent.UnsafeBuffer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import javax.net.ssl.SSLPeerUnverifiedException;
import javax.net.ssl.SSLSession;
import java.net.InetSocketAddress;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.security.SecureRandom;
import java.util.Arrays;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

/**
 * One DERP client connection (spec §1.2–1.4, §4.1, §8): connects, upgrades, performs the handshake and then sends
 * and receives frames. Opened by {@link DerpClients#open}; lives on one event loop of the shared group.
 *
 * <h2>Handshake</h2>
 * TCP (optionally from a given local address), TLS if {@code https}, then {@code GET /derp} with
 * {@code Upgrade: DERP}. If the server presented the DERP meta certificate over TLS 1.3 (and fast start is allowed),
 * the request carries {@code Derp-Fast-Start: 1} and the ClientInfo frame in the same flush, the server key comes
 * from the certificate, no 101 is expected and the ServerKey frame that still arrives is skipped. Otherwise the 101
 * and the ServerKey frame (magic checked) are read first. ServerInfo must then be the first frame; once it opens the
 * client is ready and {@link #ready()} completes. The whole sequence is bounded by
 * {@link DerpClientOptions#handshakeTimeoutMs()}; any failure completes {@link #ready()} exceptionally with a
 * {@link DerpClientException} that says which step failed, closes the channel and calls
 * {@link DerpClientListener#onClosed}.
 *
 * <h2>Threading and allocation</h2>
 * Every method may be called from any thread; from the client's event loop ({@link #eventLoop()}) writes go straight
 * into the pipeline, from elsewhere Netty queues them to the loop. Sends write without flushing: call
 * {@link #flush()} after a batch (writes made on the loop during a read batch of this client, such as automatic Pongs
 * or sends from inside a listener call, are flushed at the end of that batch anyway). Sends build the frame in one
 * pooled buffer through a reused per-thread view and allocate no other objects. Sends and control frames return
 * false, and write nothing, unless the client is ready and open; they never block and never drop: check
 * {@link #isWritable()} to respect back-pressure.
 *
 * <p>Frames are read as the server reads them: the length is checked at the header (over 1 MiB closes the
 * connection), unknown or unwanted frames are skipped as they stream past without being buffered, and a complete
 * frame inside one read buffer is handed to the listener as a view of that buffer. A frame cut by a read boundary is
 * gathered in one pooled carry buffer, released as soon as it empties, so an idle client holds no inbound memory.
 */
public final class DerpClient
{
    private static final Logger LOG = LoggerFactory.getLogger(DerpClient.class);

    /** Resolving the host name. */
    static final byte STATE_RESOLVING = 0;
    /** TCP connect and, for https, the TLS handshake. */
    static final byte STATE_CONNECTING = 1;
    /** Request sent; reading the HTTP response head. */
    static final byte STATE_AWAIT_HTTP = 2;
    /** 101 read; waiting for the ServerKey frame. */
    static final byte STATE_AWAIT_SERVER_KEY = 3;
    /** ClientInfo sent; waiting for ServerInfo. */
    static final byte STATE_AWAIT_SERVER_INFO = 4;
    /** Handshake done; relaying. */
    static final byte STATE_READY = 5;
    /** Closed or closing; nothing more is read or written. */
    static final byte STATE_CLOSED = 6;

    /** Tailscale's client refuses any frame longer than this (spec §2.2). */
    static final int MAX_FRAME_LENGTH = 1 << 20;
    /** The ServerKey frame is read with a 1 KiB limit. */
    static final int MAX_SERVER_KEY_LENGTH = 1 << 10;
    /** Bound on the HTTP response head. */
    static final int MAX_HTTP_HEAD_LENGTH = 8192;
    private static final int MIN_CARRY_CAPACITY = 64;
    private static final int MAX_STATUS_LINE_IN_MESSAGE = 200;
    private static final UnsafeBuffer ZERO_IP = new UnsafeBuffer(new byte[16]);

    private final DerpClientOptions options;
    private final DerpClientListener listener;
    private final ByteBufAllocator allocator;
    private final SecureRandom random;
    private final EventLoop loop;
    private final NodePublicKey publicKey;
    private final byte[] publicKeyBytes;
    private final String target;
    private final CompletableFuture<DerpClient> ready = new CompletableFuture<>();
    private final Handler handler = new Handler();
    private final Runnable readTimer = this::onReadTimer;

    // Read by any thread.
    private volatile byte state = STATE_RESOLVING;
    private volatile Channel channel;
    private volatile boolean closeRequested;
    private volatile byte[] serverKey;
    // The box key both handshake boxes use (one X25519 per connection, as the server does); wiped after ServerInfo.
    private byte[] handshakeBoxKey;
    private volatile boolean usedFastStart;
    private volatile String serverInfo;

    // Event loop only.
    private ChannelFuture connectFuture;
    // The handshake timer, then the read timer.
    private ScheduledFuture<?> timeout;
    private long lastReadNanos;
    private DerpClientException failure;
    private boolean finished;
    private boolean unflushed;
    private boolean skippedServerKey;

    DerpClient(
        final DerpClientOptions options, final DerpClientListener listener, final ByteBufAllocator allocator,
        final SecureRandom random, final EventLoop loop)
    {
        this.options = options;
        this.listener = listener;
        this.allocator = allocator;
        this.random = random;
        this.loop = loop;
        this.publicKey = options.privateKey().publicKey();
        this.publicKeyBytes = publicKey.toBytes();
        this.target = options.url().toString();
    }

    // ---------------------------------------------------------------------------------------------------------------
    // Public API.

    /**
     * @return completes with this client once ServerInfo has arrived, on the client's event loop (so dependent
     *     stages added before that run there); completes exceptionally with a {@link DerpClientException} if the
     *     connection fails or is closed first.
     */
    public CompletableFuture<DerpClient> ready()
    {
        return ready;
    }

    /**
     * @return whether the handshake is done and the connection open.
     */
    public boolean isReady()
    {
        return STATE_READY == state;
    }

    /**
     * @return whether the channel's outbound buffer is under its high-water mark; false before the connection
     *     exists and after it closed.
     */
    public boolean isWritable()
    {
        final Channel ch = channel;
        return null != ch && ch.isWritable();
    }

    /**
     * Writes a SendPacket without flushing.
     *
     * @param destination       holds the destination's 32-byte key.
     * @param destinationOffset where it starts.
     * @param data              holds the packet.
     * @param dataOffset        where it starts.
     * @param dataLength        0 to 65,536 bytes.
     * @return false if the client is not ready or already closed (nothing written).
     * @throws IllegalArgumentException if {@code dataLength} is out of range.
     */
    public boolean sendPacket(
        final DirectBuffer destination, final int destinationOffset, final DirectBuffer data, final int dataOffset,
        final int dataLength)
    {
        checkPacketLength(dataLength);
        if (STATE_READY != state)
        {
            return false;
        }
        final int frameLength = ClientFrames.SEND_PACKET_PREFIX_LENGTH + dataLength;
        final ByteBuf out = allocator.directBuffer(frameLength);
        final UnsafeBuffer view = BufferViews.writeView(out);
        ClientFrames.sendPacketPrefix(view, 0, destination, destinationOffset, dataLength);
        view.putBytes(ClientFrames.SEND_PACKET_PREFIX_LENGTH, data, dataOffset, dataLength);
        out.writerIndex(frameLength);
        return write(out, false);
    }

    /**
     * Writes a SendPacket without flushing; the data is copied, {@code data} is neither retained nor released.
     *
     * @param destination       holds the destination's 32-byte key.
     * @param destinationOffset where it starts.
     * @param data              holds the packet.
     * @param dataIndex         where it starts.
     * @param dataLength        0 to 65,536 bytes.
     * @return false if the client is not ready or already closed (nothing written).
     * @throws IllegalArgumentException if {@code dataLength} is out of range.
     */
    public boolean sendPacket(
        final DirectBuffer destination, final int destinationOffset, final ByteBuf data, final int dataIndex,
        final int dataLength)
    {
        checkPacketLength(dataLength);
        if (STATE_READY != state)
        {
            return false;
        }
        final int frameLength = ClientFrames.SEND_PACKET_PREFIX_LENGTH + dataLength;
        final ByteBuf out = allocator.directBuffer(frameLength);
        ClientFrames.sendPacketPrefix(BufferViews.writeView(out), 0, destination, destinationOffset, dataLength);
        out.setBytes(ClientFrames.SEND_PACKET_PREFIX_LENGTH, data, dataIndex, dataLength);
        out.writerIndex(frameLength);
        return write(out, false);
    }

    /**
     * Convenience: sends one packet and flushes. Allocates; use the buffer variants on hot paths.
     *
     * @param destination the destination's key.
     * @param data        0 to 65,536 bytes.
     * @return false if the client is not ready or already closed (nothing written).
     */
    public boolean sendPacketAndFlush(final NodePublicKey destination, final byte[] data)
    {
        final boolean written = sendPacket(new UnsafeBuffer(destination.toBytes()), 0, new UnsafeBuffer(data), 0,
            data.length);
        if (written)
        {
            flush();
        }
        return written;
    }

    /**
     * Writes a ForwardPacket (mesh peers only; the server closes other connections that send one) without flushing.
     *
     * @param source            holds the original sender's key.
     * @param sourceOffset      where it starts.
     * @param destination       holds the destination's key.
     * @param destinationOffset where it starts.
     * @param data              holds the packet.
     * @param dataOffset        where it starts.
     * @param dataLength        0 to 65,536 bytes.
     * @return false if the client is not ready or already closed (nothing written).
     */
    public boolean forwardPacket(
        final DirectBuffer source, final int sourceOffset, final DirectBuffer destination, final int destinationOffset,
        final DirectBuffer data, final int dataOffset, final int dataLength)
    {
        checkPacketLength(dataLength);
        if (STATE_READY != state)
        {
            return false;
        }
        final int frameLength = ClientFrames.FORWARD_PACKET_PREFIX_LENGTH + dataLength;
        final ByteBuf out = allocator.directBuffer(frameLength);
        final UnsafeBuffer view = BufferViews.writeView(out);
        ClientFrames.forwardPacketPrefix(view, 0, source, sourceOffset, destination, destinationOffset, dataLength);
        view.putBytes(ClientFrames.FORWARD_PACKET_PREFIX_LENGTH, data, dataOffset, dataLength);
        out.writerIndex(frameLength);
        return write(out, false);
    }

    /**
     * Writes a whole frame the caller built (the readable bytes, header first) without flushing, e.g. a
     * ForwardPacket a relay made for its mesh peer. Takes ownership: the frame is released whatever happens.
     *
     * @param frame the frame.
     * @return false if the client is not ready or already closed (the frame was released unwritten).
     */
    public boolean writeFrame(final ByteBuf frame)
    {
        if (STATE_READY != state)
        {
            frame.release();
            return false;
        }
        return write(frame, false);
    }

    /**
     * Flushes what was written; cheap when nothing is pending.
     */
    public void flush()
    {
        final Channel ch = channel;
        if (null != ch)
        {
            if (loop.inEventLoop())
            {
                unflushed = false;
            }
            ch.flush();
        }
    }

    /**
     * Writes and flushes a NotePreferred frame.
     *
     * @param preferred whether this server is the client's home.
     * @return false if the client is not ready or already closed.
     */
    public boolean notePreferred(final boolean preferred)
    {
        if (STATE_READY != state)
        {
            return false;
        }
        final ByteBuf out = allocator.directBuffer(FrameHeader.LENGTH + 1);
        out.writerIndex(ClientFrames.notePreferred(BufferViews.writeView(out), 0, preferred));
        return write(out, true);
    }

    /**
     * Writes and flushes a Ping; the matching Pong arrives at {@link DerpClientListener#onPong}.
     *
     * @param data the 8 opaque bytes, as a big-endian long.
     * @return false if the client is not ready or already closed.
     */
    public boolean ping(final long data)
    {
        if (STATE_READY != state)
        {
            return false;
        }
        final ByteBuf out = allocator.directBuffer(FrameHeader.LENGTH + ProtocolLimits.PING_DATA_LENGTH);
        out.writerIndex(ClientFrames.ping(BufferViews.writeView(out), 0, data));
        return write(out, true);
    }

    /**
     * Writes and flushes WatchConns (mesh-key holders only): the server then sends PeerPresent and PeerGone for
     * every connection.
     *
     * @return false if the client is not ready or already closed.
     */
    public boolean watchConns()
    {
        if (STATE_READY != state)
        {
            return false;
        }
        final ByteBuf out = allocator.directBuffer(FrameHeader.LENGTH);
        out.writerIndex(ClientFrames.watchConns(BufferViews.writeView(out), 0));
        return write(out, true);
    }

    /**
     * Writes and flushes ClosePeer (mesh-key holders only).
     *
     * @param key       holds the key whose connections the server should close.
     * @param keyOffset where it starts.
     * @return false if the client is not ready or already closed.
     */
    public boolean closePeer(final DirectBuffer key, final int keyOffset)
    {
        if (STATE_READY != state)
        {
            return false;
        }
        final ByteBuf out = allocator.directBuffer(FrameHeader.LENGTH + ProtocolLimits.KEY_LENGTH);
        out.writerIndex(ClientFrames.closePeer(BufferViews.writeView(out), 0, key, keyOffset));
        return write(out, true);
    }

    /**
     * @param key the key whose connections the server should close.
     * @return false if the client is not ready or already closed.
     */
    public boolean closePeer(final NodePublicKey key)
    {
        return closePeer(new UnsafeBuffer(key.toBytes()), 0);
    }

    /**
     * Closes the connection, or abandons the connect in progress, asynchronously. {@link DerpClientListener#onClosed}
     * then runs with a null cause, and {@link #ready()}, if still pending, completes exceptionally: once this has
     * been called it never completes normally. Idempotent.
     */
    public void close()
    {
        closeRequested = true;
        final Channel ch = channel;
        if (null != ch && ch.isRegistered())
        {
            ch.close();
        }
        else
        {
            loop.execute(this::closeBeforeChannel);
        }
    }

    /**
     * @return the client's own key, its DERP address.
     */
    public NodePublicKey publicKey()
    {
        return publicKey;
    }

    /**
     * @return the server's key (from the meta certificate or the ServerKey frame), or null before it is known.
     */
    public NodePublicKey serverPublicKey()
    {
        final byte[] key = serverKey;
        return null == key ? null : NodePublicKey.fromBytes(key);
    }

    /**
     * @return whether the handshake used fast start (meta certificate seen, no 101 awaited).
     */
    public boolean usedFastStart()
    {
        return usedFastStart;
    }

    /**
     * @return the opened ServerInfo JSON, e.g. {@code {"version":2}}, or null before the client is ready.
     */
    public String serverInfo()
    {
        return serverInfo;
    }

    /**
     * @return the options the client was opened with.
     */
    public DerpClientOptions options()
    {
        return options;
    }

    /**
     * @return the event loop the client lives on; calls from it are the cheapest.
     */
    public EventLoop eventLoop()
    {
        return loop;
    }

    /**
     * @return the connection's local address, or null before it is connected.
     */
    public InetSocketAddress localAddress()
    {
        final Channel ch = channel;
        return null != ch && ch.localAddress() instanceof InetSocketAddress address ? address : null;
    }

    @Override
    public String toString()
    {
        return "DerpClient{" + publicKey.toShortString() + " -> " + target + ", state=" + stateName(state) + '}';
    }

    // ---------------------------------------------------------------------------------------------------------------
    // Lifecycle, on the event loop unless said otherwise.

    /**
     * @return the pipeline handler that runs the handshake and reads frames; one per client.
     */
    ChannelInboundHandlerAdapter handler()
    {
        return handler;
    }

    /**
     * Starts the handshake timer; called by {@link DerpClients} on the loop before resolving and connecting.
     */
    void startTimer()
    {
        timeout = loop.schedule(this::onHandshakeTimeout, options.handshakeTimeoutMs(), TimeUnit.MILLISECONDS);
    }

    /**
     * @return whether the client has already finished (closed or failed), so a pending connect must not start.
     */
    boolean isFinished()
    {
        return finished;
    }

    /**
     * Connects with a bootstrap whose pipeline ends in {@link #handler()}.
     *
     * @param bootstrap configured for this client's loop.
     * @param remote    the resolved server address.
     * @param local     the address to bind, or null.
     */
    void connect(final Bootstrap bootstrap, final InetSocketAddress remote, final InetSocketAddress local)
    {
        // Before connect(): a loopback connect may complete, and fire channelActive, inside the call.
        state = STATE_CONNECTING;
        final ChannelFuture future = null == local ? bootstrap.connect(remote) : bootstrap.connect(remote, local);
        attach(future.channel(), future);
    }

    /**
     * Adopts the channel being connected (or, in tests, an embedded one) and watches it close.
     *
     * @param ch      the channel, whose pipeline holds or will hold {@link #handler()}.
     * @param connect the connect future, or null if already connected.
     */
    void attach(final Channel ch, final ChannelFuture connect)
    {
        channel = ch;
        connectFuture = connect;
        if (STATE_RESOLVING == state)
        {
            state = STATE_CONNECTING;
        }
        if (null != connect)
        {
            connect.addListener(f ->
            {
                if (!f.isSuccess())
                {
                    final DerpClientException failed = new DerpClientException(
                        "cannot connect to " + target + ": " + describe(f.cause()), f.cause());
                    // A channel that could not be made or registered may report on another thread.
                    if (loop.inEventLoop())
                    {
                        fail(failed);
                    }
                    else
                    {
                        loop.execute(() -> fail(failed));
                    }
                }
            });
        }
        ch.closeFuture().addListener(f -> finish());
        if (closeRequested)
        {
            closeChannel(ch);
        }
    }

    /**
     * Fails the client: the first failure wins, the channel (if any) is closed and {@link #finish()} reports it.
     */
    void fail(final DerpClientException cause)
    {
        if (finished || null != failure)
        {
            return;
        }
        if (!closeRequested)
        {
            failure = cause;
            state = STATE_CLOSED;
        }
        // A failure after close() is its consequence (a connect or TLS handshake cut short): not reported.
        closeBeforeChannel();
    }

    private void closeBeforeChannel()
    {
        final Channel ch = channel;
        if (null != ch)
        {
            closeChannel(ch);
        }
        else
        {
            finish();
        }
    }

    /**
     * Closes the channel. One that never joined a loop (the process was out of descriptors, or registration
     * failed) has no pipeline to close through and its close future never completes, so the client ends here.
     */
    private void closeChannel(final Channel ch)
    {
        if (ch.isRegistered())
        {
            ch.close();
        }
        else
        {
            ch.unsafe().closeForcibly();
            finish();
        }
    }

    private void onHandshakeTimeout()
    {
        if (!finished && STATE_READY != state && STATE_CLOSED != state)
        {
            fail(new DerpClientException("handshake with " + target + " did not finish within " +
                options.handshakeTimeoutMs() + " ms (" + stateName(state) + ")"));
        }
    }

    private void finish()
    {
        if (finished)
        {
            return;
        }
        finished = true;
        final byte lastState = state;
        state = STATE_CLOSED;
        if (null != timeout)
        {
            timeout.cancel(false);
        }
        DerpClientException cause = failure;
        if (null == cause && !closeRequested && null != connectFuture && connectFuture.isDone() &&
            null != connectFuture.cause())
        {
            cause = new DerpClientException("cannot connect to " + target + ": " + describe(connectFuture.cause()),
                connectFuture.cause());
        }
        if (null == cause && !closeRequested)
        {
            cause = new DerpClientException(ready.isDone() ? "connection to " + target + " closed by the server" :
                "connection to " + target + " closed by the server during the handshake (" + stateName(lastState) +
                ")");
        }
        if (!ready.isDone())
        {
            ready.completeExceptionally(null != cause ? cause : new DerpClientException(
                "closed by close() before the handshake with " + target + " finished"));
        }
        try
        {
            listener.onClosed(this, cause);
        }
        catch (final RuntimeException ex)
        {
            LOG.warn("{}: listener failed in onClosed", this, ex);
        }
    }

    private static String stateName(final byte state)
    {
        return switch (state)
        {
            case STATE_RESOLVING -> "resolving the host name";
            case STATE_CONNECTING -> "TCP connect or TLS handshake";
            case STATE_AWAIT_HTTP -> "waiting for the HTTP 101 response";
            case STATE_AWAIT_SERVER_KEY -> "waiting for the ServerKey frame";
            case STATE_AWAIT_SERVER_INFO -> "waiting for the ServerInfo frame";
            case STATE_READY -> "ready";
            default -> "closed";
        };
    }

    /**
     * @return the outermost and innermost messages of a failure, e.g. the SSL exception and the certificate check.
     */
    static String describe(final Throwable failure)
    {
        Throwable root = failure;
        while (null != root.getCause() && root.getCause() != root)
        {
            root = root.getCause();
        }
        final String outer = failure.getClass().getSimpleName() + ": " + failure.getMessage();
        if (root == failure || (null != failure.getMessage() && null != root.getMessage() &&
            failure.getMessage().contains(root.getMessage())))
        {
            return outer;
        }
        return outer + " (" + root.getClass().getSimpleName() + ": " + root.getMessage() + ")";
    }

    // ---------------------------------------------------------------------------------------------------------------
    // Handshake steps.

    private void onTransportReady(final SSLSession session)
    {
        boolean fast = false;
        if (null != session && options.fastStart() && "TLSv1.3".equals(session.getProtocol()))
        {
            try
            {
                final byte[] key = PeerCertificates.metaServerKey(session.getPeerCertificates());
                if (null != key)
                {
                    serverKey = key;
                    fast = true;
                }
            }
            catch (final SSLPeerUnverifiedException ex)
            {
                LOG.debug("{}: no peer certificates, no fast start", this);
            }
        }
        usedFastStart = fast;
        final String request = upgradeRequest(fast);
        final byte[] clientInfo = fast ? clientInfoFrame() : null;
        final ByteBuf out = allocator.buffer(request.length() + (fast ? clientInfo.length : 0));
        out.writeCharSequence(request, StandardCharsets.US_ASCII);
        if (fast)
        {
            // Spec §1.2: the ClientInfo goes out in the same flush as the request.
            out.writeBytes(clientInfo);
            state = STATE_AWAIT_SERVER_INFO;
        }
        else
        {
            state = STATE_AWAIT_HTTP;
        }
        channel.writeAndFlush(out, channel.voidPromise());
    }

    private String upgradeRequest(final boolean fast)
    {
        final StringBuilder request = new StringBuilder(256)
            .append("GET ").append(options.requestTarget()).append(" HTTP/1.1\r\n")
            .append("Host: ").append(options.hostHeader()).append("\r\n")
            .append("User-Agent: jderper-client\r\n")
            .append("Connection: Upgrade\r\n")
            .append("Upgrade: DERP\r\n");
        if (null != options.idealNode() && !options.idealNode().isEmpty())
        {
            request.append("Ideal-Node: ").append(options.idealNode()).append("\r\n");
        }
        if (null != options.bearerToken())
        {
            request.append("Authorization: Bearer ").append(options.bearerToken()).append("\r\n");
        }
        if (fast)
        {
            request.append("Derp-Fast-Start: 1\r\n");
        }
        return request.append("\r\n").toString();
    }

    private byte[] clientInfoFrame()
    {
        // Once per connection: plain arrays are fine here.
        final byte[] json = options.clientInfoJson().getBytes(StandardCharsets.UTF_8);
        handshakeBoxKey = NaclBox.sharedKey(options.privateKey(), serverKey, 0);
        final byte[] box = NaclBox.seal(handshakeBoxKey, json, random);
        final byte[] frame = new byte[FrameHeader.LENGTH + ProtocolLimits.KEY_LENGTH + box.length];
        ClientFrames.clientInfo(new UnsafeBuffer(frame), 0, publicKeyBytes, box);
        return frame;
    }

    private void onStatusLine(final String statusLine)
    {
        final String[] parts = statusLine.split(" ", 3);
        if (parts.length < 2 || !parts[0].startsWith("HTTP/1.") || !"101".equals(parts[1]))
        {
            final String shown = statusLine.length() > MAX_STATUS_LINE_IN_MESSAGE ?
                statusLine.substring(0, MAX_STATUS_LINE_IN_MESSAGE) + "..." : statusLine;
            fail(new DerpClientException("unexpected HTTP response from " + target + ": \"" + shown +
                "\" (want 101 Switching Protocols)"));
            return;
        }
        state = STATE_AWAIT_SERVER_KEY;
    }

    private void onServerKey(final DirectBuffer buffer, final int offset, final int length)
    {
        final int keyOffset;
        try
        {
            keyOffset = ServerFrames.serverKeyOffset(buffer, offset, length);
        }
        catch (final ProtocolException ex)
        {
            fail(new DerpClientException("bad ServerKey frame from " + target + ": " + ex.getMessage()));
            return;
        }
        final byte[] key = new byte[ProtocolLimits.KEY_LENGTH];
        buffer.getBytes(keyOffset, key);
        serverKey = key;
        final byte[] frame = clientInfoFrame();
        state = STATE_AWAIT_SERVER_INFO;
        channel.writeAndFlush(allocator.buffer(frame.length).writeBytes(frame), channel.voidPromise());
    }

    private void onServerInfo(final DirectBuffer buffer, final int offset, final int length)
    {
        final byte[] box = new byte[length];
        buffer.getBytes(offset, box);
        final Optional<byte[]> json = NaclBox.open(handshakeBoxKey, box, 0, length);
        Arrays.fill(handshakeBoxKey, (byte)0);
        if (json.isEmpty())
        {
            fail(new DerpClientException("ServerInfo from " + target + " does not open with the server key" +
                (usedFastStart ? " of the meta certificate" : "")));
            return;
        }
        serverInfo = new String(json.get(), StandardCharsets.UTF_8);
        if (closeRequested)
        {
            // close() was called while the handshake ran; the close is on its way and fails ready().
            return;
        }
        if (null != timeout)
        {
            timeout.cancel(false);
            timeout = null;
        }
        state = STATE_READY;
        lastReadNanos = loop.ticker().nanoTime();
        timeout = loop.schedule(readTimer, options.readTimeoutMs(), TimeUnit.MILLISECONDS);
        ready.complete(this);
    }

    /**
     * Ends a connection the server has been silent on for the read timeout: a server sends KeepAlive every 60 s, so
     * this one is gone without a FIN (spec §8: Go's client reads with a 120 s deadline). One timer per period, not
     * one per read: each read only stamps the time.
     */
    private void onReadTimer()
    {
        if (finished || STATE_READY != state)
        {
            return;
        }
        final long timeoutNanos = TimeUnit.MILLISECONDS.toNanos(options.readTimeoutMs());
        final long silentNanos = loop.ticker().nanoTime() - lastReadNanos;
        if (silentNanos >= timeoutNanos)
        {
            fail(new DerpClientException("no data from " + target + " for " +
                TimeUnit.NANOSECONDS.toMillis(silentNanos) + " ms (read timeout " + options.readTimeoutMs() +
                " ms): the server or the path to it is gone"));
            return;
        }
        timeout = loop.schedule(readTimer, timeoutNanos - silentNanos, TimeUnit.NANOSECONDS);
    }

    // ---------------------------------------------------------------------------------------------------------------
    // Frame dispatch.

    /**
     * Whether the frame's payload must be at hand before acting; if not, {@link #onHeaderOnly} acts on the header
     * alone and the payload is skipped as it streams past.
     */
    private boolean needsPayload(final byte type, final long length)
    {
        return switch (state)
        {
            case STATE_AWAIT_SERVER_KEY -> FrameType.SERVER_KEY == type &&
                length >= ProtocolLimits.SERVER_KEY_LENGTH && length <= MAX_SERVER_KEY_LENGTH;
            case STATE_AWAIT_SERVER_INFO -> FrameType.SERVER_INFO == type;
            case STATE_READY -> switch (type)
            {
                case FrameType.RECV_PACKET, FrameType.PEER_GONE, FrameType.PEER_PRESENT ->
                    ServerFrames.isValidRecvPacket((int)length);
                case FrameType.PING, FrameType.PONG -> length >= ProtocolLimits.PING_DATA_LENGTH;
                case FrameType.RESTARTING -> length >= 8;
                case FrameType.HEALTH -> true;
                default -> false;
            };
            default -> false;
        };
    }

    /**
     * Acts on a frame whose payload is not needed: a handshake violation, a KeepAlive, or anything to skip (unknown
     * types, frames too short to use, ServerKey and ServerInfo after the handshake).
     *
     * @return the number of payload bytes to skip.
     */
    private long onHeaderOnly(final byte type, final long length)
    {
        switch (state)
        {
            case STATE_AWAIT_SERVER_KEY ->
            {
                fail(new DerpClientException(FrameType.SERVER_KEY == type ?
                    "ServerKey frame from " + target + " has length=" + length + ", want " +
                    ProtocolLimits.SERVER_KEY_LENGTH + " to " + MAX_SERVER_KEY_LENGTH :
                    "first frame from " + target + " is " + FrameType.name(type) + ", want ServerKey"));
                return 0;
            }
            case STATE_AWAIT_SERVER_INFO ->
            {
                if (FrameType.SERVER_KEY == type && usedFastStart && !skippedServerKey)
                {
                    // Fast start: the server sends ServerKey anyway; the key came from the meta certificate.
                    skippedServerKey = true;
                    return length;
                }
                fail(new DerpClientException("first frame after ClientInfo from " + target + " is " +
                    FrameType.name(type) + ", want ServerInfo"));
                return 0;
            }
            case STATE_READY ->
            {
                if (FrameType.KEEP_ALIVE == type)
                {
                    listener.onKeepAlive(this);
                }
                return length;
            }
            default ->
            {
                fail(new DerpClientException("unexpected " + FrameType.name(type) + " frame from " + target +
                    " (" + stateName(state) + ")"));
                return 0;
            }
        }
    }

    private void onFrame(final byte type, final DirectBuffer buffer, final int offset, final int length)
    {
        switch (state)
        {
            case STATE_AWAIT_SERVER_KEY -> onServerKey(buffer, offset, length);
            case STATE_AWAIT_SERVER_INFO -> onServerInfo(buffer, offset, length);
            case STATE_READY -> onReadyFrame(type, buffer, offset, length);
            default ->
            {
            }
        }
    }

    private void onReadyFrame(final byte type, final DirectBuffer buffer, final int offset, final int length)
    {
        switch (type)
        {
            case FrameType.RECV_PACKET -> listener.onRecvPacket(this,
                buffer, offset + ServerFrames.RECV_PACKET_SOURCE_OFFSET,
                buffer, offset + ServerFrames.RECV_PACKET_DATA_OFFSET, length - ServerFrames.RECV_PACKET_DATA_OFFSET);
            case FrameType.PEER_GONE -> listener.onPeerGone(this, buffer, offset,
                ServerFrames.peerGoneReason(buffer, offset, length));
            case FrameType.PEER_PRESENT ->
            {
                if (ServerFrames.peerPresentHasAddress(length))
                {
                    listener.onPeerPresent(this, buffer, offset, buffer, offset + ServerFrames.PEER_PRESENT_IP_OFFSET,
                        ServerFrames.peerPresentPort(buffer, offset, length),
                        ServerFrames.peerPresentFlags(buffer, offset, length));
                }
                else
                {
                    listener.onPeerPresent(this, buffer, offset, ZERO_IP, 0, 0, (byte)0);
                }
            }
            case FrameType.PING ->
            {
                final long data = buffer.getLong(offset, ByteOrder.BIG_ENDIAN);
                if (options.canAckPings())
                {
                    final ByteBuf out = allocator.directBuffer(ControlFrames.PONG_FRAME_LENGTH);
                    out.writerIndex(ControlFrames.pong(BufferViews.writeView(out), 0, data));
                    write(out, false);
                }
                listener.onServerPing(this, data);
            }
            case FrameType.PONG -> listener.onPong(this, buffer.getLong(offset, ByteOrder.BIG_ENDIAN));
            case FrameType.HEALTH -> listener.onHealth(this, buffer.getStringWithoutLengthUtf8(offset, length));
            case FrameType.RESTARTING -> listener.onRestarting(this,
                ServerFrames.restartingReconnectInMs(buffer, offset, length),
                ServerFrames.restartingTryForMs(buffer, offset, length));
            default ->
            {
            }
        }
    }

    // ---------------------------------------------------------------------------------------------------------------
    // Writing.

    private boolean write(final ByteBuf out, final boolean flush)
    {
        final Channel ch = channel;
        if (null == ch || STATE_CLOSED == state)
        {
            out.release();
            return false;
        }
        if (flush)
        {
            ch.writeAndFlush(out, ch.voidPromise());
        }
        else
        {
            ch.write(out, ch.voidPromise());
            if (loop.inEventLoop())
            {
                unflushed = true;
            }
        }
        return true;
    }

    private static void checkPacketLength(final int dataLength)
    {
        if (dataLength < 0 || dataLength > ProtocolLimits.MAX_PACKET_SIZE)
        {
            throw new IllegalArgumentException("dataLength=" + dataLength + ", want 0 to " +
                ProtocolLimits.MAX_PACKET_SIZE);
        }
    }

    // ---------------------------------------------------------------------------------------------------------------
    // Reading.

    /**
     * The pipeline end of the client: TLS and connection events, the HTTP response head and the frame stream.
     */
    private final class Handler extends ChannelInboundHandlerAdapter
    {
        /** View of the buffer being processed; handed to the listener. */
        private final UnsafeBuffer readView = new UnsafeBuffer();
        /** Bytes of an unfinished unit (the HTTP head, or a frame cut by a read boundary), or null. */
        private ByteBuf carry;
        /** Payload bytes of a skipped frame still to come. */
        private long skipRemaining;

        @Override
        public void handlerAdded(final ChannelHandlerContext ctx)
        {
            if (null == channel)
            {
                channel = ctx.channel();
            }
            if (ctx.channel().isActive() && null == ctx.pipeline().get(SslHandler.class) && STATE_CONNECTING == state)
            {
                onTransportReady(null);
            }
        }

        @Override
        public void channelActive(final ChannelHandlerContext ctx)
        {
            if (null == ctx.pipeline().get(SslHandler.class) && STATE_CONNECTING == state)
            {
                onTransportReady(null);
            }
            ctx.fireChannelActive();
        }

        @Override
        public void userEventTriggered(final ChannelHandlerContext ctx, final Object event)
        {
            if (event instanceof SslHandshakeCompletionEvent completion && STATE_CONNECTING == state)
            {
                if (completion.isSuccess())
                {
                    onTransportReady(ctx.pipeline().get(SslHandler.class).engine().getSession());
                }
                else
                {
                    fail(new DerpClientException("TLS handshake with " + options.host() + ":" + options.port() +
                        " failed: " + describe(completion.cause()), completion.cause()));
                }
            }
            ctx.fireUserEventTriggered(event);
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
                if (STATE_CLOSED == state)
                {
                    return;
                }
                lastReadNanos = loop.ticker().nanoTime();
                if (STATE_AWAIT_HTTP == state)
                {
                    append(in, in.readableBytes());
                    readHttpHead();
                    return;
                }
                if (null != carry)
                {
                    topUpCarry(in);
                }
                if (null == carry && in.isReadable() && STATE_CLOSED != state)
                {
                    if (BufferViews.wrap(readView, in))
                    {
                        process(in);
                    }
                    else
                    {
                        append(in, in.readableBytes());
                        processCarry();
                    }
                }
                if (in.isReadable() && STATE_CLOSED != state)
                {
                    append(in, in.readableBytes());
                }
            }
            catch (final RuntimeException ex)
            {
                fail(new DerpClientException("connection to " + target + " failed while reading: " + describe(ex),
                    ex));
            }
            finally
            {
                in.release();
                if (STATE_CLOSED == state)
                {
                    releaseCarry();
                }
            }
        }

        /**
         * Collects the HTTP response head in the carry buffer; after it, the bytes left are frames.
         */
        private void readHttpHead()
        {
            final int end = headEnd(carry);
            if (end < 0)
            {
                if (carry.readableBytes() > MAX_HTTP_HEAD_LENGTH)
                {
                    fail(new DerpClientException("HTTP response head from " + target + " is longer than " +
                        MAX_HTTP_HEAD_LENGTH + " bytes"));
                }
                return;
            }
            final int start = carry.readerIndex();
            int lineEnd = start;
            while (carry.getByte(lineEnd) != '\r')
            {
                lineEnd++;
            }
            final String statusLine = carry.toString(start, lineEnd - start, StandardCharsets.ISO_8859_1);
            carry.readerIndex(end);
            onStatusLine(statusLine);
            if (STATE_CLOSED != state)
            {
                processCarry();
            }
        }

        /**
         * @return the index just after the first CRLFCRLF in the readable bytes, or -1.
         */
        private int headEnd(final ByteBuf buffer)
        {
            final int limit = buffer.writerIndex();
            for (int i = buffer.readerIndex(); i + 3 < limit; i++)
            {
                if (buffer.getByte(i) == '\r' && buffer.getByte(i + 1) == '\n' && buffer.getByte(i + 2) == '\r' &&
                    buffer.getByte(i + 3) == '\n')
                {
                    return i + 4;
                }
            }
            return -1;
        }

        /**
         * Moves just enough bytes from {@code in} into the carry to finish its unit, processes it, and repeats until
         * the carry is empty (then {@code in} is read in place) or {@code in} is exhausted.
         */
        private void topUpCarry(final ByteBuf in)
        {
            while (null != carry && STATE_CLOSED != state)
            {
                final int needed = bytesNeeded(carry);
                if (needed < 0)
                {
                    return;
                }
                if (needed > 0)
                {
                    if (!in.isReadable())
                    {
                        return;
                    }
                    final int take = Math.min(needed, in.readableBytes());
                    carry.ensureWritable(needed);
                    carry.writeBytes(in, take);
                    if (take < needed)
                    {
                        return;
                    }
                }
                processCarry();
            }
        }

        /**
         * @return bytes the unit at the head of {@code buffer} still needs, 0 if it can be processed, or -1 if the
         *     connection failed on its header.
         */
        private int bytesNeeded(final ByteBuf buffer)
        {
            final int readable = buffer.readableBytes();
            if (skipRemaining > 0)
            {
                return 0;
            }
            if (readable < FrameHeader.LENGTH)
            {
                return FrameHeader.LENGTH - readable;
            }
            final int at = buffer.readerIndex();
            final byte type = buffer.getByte(at);
            final long length = buffer.getUnsignedInt(at + FrameHeader.PAYLOAD_LENGTH_OFFSET);
            if (!checkLength(type, length))
            {
                return -1;
            }
            if (!needsPayload(type, length))
            {
                return 0;
            }
            return (int)Math.max(0, FrameHeader.LENGTH + length - readable);
        }

        private void processCarry()
        {
            if (!BufferViews.wrap(readView, carry))
            {
                throw new IllegalStateException("carry buffer is not contiguous: " + carry);
            }
            process(carry);
            if (null != carry && !carry.isReadable())
            {
                releaseCarry();
            }
        }

        /**
         * Acts on every complete unit at the head of {@code in}, leaving an incomplete one unread. {@link #readView}
         * must already cover {@code in}.
         */
        private void process(final ByteBuf in)
        {
            while (in.isReadable() && STATE_CLOSED != state)
            {
                if (skipRemaining > 0)
                {
                    final int skip = (int)Math.min(skipRemaining, in.readableBytes());
                    in.skipBytes(skip);
                    skipRemaining -= skip;
                    continue;
                }
                if (in.readableBytes() < FrameHeader.LENGTH)
                {
                    return;
                }
                final int at = in.readerIndex();
                final byte type = in.getByte(at);
                final long length = in.getUnsignedInt(at + FrameHeader.PAYLOAD_LENGTH_OFFSET);
                if (!checkLength(type, length))
                {
                    return;
                }
                if (!needsPayload(type, length))
                {
                    in.skipBytes(FrameHeader.LENGTH);
                    skipRemaining = onHeaderOnly(type, length);
                    continue;
                }
                if (in.readableBytes() - FrameHeader.LENGTH < length)
                {
                    return;
                }
                // Consumed before the call, so a listener that throws leaves the stream in step.
                in.skipBytes(FrameHeader.LENGTH + (int)length);
                onFrame(type, readView, at + FrameHeader.LENGTH, (int)length);
            }
        }

        private boolean checkLength(final byte type, final long length)
        {
            if (length > MAX_FRAME_LENGTH)
            {
                fail(new DerpClientException(FrameType.name(type) + " frame from " + target + " has length=" +
                    length + ", over the 1 MiB limit"));
                return false;
            }
            return true;
        }

        private void append(final ByteBuf in, final int length)
        {
            if (null == carry)
            {
                int capacity = Math.max(MIN_CARRY_CAPACITY, length);
                if (STATE_AWAIT_HTTP != state && 0 == skipRemaining && length >= FrameHeader.LENGTH)
                {
                    // Room for the whole frame at once, so it is not copied again while it grows.
                    final long frame = FrameHeader.LENGTH + in.getUnsignedInt(in.readerIndex() + 1);
                    capacity = (int)Math.max(capacity, Math.min(frame, FrameHeader.LENGTH + MAX_FRAME_LENGTH));
                }
                carry = allocator.directBuffer(capacity);
            }
            carry.writeBytes(in, length);
        }

        private void releaseCarry()
        {
            if (null != carry)
            {
                carry.release();
                carry = null;
            }
        }

        @Override
        public void channelReadComplete(final ChannelHandlerContext ctx)
        {
            if (unflushed)
            {
                unflushed = false;
                ctx.flush();
            }
            ctx.fireChannelReadComplete();
        }

        @Override
        public void channelWritabilityChanged(final ChannelHandlerContext ctx)
        {
            if (STATE_READY == state)
            {
                listener.onWritabilityChanged(DerpClient.this, ctx.channel().isWritable());
            }
            ctx.fireChannelWritabilityChanged();
        }

        @Override
        public void exceptionCaught(final ChannelHandlerContext ctx, final Throwable cause)
        {
            fail(new DerpClientException("connection to " + target + " failed: " + describe(cause), cause));
        }

        @Override
        public void handlerRemoved(final ChannelHandlerContext ctx)
        {
            releaseCarry();
        }
    }

}
