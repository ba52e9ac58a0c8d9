package io.jderper.core.router;

import io.jderper.core.admission.AdmissionDecision;
import io.jderper.core.admission.AdmissionRequest;
import io.jderper.core.admission.DenialReason;
import io.jderper.core.handshake.ServerHandshake;
import io.jderper.core.key.NodePublicKey;
import io.jderper.core.log.ConnectionLogs;
import io.jderper.core.log.LogBudget;
import io.jderper.core.protocol.ControlFrames;
import io.jderper.core.protocol.DiscoPacket;
import io.jderper.core.protocol.FrameType;
import io.jderper.core.protocol.PeerGoneReason;
import io.jderper.core.protocol.PeerPresentFlags;
import io.jderper.core.protocol.ProtocolException;
import io.jderper.core.protocol.ProtocolLimits;
import io.jderper.core.protocol.Violation;
import io.jderper.core.ratelimit.ReceiveRateLimit;
import io.jderper.core.ratelimit.TokenBucket;
import org.agrona.DirectBuffer;
import org.agrona.collections.Long2ObjectHashMap;
import org.agrona.collections.LongHashSet;
import org.agrona.concurrent.UnsafeBuffer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.ByteOrder;
import java.util.concurrent.ThreadLocalRandom;

/**
 * One client connection's relay state: handshake, read-side dispatch (spec §4.2), its two bounded send queues
 * (spec §4.3), Pong mailbox, PeerGone rate limit, keepalive and write-timeout clocks.
 *
 * <p>Threading: owned by one {@link RelayLoop}; every method runs on that loop's thread. Other threads reach a
 * session only through its loop's inbox or {@link ClientChannel#execute}. The exceptions are the fields marked
 * volatile, which the router reads from other loops.
 *
 * @param <P> the transport's packet type.
 */
public final class ClientSession<P>
{
    private static final Logger LOG = LoggerFactory.getLogger(ClientSession.class);

    /** Waiting for ClientInfo. */
    static final byte STATE_AWAIT_CLIENT_INFO = 0;
    /** ClientInfo opened; admission running. */
    static final byte STATE_ADMITTING = 1;
    /** ServerInfo sent; relaying. */
    static final byte STATE_ESTABLISHED = 2;
    /** Closed or closing; nothing more is written. */
    static final byte STATE_CLOSED = 3;

    private static final long NONE = Long.MIN_VALUE;
    private static final long HOME_MOVE_GRACE_NS = 5_000_000_000L;
    private static final double PEER_GONE_NOT_HERE_PER_NS = 1e-9;
    private static final double PEER_GONE_NOT_HERE_BURST = 3;
    /**
     * Destinations remembered before the closed ones are first pruned; the next prune comes at twice what stayed.
     * Small, because each closed destination kept holds its whole connection (channel, pipeline, TLS engine).
     */
    private static final int SENT_TO_PRUNE_THRESHOLD = 64;
    /** Remote senders remembered per session, for PeerGone when they leave the region; beyond this, forgotten. */
    static final int MAX_REMOTE_SENDERS = 65_536;

    private final long connectionId;
    private final RelayLoop<P> loop;
    private final Router<P> router;
    private final ClientChannel<P> channel;
    private final PacketFrames<P> frames;
    private final RelayMetrics metrics;
    private final InetSocketAddress remote;
    private final boolean notIdeal;
    private final PacketQueue<P> dataQueue;
    private final PacketQueue<P> discoQueue;
    /** Packet bytes in both queues. */
    private long queuedBytes;
    private final long createdNs;
    /** The upgrade request's bearer token, kept only until admission decides. */
    private String bearerToken;

    private byte state = STATE_AWAIT_CLIENT_INFO;
    private NodePublicKey key;
    private final UnsafeBuffer keyBuffer = new UnsafeBuffer(new byte[ProtocolLimits.KEY_LENGTH]);
    private boolean meshPrivileged;
    // Sealed while ClientInfo was opened (one X25519 for both boxes); sent once admitted, then dropped.
    private byte[] pendingServerInfo;
    private boolean prober;
    private boolean preferred;
    private long establishedNs = NONE;
    private long nextKeepAliveNs = NONE;
    private long nextTcpRttSampleNs = NONE;
    private long keepAlivePeriodNs;
    private long unwritableSinceNs = NONE;
    private boolean pongPending;
    private long pongData;
    private double notHereTokens = PEER_GONE_NOT_HERE_BURST;
    private long notHereRefillNs;
    private boolean dirty;
    private Long2ObjectHashMap<ClientSession<P>> sentTo;
    private ClientSession<P> pendingDestination;
    private PacketForwarder<P> pendingForwarder;
    /** Key prefixes of mesh-forwarded senders this client received from (spec §4.7); null until the first. */
    private LongHashSet receivedFromRemote;
    private boolean readingPaused;
    /** Set when the core asked the transport to close; {@link #onClosed()} follows later. */
    private boolean closing;
    private int sentToPruneAt = SENT_TO_PRUNE_THRESHOLD;
    private boolean watching;
    private long lastActivityNs;
    /** Made when a limit first applies to this client; replaced when the limit changes. */
    private TokenBucket receiveBucket;
    private ReceiveRateLimit receiveBucketLimit;
    /** Shutting down: close as soon as what is queued has been written. */
    private boolean closeWhenDrained;

