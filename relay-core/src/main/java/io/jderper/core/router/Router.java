package io.jderper.core.router;

import io.jderper.core.admission.AdmissionPolicy;
import io.jderper.core.handshake.ServerHandshake;
import io.jderper.core.key.NodePublicKey;
import io.jderper.core.net.Ip16;
import io.jderper.core.protocol.PeerGoneReason;
import io.jderper.core.ratelimit.ReceiveRateLimit;
import org.agrona.DirectBuffer;
import org.agrona.collections.Long2ObjectHashMap;
import org.agrona.concurrent.UnsafeBuffer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.net.InetSocketAddress;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Who is connected, and where a packet for a key goes (spec §4.4–§4.7).
 *
 * <p>The packet path calls only {@link #lookupActive}: one lock-free probe of the off-heap {@link KeyTable} and
 * one array read. Everything else (registration, duplicates, departures, watchers) is the control plane and
 * serialises on {@code lock}; it runs once per connection, not per packet.
 *
 * @param <P> the transport's packet type.
 */
public final class Router<P>
{
    private static final Logger LOG = LoggerFactory.getLogger(Router.class);

    private final ServerHandshake handshake;
    private final AdmissionPolicy admission;
    private final RelayConfig config;
    private final RelayMetrics metrics;
    private final SessionTable<P> sessionTable = new SessionTable<>();
    private final KeyTable activeByKey = new KeyTable(1024);
    private final CopyOnWriteArrayList<ClientSession<P>> watchers = new CopyOnWriteArrayList<>();
    private final CopyOnWriteArrayList<RelayLoop<P>> loops = new CopyOnWriteArrayList<>();
    /** Keys connected to other nodes of the region: key to an index into {@link #forwarderSlots}. */
    private final KeyTable forwarderByKey = new KeyTable(256);
    /** Every forwarder ever registered, by index; replaced (never changed in place) under {@code lock}. */
    private volatile Object[] forwarderSlots = new Object[0];
    /** Sessions holding records of packets from remote keys; while 0, no departure needs a broadcast. */
    private final AtomicInteger remoteReceiverSessions = new AtomicInteger();
    private volatile ReceiveRateLimit receiveRateLimit = ReceiveRateLimit.NONE;
    private volatile QueueLimits queueLimits = QueueLimits.PER_CLIENT_ONLY;
    /** Packet bytes queued for all clients on every loop: touched when a packet waits, never when written at once. */
    private final AtomicLong queuedBytes = new AtomicLong();

    private final Object lock = new Object();
    /** Guarded by {@code lock}: every local connection of each key, and what departed duplicates sent to. */
    private final HashMap<NodePublicKey, KeyConnections<P>> byKey = new HashMap<>();
    /** Guarded by {@code lock}: the forwarders of each remote key, first registered first (it is preferred). */
    private final HashMap<NodePublicKey, ArrayList<PacketForwarder<P>>> forwardersByKey = new HashMap<>();
    /** Guarded by {@code lock}: each forwarder's index into {@link #forwarderSlots}. */
    private final IdentityHashMap<PacketForwarder<P>, Integer> forwarderIndex = new IdentityHashMap<>();

    /**
     * @param handshake server key and handshake logic.
     * @param admission who may connect.
     * @param config    relay tunables.
     * @param metrics   where counts go.
     */
    public Router(final ServerHandshake handshake, final AdmissionPolicy admission, final RelayConfig config,
        final RelayMetrics metrics)
    {
        this.handshake = handshake;
        this.admission = admission;
        this.config = config;
        this.metrics = metrics;
    }

    ServerHandshake handshake()
    {
        return handshake;
    }

    AdmissionPolicy admission()
    {
        return admission;
    }

    /**
     * @return the relay tunables.
     */
    public RelayConfig config()
    {
        return config;
    }

    /**
     * @return the per-client receive rate limit in force.
     */
    public ReceiveRateLimit receiveRateLimit()
    {
        return receiveRateLimit;
    }

    /**
     * Applies a per-client receive rate limit to every connection, present and future, as derper's
     * {@code UpdateRateLimits}: each gets a full bucket at its next frame.
     *
     * @param limit the new limit.
     */
    public void setReceiveRateLimit(final ReceiveRateLimit limit)
    {
        receiveRateLimit = limit;
    }

    /**
     * @param limits the byte bounds on queued packets, for queues from now on.
     */
    public void setQueueLimits(final QueueLimits limits)
    {
        queueLimits = limits;
    }

    QueueLimits queueLimits()
    {
        return queueLimits;
    }

    /**
     * Takes room for a packet about to wait in a queue from the relay-wide budget.
     *
     * @return false if the relay already holds its bound.
     */
    boolean reserveQueued(final int bytes, final long totalBound)
    {
        if (queuedBytes.addAndGet(bytes) > totalBound)
        {
            queuedBytes.addAndGet(-bytes);
            return false;
        }
        return true;
    }

    void releaseQueued(final int bytes)
    {
        queuedBytes.addAndGet(-bytes);
    }

    /**
     * @return packet bytes waiting in every client's queues now.
     */
    public long queuedBytes()
    {
        return queuedBytes.get();
    }

    /**
     * @return the relay's counters.
     */
    public RelayMetrics metrics()
    {
        return metrics;
    }

    SessionTable<P> sessionTable()
    {
        return sessionTable;
    }

    long allocateId()
    {
        return sessionTable.allocateId();
    }

    /**
     * Finds the active local connection of the key at {@code keyOffset}, without locking or allocating.
     *
     * @param key       buffer holding the key.
     * @param keyOffset where the 32 bytes start.
     * @return the session, or null if the key has no local connection.
     */
    public ClientSession<P> lookupActive(final DirectBuffer key, final int keyOffset)
    {
        final int slot = activeByKey.get(key, keyOffset);
        if (KeyTable.MISSING == slot)
        {
            return null;
        }
        final ClientSession<P> session = sessionTable.bySlot(slot);
        // A reader racing a departure may see a slot already reused by another key: check the key itself.
        return null != session && session.isEstablished() && session.hasKey(key, keyOffset) ? session : null;
    }

    /**
     * Finds the mesh peer that forwards to the key at {@code keyOffset}, without locking or allocating. Callers ask
     * only after {@link #lookupActive} found no local connection: a local connection always wins.
     *
     * @param key       buffer holding the key.
     * @param keyOffset where the 32 bytes start.
     * @return the preferred forwarder, or null if no mesh peer has the key.
     */
    @SuppressWarnings("unchecked")
    public PacketForwarder<P> lookupForwarder(final DirectBuffer key, final int keyOffset)
    {
        final int slot = forwarderByKey.get(key, keyOffset);
        if (KeyTable.MISSING == slot)
        {
            return null;
        }
        final Object[] slots = forwarderSlots;
        return slot < slots.length ? (PacketForwarder<P>)slots[slot] : null;
    }

    /**
     * Registers a mesh peer as a route to a key it reported present (spec §4.7). Repeats are ignored; a second
     * peer for the same key is kept behind the first, which stays preferred.
     *
     * @param key       the remote key.
     * @param forwarder the mesh peer that has it.
     */
    public void addForwarder(final NodePublicKey key, final PacketForwarder<P> forwarder)
    {
        synchronized (lock)
        {
            final ArrayList<PacketForwarder<P>> forwarders =
                forwardersByKey.computeIfAbsent(key, k -> new ArrayList<>(1));
            for (final PacketForwarder<P> each : forwarders)
            {
                if (each == forwarder)
                {
                    return;
                }
            }
            forwarders.add(forwarder);
            if (1 == forwarders.size())
            {
                forwarderByKey.put(key.toBytes(), slotOf(forwarder));
                metrics.remoteKeys.incrementAndGet();
            }
            else if (2 == forwarders.size())
            {
                metrics.multiForwarderCreated.increment();
            }
        }
    }

    /**
     * Removes a mesh peer as a route to a key (it reported the key gone, or its connection broke). If that was
     * the key's last route and the key has no local connection either, the key has left the region: every local
     * client that received packets from it gets PeerGone, as derper's forwarder removal does.
     *
     * @param key       the remote key.
     * @param forwarder the mesh peer.
     */
    public void removeForwarder(final NodePublicKey key, final PacketForwarder<P> forwarder)
    {
        final boolean leftRegion;
        synchronized (lock)
        {
            final ArrayList<PacketForwarder<P>> forwarders = forwardersByKey.get(key);
            final int index = null == forwarders ? -1 : indexOfIdentity(forwarders, forwarder);
            if (index < 0)
            {
                // Harmless: PeerPresent and PeerGone are not 1:1 (spec §4.7).
                metrics.packetForwarderDeleteOtherValue.increment();
                return;
            }
            forwarders.remove(index);
            if (!forwarders.isEmpty())
            {
                if (1 == forwarders.size())
                {
                    metrics.multiForwarderDeleted.increment();
                }
                forwarderByKey.put(key.toBytes(), slotOf(forwarders.getFirst()));
                return;
            }
            forwardersByKey.remove(key);
            forwarderByKey.remove(key.toBytes());
            metrics.remoteKeys.decrementAndGet();
            leftRegion = !byKey.containsKey(key);
        }
        if (leftRegion)
        {
            notePeerGoneFromRegion(key);
        }
    }

    private static <T> int indexOfIdentity(final List<T> list, final T item)
    {
        for (int i = 0; i < list.size(); i++)
        {
            if (list.get(i) == item)
            {
                return i;
            }
        }
        return -1;
    }

    private int slotOf(final PacketForwarder<P> forwarder)
    {
        final Integer known = forwarderIndex.get(forwarder);
        if (null != known)
        {
            return known;
        }
        final Object[] slots = forwarderSlots;
        final Object[] grown = Arrays.copyOf(slots, slots.length + 1);
        grown[slots.length] = forwarder;
        // Published before the key table can name the new slot.
        forwarderSlots = grown;
        forwarderIndex.put(forwarder, slots.length);
        return slots.length;
    }

    /**
     * Tells every loop that a key is gone from the whole region; each of their sessions that received packets
     * from it through a mesh peer gets PeerGone.
     */
    private void notePeerGoneFromRegion(final NodePublicKey key)
    {
        if (0 == remoteReceiverSessions.get())
        {
            return;
        }
        final byte[] keyBytes = key.toBytes();
        for (final RelayLoop<P> loop : loops)
        {
            loop.execute(() -> loop.onPeerGoneFromRegion(keyBytes));
        }
    }

    void addLoop(final RelayLoop<P> loop)
    {
        loops.add(loop);
    }

    void noteRemoteReceiverSession(final int delta)
    {
        remoteReceiverSessions.addAndGet(delta);
    }

    /**
     * @return number of keys with a local connection.
     */
    public int localKeyCount()
    {
        synchronized (lock)
        {
            return byKey.size();
        }
    }

    /**
     * derper's {@code clients_remote}: keys reachable through a mesh peer and not connected here. Takes the
     * control-plane lock; for metrics scrapes, not the packet path.
     *
     * @return number of keys known only through mesh peers.
     */
    public int remoteOnlyKeyCount()
    {
        synchronized (lock)
        {
            int count = 0;
            for (final NodePublicKey key : forwardersByKey.keySet())
            {
                if (!byKey.containsKey(key))
                {
                    count++;
                }
            }
            return count;
        }
    }

    void register(final ClientSession<P> session)
    {
        final NodePublicKey key = session.key();
        synchronized (lock)
        {
            final KeyConnections<P> connections = byKey.computeIfAbsent(key, k -> new KeyConnections<>());
            connections.sessions.add(session);
            connections.active = session;
            final int count = connections.sessions.size();
            if (count > 1)
            {
                metrics.totalDupClientConns.increment();
                if (2 == count)
                {
                    metrics.currentDupClientKeys.incrementAndGet();
                    metrics.currentDupClientConns.addAndGet(2);
                    for (final ClientSession<P> each : connections.sessions)
                    {
                        each.duplicate = true;
                    }
                }
                else
                {
                    metrics.currentDupClientConns.incrementAndGet();
                    session.duplicate = true;
                }
                LOG.info("duplicate connection for {}: {} connections, newest from {} is active",
                    key.toShortString(), count, session.remoteAddress());
            }
            activeByKey.put(key.toBytes(), SessionTable.slot(session.connectionId()));
            metrics.currentConnections.incrementAndGet();
            if (session.isNotIdeal())
            {
                metrics.currentNotIdealConnections.incrementAndGet();
            }
        }
        broadcastPresent(session);
    }

    /**
     * Default duplicate policy, "last writer is active" (spec §4.6): any frame from a duplicate makes it active.
     */
    void noteDuplicateActivity(final ClientSession<P> session)
    {
        synchronized (lock)
        {
            final KeyConnections<P> connections = byKey.get(session.key());
            if (null == connections || connections.active == session || !connections.sessions.contains(session))
            {
                return;
            }
            connections.active = session;
            activeByKey.put(session.key().toBytes(), SessionTable.slot(session.connectionId()));
        }
    }

    void unregister(final ClientSession<P> session)
    {
        final NodePublicKey key = session.key();
        final List<ClientSession<P>> notify = new ArrayList<>();
        final boolean keyGone;
        final boolean stillInRegion;
        synchronized (lock)
        {
            final KeyConnections<P> connections = byKey.get(key);
            if (null == connections || !connections.sessions.remove(session))
            {
                return;
            }
            stillInRegion = forwardersByKey.containsKey(key);
            metrics.currentConnections.decrementAndGet();
            if (session.isNotIdeal())
            {
                metrics.currentNotIdealConnections.decrementAndGet();
            }
            final int remaining = connections.sessions.size();
            if (0 == remaining)
            {
                keyGone = true;
                byKey.remove(key);
                activeByKey.remove(key.toBytes());
                collect(session.sentTo(), notify);
                collect(connections.departedSentTo, notify);
            }
            else
            {
                keyGone = false;
                if (1 == remaining)
                {
                    metrics.currentDupClientKeys.decrementAndGet();
                    metrics.currentDupClientConns.addAndGet(-2);
                    connections.sessions.get(0).duplicate = false;
                }
                else
                {
                    metrics.currentDupClientConns.decrementAndGet();
                }
                if (connections.active == session)
                {
                    ClientSession<P> latest = connections.sessions.get(0);
                    for (final ClientSession<P> each : connections.sessions)
                    {
                        if (each.lastActivityNs() - latest.lastActivityNs() > 0)
                        {
                            latest = each;
                        }
                    }
                    connections.active = latest;
                    activeByKey.put(key.toBytes(), SessionTable.slot(latest.connectionId()));
                }
                final Long2ObjectHashMap<ClientSession<P>> sent = session.sentTo();
                if (null != sent)
                {
                    if (null == connections.departedSentTo)
                    {
                        connections.departedSentTo = new Long2ObjectHashMap<>();
                    }
                    connections.departedSentTo.putAll(sent);
                    // A key whose connections keep overlapping (a client reconnecting before its old connection
                    // is seen to close) never empties this: without the prune it would hold every closed
                    // destination, each with its whole connection, for as long as the key stays.
                    connections.departedSentTo.values().removeIf(ClientSession::isClosed);
                }
            }
        }
        if (keyGone)
        {
            final byte[] keyBytes = key.toBytes();
            if (stillInRegion)
            {
                // The key is connected to another node (spec §4.7): its receivers here are told only when it
                // leaves the region, like receivers of packets it sent through that node.
                final long prefix = key.prefix();
                for (final ClientSession<P> destination : notify)
                {
                    destination.channel().execute(() -> destination.noteRemoteSender(prefix));
                }
            }
            else
            {
                for (final ClientSession<P> destination : notify)
                {
                    destination.channel().execute(() -> destination.writePeerGone(
                        new UnsafeBuffer(keyBytes), 0, PeerGoneReason.DISCONNECTED));
                }
                notePeerGoneFromRegion(key);
            }
            for (final ClientSession<P> watcher : watchers)
            {
                watcher.channel().execute(() -> watcher.writePeerGone(
                    new UnsafeBuffer(keyBytes), 0, PeerGoneReason.DISCONNECTED));
            }
        }
    }

    private static <P> void collect(final Long2ObjectHashMap<ClientSession<P>> sentTo,
        final List<ClientSession<P>> into)
    {
        if (null == sentTo)
        {
            return;
        }
        for (final ClientSession<P> destination : sentTo.values())
        {
            if (!destination.isClosed() && !into.contains(destination))
            {
                into.add(destination);
            }
        }
    }

    void closePeer(final NodePublicKey key)
    {
        final List<ClientSession<P>> toClose;
        synchronized (lock)
        {
            final KeyConnections<P> connections = byKey.get(key);
            toClose = null == connections ? List.of() : new ArrayList<>(connections.sessions);
        }
        if (toClose.isEmpty())
        {
            LOG.info("ClosePeer for {}: no local connection", key.toShortString());
        }
        for (final ClientSession<P> session : toClose)
        {
            LOG.info("ClosePeer: closing {}", session.describe());
            session.channel().execute(session::close);
        }
    }

    void addWatcher(final ClientSession<P> watcher)
    {
        final List<ClientSession<P>> present = new ArrayList<>();
        synchronized (lock)
        {
            watchers.add(watcher);
            metrics.watchers.incrementAndGet();
            for (final KeyConnections<P> connections : byKey.values())
            {
                present.add(connections.active);
            }
        }
        for (final ClientSession<P> session : present)
        {
            sendPresent(watcher, session);
        }
    }

    void removeWatcher(final ClientSession<P> watcher)
    {
        if (watchers.remove(watcher))
        {
            metrics.watchers.decrementAndGet();
        }
    }

    private void broadcastPresent(final ClientSession<P> session)
    {
        for (final ClientSession<P> watcher : watchers)
        {
            sendPresent(watcher, session);
        }
    }

    private void sendPresent(final ClientSession<P> watcher, final ClientSession<P> session)
    {
        final byte[] key = session.key().toBytes();
        final byte[] ip16 = ip16(session.remoteAddress());
        final int port = null == session.remoteAddress() ? 0 : session.remoteAddress().getPort();
        final byte flags = session.presentFlags();
        watcher.channel().execute(() -> watcher.writePeerPresent(key, ip16, port, flags));
    }

    private static byte[] ip16(final InetSocketAddress address)
    {
        return null == address || null == address.getAddress() ? new byte[Ip16.LENGTH] :
            Ip16.of(address.getAddress());
    }

    /**
     * @return the destinations remembered for the departed duplicates of {@code key}, closed or not; 0 when none.
     */
    int departedDestinationCountForTest(final NodePublicKey key)
    {
        synchronized (lock)
        {
            final KeyConnections<P> connections = byKey.get(key);
            return null == connections || null == connections.departedSentTo ? 0 : connections.departedSentTo.size();
        }
    }

    /**
     * The local connections of one key. Guarded by the router's lock.
     */
    private static final class KeyConnections<P>
    {
        final ArrayList<ClientSession<P>> sessions = new ArrayList<>(1);
        ClientSession<P> active;
        /** Destinations that duplicates of this key sent to before they closed; told when the key leaves. */
        Long2ObjectHashMap<ClientSession<P>> departedSentTo;
    }
}