    /** Position in the owning loop's session list, for O(1) removal; loop thread only. */
    int loopIndex = -1;

    /** Set by the router when another connection shares this key; read on every frame. */
    volatile boolean duplicate;

    ClientSession(
        final long connectionId,
        final RelayLoop<P> loop,
        final Router<P> router,
        final ClientChannel<P> channel,
        final InetSocketAddress remote,
        final boolean notIdeal,
        final String bearerToken,
        final long nowNs)
    {
        this.bearerToken = bearerToken;
        this.connectionId = connectionId;
        this.loop = loop;
        this.router = router;
        this.channel = channel;
        this.frames = loop.frames();
        this.metrics = router.metrics();
        this.remote = remote;
        this.notIdeal = notIdeal;
        this.dataQueue = new PacketQueue<>(loop.queuePool());
        this.discoQueue = new PacketQueue<>(loop.queuePool());
        this.createdNs = nowNs;
        this.notHereRefillNs = nowNs;
    }

    /**
     * @return the id packets for this session are tagged with; unique for the life of the process.
     */
    public long connectionId()
    {
        return connectionId;
    }

    /**
     * @return the client's key, or null before ClientInfo was opened.
     */
    public NodePublicKey key()
    {
        return key;
    }

    /**
     * @return whether ClientInfo carried this server's mesh key.
     */
    public boolean isMeshPrivileged()
    {
        return meshPrivileged;
    }

    /**
     * @return whether ServerInfo has been sent and the session relays packets.
     */
    public boolean isEstablished()
    {
        return STATE_ESTABLISHED == state;
    }

    /**
     * @return the client's address as seen by the server.
     */
    public InetSocketAddress remoteAddress()
    {
        return remote;
    }

    /**
     * @return whether the first frame (ClientInfo) is still awaited.
     */
    public boolean awaitsClientInfo()
    {
        return STATE_AWAIT_CLIENT_INFO == state;
    }

    boolean hasKey(final DirectBuffer other, final int offset)
    {
        final UnsafeBuffer mine = keyBuffer;
        return mine.getLong(0) == other.getLong(offset) &&
            mine.getLong(8) == other.getLong(offset + 8) &&
            mine.getLong(16) == other.getLong(offset + 16) &&
            mine.getLong(24) == other.getLong(offset + 24);
    }

    /**
     * @return whether admission is still deciding; the transport stops feeding frames meanwhile.
     */
    public boolean isAdmitting()
    {
        return STATE_ADMITTING == state;
    }

    RelayLoop<P> loop()
    {
        return loop;
    }

    ClientChannel<P> channel()
    {
        return channel;
    }

    DirectBuffer keyBuffer()
    {
        return keyBuffer;
    }

    long lastActivityNs()
    {
        return lastActivityNs;
    }

    boolean isProber()
    {
        return prober;
    }

    boolean isNotIdeal()
    {
        return notIdeal;
    }

    byte presentFlags()
    {
        return PeerPresentFlags.of(meshPrivileged, prober, notIdeal);
    }

    int sentToCountForTest()
    {
        return null == sentTo ? 0 : sentTo.size();
    }

    Long2ObjectHashMap<ClientSession<P>> sentTo()
    {
        return sentTo;
    }

    /**
     * Handles the first frame, which must be ClientInfo (spec §4.1), then runs admission.
     *
     * @param type    frame type.
     * @param payload buffer holding the payload.
     * @param offset  where it starts.
     * @param length  payload bytes.
     * @throws ProtocolException if the frame is not a valid ClientInfo.
     */
    public void onClientInfo(final byte type, final DirectBuffer payload, final int offset, final int length)
    {
        if (STATE_AWAIT_CLIENT_INFO != state)
        {
            throw new IllegalStateException("ClientInfo already handled, state=" + state);
        }
        final ServerHandshake.AuthenticatedClient client = router.handshake().openClientInfo(type, payload, offset,
            length);
        key = client.key();
        key.copyTo(keyBuffer.byteArray(), 0);
        meshPrivileged = client.meshPrivileged();
        pendingServerInfo = client.serverInfoFrame();
        prober = client.info().isProber();
        final String token = bearerToken;
        bearerToken = null;
        if (meshPrivileged)
        {
            finishHandshake();
            return;
        }
        state = STATE_ADMITTING;
        final InetAddress address = null == remote ? null : remote.getAddress();
        final var decision = router.admission().admit(new AdmissionRequest(key, address, token))
            .toCompletableFuture();
        if (decision.isDone() && !decision.isCompletedExceptionally())
        {
            onAdmission(decision.join(), null);
            return;
        }
        readingPaused = true;
        channel.setReading(false);
        decision.whenComplete((admitted, error) -> channel.execute(() -> onAdmission(admitted, error)));
    }

    private void onAdmission(final AdmissionDecision decision, final Throwable error)
    {
        if (STATE_ADMITTING != state || closing)
        {
            return;
        }
        if (null != error || null == decision || !decision.admitted())
        {
            final DenialReason reason = null == error && null != decision && null != decision.reason() ?
                decision.reason() : DenialReason.ERROR;
            final String detail = null != error ? String.valueOf(error) : null == decision ? "no decision" :
                decision.detail();
            metrics.violation(Violation.NOT_ADMITTED);
            metrics.countAdmissionDenied(reason);
            final long skipped = ConnectionLogs.VIOLATIONS.take(Violation.NOT_ADMITTED);
            if (skipped >= 0)
            {
                LOG.info("closing {}: not admitted: {} ({}){}", describe(), reason.label(), detail,
                    LogBudget.skippedNote(skipped));
            }
            close();
            return;
        }
        finishHandshake();
        if (readingPaused)
        {
            readingPaused = false;
            channel.setReading(true);
        }
    }

    private void finishHandshake()
    {
        final byte[] serverInfo = pendingServerInfo;
        pendingServerInfo = null;
        final UnsafeBuffer frame = new UnsafeBuffer(serverInfo);
        // ServerInfo is written before the session becomes routable, so it precedes every other frame.
        channel.writeControl(frame, 0, serverInfo.length);
        channel.flush();
        state = STATE_ESTABLISHED;
        final long nowNs = loop.nanoTime();
        establishedNs = nowNs;
        metrics.handshakeNanos.record(nowNs - createdNs);
        lastActivityNs = nowNs;
        final RelayConfig config = loop.config();
        keepAlivePeriodNs = (config.keepAliveMs() +
            (config.keepAliveJitterMs() > 0 ? ThreadLocalRandom.current().nextLong(config.keepAliveJitterMs()) : 0))
            * 1_000_000L;
        nextKeepAliveNs = nowNs + keepAlivePeriodNs;
        if (config.tcpRttIntervalMs() > 0)
        {
            startTcpRttSamples(nowNs, config.tcpRttIntervalMs());
        }
        router.register(this);
        LOG.debug("connected: {}{}{}", describe(), meshPrivileged ? " (mesh peer)" : "", prober ? " (prober)" : "");
    }

    /**
     * As derper: a first reading only checks that the connection's RTT can be read; if not, {@code non-tcp} or
     * {@code error} is counted once and the connection is never asked again. Then one sample per period.
     */
    private void startTcpRttSamples(final long nowNs, final long intervalMs)
    {
        final long rttMicros = channel.tcpRttMicros();
        if (rttMicros >= 0)
        {
            nextTcpRttSampleNs = nowNs + intervalMs * 1_000_000L;
        }
        else
        {
            metrics.countTcpRtt(ClientChannel.RTT_NOT_TCP == rttMicros ? TcpRtt.NON_TCP : TcpRtt.ERROR);
        }
    }

    /**
     * Dispatches one whole control frame after the handshake (spec §4.2): Ping, NotePreferred, WatchConns,
     * ClosePeer. Packets go through {@link #beginSendPacket}. Payload lengths were already checked against
     * {@link io.jderper.core.protocol.FrameRules} when the header arrived.
     *
     * @param type    frame type.
     * @param payload buffer holding the payload.
     * @param offset  where it starts.
     * @param length  payload bytes.
     */
    public void onFrame(final byte type, final DirectBuffer payload, final int offset, final int length)
    {
        if (STATE_ESTABLISHED != state)
        {
            return;
        }
        noteActivity();
        switch (type)
        {
            case FrameType.PING -> onPing(payload, offset);
            case FrameType.NOTE_PREFERRED -> onNotePreferred(0 != payload.getByte(offset));
            case FrameType.WATCH_CONNS -> onWatchConns();
            case FrameType.CLOSE_PEER -> router.closePeer(NodePublicKey.fromBuffer(payload, offset));
            default -> metrics.unknownFrames.increment();
        }
    }

    /**
     * Charges a frame to this client's receive rate limit (spec §4.8), once, when its header has arrived and before
     * its payload is read. The transport stops reading for the returned time: TCP then pushes back on the client,
     * as derper's sleep does. Mesh peers and an unlimited relay are never charged.
     *
     * @param frameLength the frame's payload length (header excluded), as derper charges.
     * @return nanoseconds to wait before reading on; 0 to go on at once.
     */
    public long chargeFrame(final long frameLength)
    {
        final ReceiveRateLimit limit = router.receiveRateLimit();
        if (meshPrivileged || !limit.limits())
        {
            return 0;
        }
        final long nowNs = loop.nanoTime();
        if (limit != receiveBucketLimit)
        {
            // A new limit (a reload) starts with a full bucket, as derper's new limiter does.
            receiveBucket = new TokenBucket(limit, nowNs);
            receiveBucketLimit = limit;
        }
        final long waitNs = receiveBucket.reserve(Math.min(frameLength, ReceiveRateLimit.MIN_BURST_BYTES), nowNs);
        if (waitNs > 0)
        {
            metrics.rateLimitWaited.increment();
        }
        return waitNs;
    }

    /**
     * Counts a frame that was skipped by length without being buffered.
     *
     * @param type the skipped frame's type.
     */
    public void onSkippedFrame(final byte type)
    {
        if (STATE_ESTABLISHED == state)
        {
            noteActivity();
        }
        if (!FrameType.isKnown(type))
        {
            metrics.unknownFrames.increment();
        }
    }

    /**
     * Starts relaying a SendPacket (spec §4.4). The transport calls this once the destination key and the first
     * {@code min(6, dataLength)} data bytes (enough to tell disco) are at hand, and copies the data into the
     * returned frame itself before calling {@link #completePacket}.
     *
     * @param head       buffer holding the destination key followed by the start of the data.
     * @param offset     where the key starts.
     * @param dataLength packet bytes after the key.
     * @return the frame to fill, or null if the packet is dropped (the transport then discards the data).
     */
    public P beginSendPacket(final DirectBuffer head, final int offset, final int dataLength)
    {
        if (STATE_ESTABLISHED != state)
        {
            return null;
        }
        noteActivity();
        final boolean disco = DiscoPacket.isDisco(head, offset + ProtocolLimits.KEY_LENGTH, dataLength);
        metrics.packetsReceived.increment();
        metrics.bytesReceived.add(dataLength);
        metrics.packetsReceivedKind[RelayMetrics.kind(disco)].increment();

        final ClientSession<P> destination = router.lookupActive(head, offset);
        if (null == destination)
        {
            final PacketForwarder<P> forwarder = router.lookupForwarder(head, offset);
            if (null != forwarder)
            {
                return startForward(forwarder, head, offset, dataLength, disco);
            }
            metrics.dropped(DropReason.UNKNOWN_DEST, disco, dataLength);
            if (disco)
            {
                sendPeerGoneNotHere(head, offset);
            }
            return null;
        }
        noteSentTo(destination);
        return startFrame(destination, keyBuffer, 0, dataLength, disco, false);
    }

    /**
     * Starts relaying a ForwardPacket from a mesh peer: delivered locally only, never forwarded again.
     *
     * @param head       buffer holding source key, destination key, then the start of the data.
     * @param offset     where the source key starts.
     * @param dataLength packet bytes after the two keys.
     * @return the frame to fill, or null if the packet is dropped.
     */
    public P beginForwardPacket(final DirectBuffer head, final int offset, final int dataLength)
    {
        if (STATE_ESTABLISHED != state || !meshPrivileged)
        {
            return null;
        }
        noteActivity();
        metrics.packetsForwardedIn.increment();
        final int destinationOffset = offset + ProtocolLimits.KEY_LENGTH;
        final boolean disco = DiscoPacket.isDisco(head, offset + 2 * ProtocolLimits.KEY_LENGTH, dataLength);
        final ClientSession<P> destination = router.lookupActive(head, destinationOffset);
        if (null == destination)
        {
            metrics.dropped(DropReason.UNKNOWN_DEST_ON_FWD, disco, dataLength);
            if (disco)
            {
                sendPeerGoneNotHere(head, destinationOffset);
            }
            return null;
        }
        return startFrame(destination, head, offset, dataLength, disco, true);
    }

    private P startForward(
        final PacketForwarder<P> forwarder,
        final DirectBuffer destinationKey,
        final int destinationOffset,
        final int dataLength,
        final boolean disco)
    {
        final P packet = frames.forwardPacket(keyBuffer, 0, destinationKey, destinationOffset, dataLength);
        if (null == packet)
        {
            metrics.dropped(DropReason.QUEUE_TAIL, disco, dataLength);
            return null;
        }
        pendingForwarder = forwarder;
        return packet;
    }

    private P startFrame(
        final ClientSession<P> destination,
        final DirectBuffer sourceKey,
        final int sourceOffset,
        final int dataLength,
        final boolean disco,
        final boolean forwarded)
    {
        final P packet = frames.recvPacket(destination.connectionId, disco, forwarded, sourceKey, sourceOffset,
            dataLength);
        if (null == packet)
        {
            metrics.dropped(DropReason.QUEUE_TAIL, disco, dataLength);
            return null;
        }
        pendingDestination = destination;
        return packet;
    }

    /**
     * Hands a frame from {@link #beginSendPacket} or {@link #beginForwardPacket}, now holding its data, to the
     * destination: directly if it lives on this loop, else through its loop's inbox.
     *
     * @param packet the filled frame.
     */
    public void completePacket(final P packet)
    {
        final PacketForwarder<P> forwarder = pendingForwarder;
        if (null != forwarder)
        {
            pendingForwarder = null;
            completeForward(forwarder, packet);
            return;
        }
        final ClientSession<P> destination = pendingDestination;
        pendingDestination = null;
        if (null == destination)
        {
            throw new IllegalStateException("completePacket without beginSendPacket/beginForwardPacket");
        }
        final boolean disco = frames.isDisco(packet);
        final int dataLength = frames.dataLength(packet);
        if (destination.loop == loop)
        {
            destination.enqueue(packet, disco, dataLength);
        }
        else
        {
            destination.loop.offer(packet, disco, dataLength);
        }
    }

    /**
     * Forgets a frame from {@link #beginSendPacket} that will never be completed (the connection closed while its
     * data was arriving); the transport has already released it.
     */
    public void abandonPacket()
    {
        pendingDestination = null;
        pendingForwarder = null;
    }

    private void completeForward(final PacketForwarder<P> forwarder, final P packet)
    {
        // Read before the hand-over: the forwarder owns (and may release) the frame once called.
        final int dataLength = frames.dataLength(packet);
        metrics.packetsForwardedOut.increment();
        if (!forwarder.forward(packet))
        {
            metrics.dropped(DropReason.QUEUE_TAIL, false, dataLength);
        }
    }

    /**
     * Remembers that this client received a packet from a key connected to another node (or one that was here and
     * is now there), so that it hears PeerGone when the key leaves the region. On the loop thread.
     */
    void noteRemoteSender(final long keyPrefix)
    {
        LongHashSet senders = receivedFromRemote;
        if (null == senders)
        {
            if (STATE_CLOSED == state)
            {
                return;
            }
            senders = new LongHashSet();
            receivedFromRemote = senders;
        }
        if (senders.size() < MAX_REMOTE_SENDERS && senders.add(keyPrefix) && 1 == senders.size())
        {
            router.noteRemoteReceiverSession(1);
        }
    }

    void onRemoteSenderGone(final long keyPrefix, final DirectBuffer key)
    {
        final LongHashSet senders = receivedFromRemote;
        if (null != senders && senders.remove(keyPrefix))
        {
            if (senders.isEmpty())
            {
                router.noteRemoteReceiverSession(-1);
            }
            writePeerGone(key, 0, PeerGoneReason.DISCONNECTED);
        }
    }

    private void noteActivity()
    {
        if (duplicate)
        {
            lastActivityNs = loop.nanoTime();
            router.noteDuplicateActivity(this);
        }
    }

    private void noteSentTo(final ClientSession<P> destination)
    {
        Long2ObjectHashMap<ClientSession<P>> map = sentTo;
        if (null == map)
        {
            map = new Long2ObjectHashMap<>();
            sentTo = map;
        }
        if (null == map.get(destination.connectionId))
        {
            if (map.size() >= sentToPruneAt)
            {
                map.values().removeIf(ClientSession::isClosed);
                sentToPruneAt = Math.max(SENT_TO_PRUNE_THRESHOLD, map.size() * 2);
            }
            map.put(destination.connectionId, destination);
        }
    }

    boolean isClosed()
    {
        return STATE_CLOSED == state;
    }

    private void onPing(final DirectBuffer payload, final int offset)
    {
        metrics.gotPing.increment();
        if (pongPending)
        {
            // One-slot mailbox, as derper: a Ping that finds a Pong still waiting is ignored.
            return;
        }
        pongData = payload.getLong(offset, ByteOrder.BIG_ENDIAN);
        pongPending = true;
        markDirty();
    }

    private void onNotePreferred(final boolean nowPreferred)
    {
        if (nowPreferred == preferred)
        {
            return;
        }
        preferred = nowPreferred;
        metrics.currentHomeConnections.addAndGet(nowPreferred ? 1 : -1);
        if (loop.nanoTime() - establishedNs > HOME_MOVE_GRACE_NS)
        {
            (nowPreferred ? metrics.homeMovesIn : metrics.homeMovesOut).increment();
        }
    }

    private void onWatchConns()
    {
        if (watching || router.handshake().serverPublicKey().equals(key))
        {
            // A mesh peer that dialled itself: nothing to watch (spec §4.7).
            return;
        }
        watching = true;
        router.addWatcher(this);
    }

    private void sendPeerGoneNotHere(final DirectBuffer keyHolder, final int keyOffset)
    {
        final long nowNs = loop.nanoTime();
        notHereTokens = Math.min(PEER_GONE_NOT_HERE_BURST,
            notHereTokens + (nowNs - notHereRefillNs) * PEER_GONE_NOT_HERE_PER_NS);
        notHereRefillNs = nowNs;
        if (notHereTokens < 1)
        {
            return;
        }
        notHereTokens -= 1;
        writePeerGone(keyHolder, keyOffset, PeerGoneReason.NOT_HERE);
    }

    /**
     * Writes a PeerGone frame now (or never, if closed). On the loop thread.
     */
    void writePeerGone(final DirectBuffer keyHolder, final int keyOffset, final byte reason)
    {
        if (STATE_ESTABLISHED != state)
        {
            return;
        }
        final UnsafeBuffer scratch = loop.scratch();
        final int length = ControlFrames.peerGone(scratch, 0, keyHolder, keyOffset, reason);
        channel.writeControl(scratch, 0, length);
        (PeerGoneReason.NOT_HERE == reason ? metrics.peerGoneNotHereFrames : metrics.peerGoneDisconnectedFrames)
            .increment();
        markDirty();
    }

    /**
     * Writes a PeerPresent frame to this (watcher) session. On the loop thread.
     */
    void writePeerPresent(final byte[] peerKey, final byte[] ip16, final int port, final byte flags)
    {
        if (STATE_ESTABLISHED != state)
        {
            return;
        }
        final UnsafeBuffer scratch = loop.scratch();
        final int length = ControlFrames.peerPresent(scratch, 0, peerKey, ip16, port, flags);
        channel.writeControl(scratch, 0, length);
        markDirty();
    }

    /**
     * Takes a packet for this client on its own loop. A writable client gets it written at once (flushed at the
     * end of the batch); otherwise it waits in its queue, and the drop policy of spec §4.3 applies: a full queue
     * loses its oldest packet so fresh packets win, and the sender never waits.
     */
    void enqueue(final P packet, final boolean disco, final int dataLength)
    {
        if (STATE_ESTABLISHED != state)
        {
            metrics.dropped(DropReason.GONE_DISCONNECTED, disco, dataLength);
            frames.release(packet);
            return;
        }
        markDirty();
        if (frames.isForwarded(packet))
        {
            noteRemoteSender(frames.sourceKeyPrefix(packet));
        }
        if (dataQueue.isEmpty() && discoQueue.isEmpty() && channel.isWritable())
        {
            // Nothing waits ahead of it: write now, flush with the rest of the batch.
            writePacket(packet);
            return;
        }
        final PacketQueue<P> queue = disco ? discoQueue : dataQueue;
        if (queue.isFull())
        {
            // A burst larger than the queue within one batch: push what was written to the socket first, and
            // drop only if the client still cannot take more.
            channel.flush();
            writeQueued();
        }
        if (queue.isFull())
        {
            dropOldest(queue, DropReason.QUEUE_HEAD, disco);
        }
        final QueueLimits limits = router.queueLimits();
        while (queuedBytes + dataLength > limits.perClientBytes() && !queue.isEmpty())
        {
            dropOldest(queue, DropReason.QUEUE_BYTES, disco);
        }
        final DropReason refused = queuedBytes + dataLength > limits.perClientBytes() ? DropReason.QUEUE_BYTES :
            !router.reserveQueued(dataLength, limits.totalBytes()) ? DropReason.TOTAL_QUEUE_BYTES : null;
        if (null != refused)
        {
            metrics.dropped(refused, disco, dataLength);
            frames.release(packet);
            return;
        }
        queuedBytes += dataLength;
        queue.add(packet);
    }

    private void dropOldest(final PacketQueue<P> queue, final DropReason reason, final boolean disco)
    {
        final P oldest = take(queue);
        metrics.dropped(reason, disco, frames.dataLength(oldest));
        frames.release(oldest);
    }

    /**
     * Takes the oldest packet out of a queue, and its bytes out of this client's and the relay's queued totals.
     */
    private P take(final PacketQueue<P> queue)
    {
        final P packet = queue.poll();
        if (null != packet)
        {
            final int length = frames.dataLength(packet);
            queuedBytes -= length;
            router.releaseQueued(length);
        }
        return packet;
    }

    private void writePacket(final P packet)
    {
        metrics.packetsSent.increment();
        metrics.bytesSent.add(frames.dataLength(packet));
        channel.writePacket(packet);
    }

    /**
     * Writes queued packets, disco first, while the channel takes them.
     */
    private void writeQueued()
    {
        while (channel.isWritable())
        {
            P packet = take(discoQueue);
            if (null == packet)
            {
                packet = take(dataQueue);
                if (null == packet)
                {
                    return;
                }
            }
            writePacket(packet);
        }
    }

    private void markDirty()
    {
        if (!dirty)
        {
            dirty = true;
            loop.markDirty(this);
        }
    }

    /**
     * Writes what is queued while the channel takes it, then flushes once. Called by the loop after a batch.
     */
    void drainAndFlush()
    {
        dirty = false;
        if (STATE_CLOSED == state)
        {
            return;
        }
        if (pongPending)
        {
            final UnsafeBuffer scratch = loop.scratch();
            final int length = ControlFrames.pong(scratch, 0, pongData);
            channel.writeControl(scratch, 0, length);
            pongPending = false;
            metrics.sentPong.increment();
        }
        writeQueued();
        // Packets and control frames written since the last drain also need this flush.
        channel.flush();
        if (closeWhenDrained && dataQueue.isEmpty() && discoQueue.isEmpty() && !closing)
        {
            closing = true;
            channel.closeAfterFlush();
        }
    }

    /**
     * Graceful shutdown (spec §4.16): tells the client when to reconnect and for how long to keep trying
     * (Restarting), writes what is still queued for it, then closes. A session still in its handshake is closed at
     * once. On the loop thread.
     *
     * @param reconnectInMs when the client should reconnect.
     * @param tryForMs      how long it should keep trying.
     */
    void announceRestart(final int reconnectInMs, final int tryForMs)
    {
        if (STATE_CLOSED == state || closing)
        {
            return;
        }
        if (STATE_ESTABLISHED != state)
        {
            close();
            return;
        }
        final UnsafeBuffer scratch = loop.scratch();
        channel.writeControl(scratch, 0, ControlFrames.restarting(scratch, 0, reconnectInMs, tryForMs));
        metrics.restartingFrames.increment();
        closeWhenDrained = true;
        markDirty();
    }

    /**
     * Called by the transport when the outbound buffer crosses its water marks.
     *
     * @param writable the new writability.
     */
    public void onWritabilityChanged(final boolean writable)
    {
        if (writable)
        {
            unwritableSinceNs = NONE;
            if (!dataQueue.isEmpty() || !discoQueue.isEmpty() || pongPending)
            {
                markDirty();
            }
        }
        else if (NONE == unwritableSinceNs)
        {
            unwritableSinceNs = loop.nanoTime();
        }
    }

    /**
     * @return packets waiting in both queues, or -1 before the handshake is done and after the close began.
     */
    int queuedPackets()
    {
        return STATE_ESTABLISHED == state && !closing ? dataQueue.size() + discoQueue.size() : -1;
    }

    /**
     * Periodic housekeeping: handshake deadline, KeepAlive, write timeout, TCP RTT samples.
     */
    void onTick(final long nowNs)
    {
        if (closing)
        {
            return;
        }
        switch (state)
        {
            case STATE_AWAIT_CLIENT_INFO, STATE_ADMITTING ->
            {
                if (nowNs - createdNs > loop.config().handshakeTimeoutMs() * 1_000_000L)
                {
                    metrics.violation(Violation.HANDSHAKE_TIMEOUT);
                    final long skipped = ConnectionLogs.VIOLATIONS.take(Violation.HANDSHAKE_TIMEOUT);
                    if (skipped >= 0)
                    {
                        LOG.info("closing {}: handshake not done within {} ms ({}){}", describe(),
                            loop.config().handshakeTimeoutMs(), Violation.HANDSHAKE_TIMEOUT.label(),
                            LogBudget.skippedNote(skipped));
                    }
                    close();
                }
            }
            case STATE_ESTABLISHED ->
            {
                final long writeTimeoutNs = (meshPrivileged ? ProtocolLimits.MESH_WRITE_TIMEOUT_MS :
                    loop.config().writeTimeoutMs()) * 1_000_000L;
                if (NONE != unwritableSinceNs && writeTimeoutNs > 0 && nowNs - unwritableSinceNs > writeTimeoutNs)
                {
                    metrics.writeTimeouts.increment();
                    final long skipped = ConnectionLogs.WRITE_STALLS.take();
                    if (skipped >= 0)
                    {
                        LOG.info("closing {}: writes stalled for over {} ms{}", describe(), writeTimeoutNs / 1_000_000L,
                            LogBudget.skippedNote(skipped));
                    }
                    close();
                    return;
                }
                if (nowNs - nextKeepAliveNs >= 0)
                {
                    nextKeepAliveNs = nowNs + keepAlivePeriodNs;
                    final UnsafeBuffer scratch = loop.scratch();
                    channel.writeControl(scratch, 0, ControlFrames.keepAlive(scratch, 0));
                    metrics.keepAlivesSent.increment();
                    markDirty();
                }
                if (NONE != nextTcpRttSampleNs && nowNs - nextTcpRttSampleNs >= 0)
                {
                    nextTcpRttSampleNs = nowNs + loop.config().tcpRttIntervalMs() * 1_000_000L;
                    final long rttMicros = channel.tcpRttMicros();
                    if (rttMicros >= 0)
                    {
                        metrics.countTcpRtt(TcpRtt.ofMicros(rttMicros));
                    }
                }
            }
            default ->
            {
            }
        }
    }

    /**
     * Closes the connection from the core's side (timeouts, violations already counted by the caller).
     */
    public void close()
    {
        if (STATE_CLOSED != state && !closing)
        {
            closing = true;
            channel.close();
        }
    }

    /**
     * Called by the transport once, on the loop, when the connection has closed for any reason.
     */
    public void onClosed()
    {
        if (STATE_CLOSED == state)
        {
            return;
        }
        final boolean wasEstablished = STATE_ESTABLISHED == state;
        state = STATE_CLOSED;
        releaseQueue(dataQueue, false);
        releaseQueue(discoQueue, true);
        pongPending = false;
        if (preferred)
        {
            metrics.currentHomeConnections.decrementAndGet();
        }
        if (watching)
        {
            router.removeWatcher(this);
        }
        if (null != receivedFromRemote && !receivedFromRemote.isEmpty())
        {
            router.noteRemoteReceiverSession(-1);
        }
        receivedFromRemote = null;
        if (wasEstablished)
        {
            router.unregister(this);
            if (LOG.isDebugEnabled())
            {
                LOG.debug("disconnected: {} after {} ms", describe(), (loop.nanoTime() - establishedNs) / 1_000_000L);
            }
        }
        loop.remove(this);
    }

    private void releaseQueue(final PacketQueue<P> queue, final boolean disco)
    {
        P packet;
        while (null != (packet = take(queue)))
        {
            metrics.dropped(DropReason.GONE_DISCONNECTED, disco, frames.dataLength(packet));
            frames.release(packet);
        }
    }

    /**
     * @return a description for logs: key (if known) and remote address.
     */
    public String describe()
    {
        return (null == key ? "unauthenticated" : key.toShortString()) + " from " + remote;
    }

    @Override
    public String toString()
    {
        return "ClientSession{" + describe() + ", id=" + connectionId + "}";
    }
}
