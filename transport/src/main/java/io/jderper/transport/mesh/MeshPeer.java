package io.jderper.transport.mesh;

import io.jderper.core.key.NodePrivateKey;
import io.jderper.core.key.NodePublicKey;
import io.jderper.core.router.PacketForwarder;
import io.jderper.core.router.Router;
import io.jderper.transport.client.DerpClient;
import io.jderper.transport.client.DerpClientListener;
import io.jderper.transport.client.DerpClientOptions;
import io.jderper.transport.client.DerpClients;
import io.jderper.transport.client.DerpTrust;
import io.netty.buffer.ByteBuf;
import org.agrona.DirectBuffer;
import org.agrona.concurrent.ManyToOneConcurrentArrayQueue;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Our outbound connection to one other node of the region (spec §4.7, derper's {@code cmd/derper/mesh.go}): a DERP
 * client that logs in with this server's own key and the mesh key, watches the peer's connections, registers
 * "forward to this peer" for every key it reports present, and carries ForwardPackets for those keys.
 *
 * <p>Threading: the watch callbacks and the writes run on the client's event loop; {@link #forward} is called from
 * any relay loop and only touches a bounded lock-free queue, whose first entry schedules one drain on the client's
 * loop. The set of keys registered with the router is guarded by this object's monitor, because a new connection
 * may live on another loop than the one that just closed.
 */
public final class MeshPeer implements PacketForwarder<ByteBuf>, DerpClientListener, AutoCloseable
{
    /** Frames waiting for the peer's connection; beyond this a forwarded packet is dropped (and counted). */
    public static final int FORWARD_QUEUE_CAPACITY = 8192;
    /** derper's mesh client gives up on a write after 5 s and closes the connection (spec §4.7). */
    static final long WRITE_TIMEOUT_MS = 5_000;
    /** First retry delay; it doubles per failed attempt up to {@link #MAX_RETRY_MS}, derper's fixed interval. */
    static final long FIRST_RETRY_MS = 500;
    static final long MAX_RETRY_MS = 5_000;

    private static final Logger LOG = LoggerFactory.getLogger(MeshPeer.class);

    private final MeshPeerAddress address;
    private final DerpClients clients;
    private final NodePrivateKey serverKey;
    private final byte[] meshKey;
    private final DerpTrust trust;
    private final Router<ByteBuf> router;
    private final ManyToOneConcurrentArrayQueue<ByteBuf> queue =
        new ManyToOneConcurrentArrayQueue<>(FORWARD_QUEUE_CAPACITY);
    private final AtomicBoolean drainScheduled = new AtomicBoolean();
    private final AtomicLong dropped = new AtomicLong();
    private final Runnable drainTask = this::drain;

    /** Guarded by this. */
    private final Set<NodePublicKey> registered = new HashSet<>();
    /** Guarded by this. */
    private DerpClient client;
    /** Guarded by this. */
    private boolean stopped;
    /** Guarded by this. */
    private long retryMs = FIRST_RETRY_MS;
    private volatile DerpClient ready;
    private volatile long unwritableSinceNs;
    private volatile boolean selfConnect;

    /**
     * @param address   the peer.
     * @param clients   the client factory (its event loops run this peer's connection).
     * @param serverKey this server's key: the mesh connection's identity, as derper's.
     * @param meshKey   the region's mesh key.
     * @param trust     how to check the peer's certificate.
     * @param router    where the peer's keys are registered.
     */
    public MeshPeer(final MeshPeerAddress address, final DerpClients clients, final NodePrivateKey serverKey,
        final byte[] meshKey, final DerpTrust trust, final Router<ByteBuf> router)
    {
        this.address = address;
        this.clients = clients;
        this.serverKey = serverKey;
        this.meshKey = meshKey.clone();
        this.trust = trust;
        this.router = router;
    }

    /**
     * Dials the peer; returns at once. Failures are logged and retried until {@link #close()}.
     */
    public void start()
    {
        LOG.info("mesh({}): will dial {}", address.name(), address.dialTarget());
        dial();
    }

    private void dial()
    {
        final DerpClient dialled;
        synchronized (this)
        {
            if (stopped)
            {
                return;
            }
            final DerpClientOptions options = DerpClientOptions.builder(address.url(), serverKey)
                .meshKey(meshKey)
                .dialHost(address.dialHost())
                .trust(trust)
                .canAckPings(false)
                .build();
            // Callbacks of the new client wait on this monitor, so none sees the field before it is set.
            dialled = clients.open(options, this);
            client = dialled;
        }
        dialled.ready().whenComplete((c, error) ->
        {
            if (null == error)
            {
                dialled.eventLoop().execute(() -> onReady(dialled));
            }
        });
    }

    private void onReady(final DerpClient connected)
    {
        if (connected.serverPublicKey().equals(serverKey.publicKey()))
        {
            // Every node may be given the whole list, itself included (spec §4.7).
            LOG.info("mesh({}): detected self-connect; ignoring host", address.label());
            selfConnect = true;
            synchronized (this)
            {
                stopped = true;
            }
            connected.close();
            return;
        }
        synchronized (this)
        {
            if (stopped || client != connected)
            {
                connected.close();
                return;
            }
            retryMs = FIRST_RETRY_MS;
        }
        unwritableSinceNs = 0;
        ready = connected;
        connected.watchConns();
        LOG.info("mesh({}): connected to {}, watching its connections", address.label(),
            connected.serverPublicKey().toShortString());
        scheduleDrain();
    }

    @Override
    public void onRecvPacket(final DerpClient from, final DirectBuffer source, final int sourceOffset,
        final DirectBuffer data, final int dataOffset, final int dataLength)
    {
        // A mesh peer delivers packets for us to its own inbound connection from our mesh client, never here.
    }

    @Override
    public void onPeerPresent(final DerpClient from, final DirectBuffer key, final int keyOffset,
        final DirectBuffer ip16, final int ipOffset, final int port, final byte flags)
    {
        final NodePublicKey peer = NodePublicKey.fromBuffer(key, keyOffset);
        synchronized (this)
        {
            if (from != client || stopped || peer.equals(serverKey.publicKey()) || !registered.add(peer))
            {
                return;
            }
        }
        router.addForwarder(peer, this);
    }

    @Override
    public void onPeerGone(final DerpClient from, final DirectBuffer key, final int keyOffset, final byte reason)
    {
        final NodePublicKey peer = NodePublicKey.fromBuffer(key, keyOffset);
        synchronized (this)
        {
            if (from != client || !registered.remove(peer))
            {
                return;
            }
        }
        router.removeForwarder(peer, this);
    }

    @Override
    public void onWritabilityChanged(final DerpClient from, final boolean writable)
    {
        if (writable)
        {
            unwritableSinceNs = 0;
            scheduleDrain();
        }
    }

    @Override
    public void onClosed(final DerpClient from, final Throwable cause)
    {
        final List<NodePublicKey> forget;
        final long delayMs;
        synchronized (this)
        {
            if (from != client)
            {
                return;
            }
            client = null;
            forget = new ArrayList<>(registered);
            registered.clear();
            delayMs = retryMs;
            retryMs = Math.min(MAX_RETRY_MS, retryMs * 2);
            if (stopped)
            {
                ready = null;
                releaseQueued();
                unregister(forget);
                return;
            }
        }
        ready = null;
        releaseQueued();
        if (!forget.isEmpty())
        {
            LOG.info("mesh({}): connection lost; clearing {} forwarding mappings", address.label(), forget.size());
        }
        unregister(forget);
        // Jitter, so that the nodes of a region restarted together do not dial each other in lockstep.
        final long jitteredMs = delayMs + ThreadLocalRandom.current().nextLong(delayMs / 4 + 1);
        LOG.warn("mesh({}): {}; retrying in {} ms", address.label(), null == cause ? "closed" : cause.getMessage(),
            jitteredMs);
        from.eventLoop().schedule(this::dial, jitteredMs, TimeUnit.MILLISECONDS);
    }

    private void unregister(final List<NodePublicKey> keys)
    {
        for (final NodePublicKey key : keys)
        {
            router.removeForwarder(key, this);
        }
    }

    @Override
    public boolean forward(final ByteBuf frame)
    {
        if (null == ready || !queue.offer(frame))
        {
            frame.release();
            dropped.incrementAndGet();
            return false;
        }
        scheduleDrain();
        return true;
    }

    private void scheduleDrain()
    {
        final DerpClient connected = ready;
        if (null != connected && !drainScheduled.get() && drainScheduled.compareAndSet(false, true))
        {
            connected.eventLoop().execute(drainTask);
        }
    }

    private void drain()
    {
        drainScheduled.set(false);
        final DerpClient connected = ready;
        if (null == connected)
        {
            releaseQueued();
            return;
        }
        int written = 0;
        ByteBuf frame;
        while (connected.isWritable() && null != (frame = queue.poll()))
        {
            if (!connected.writeFrame(frame))
            {
                dropped.incrementAndGet();
            }
            written++;
        }
        if (written > 0)
        {
            connected.flush();
        }
        if (!connected.isWritable() && !queue.isEmpty())
        {
            watchWriteTimeout(connected);
        }
        else if (!queue.isEmpty())
        {
            scheduleDrain();
        }
    }

    private void watchWriteTimeout(final DerpClient connected)
    {
        if (0 != unwritableSinceNs)
        {
            return;
        }
        final long since = System.nanoTime();
        unwritableSinceNs = since;
        connected.eventLoop().schedule(() ->
        {
            if (unwritableSinceNs == since && ready == connected)
            {
                LOG.warn("mesh({}): writes stalled for {} ms; closing the connection", address.label(),
                    WRITE_TIMEOUT_MS);
                connected.close();
            }
        }, WRITE_TIMEOUT_MS, TimeUnit.MILLISECONDS);
    }

    private void releaseQueued()
    {
        ByteBuf frame;
        while (null != (frame = queue.poll()))
        {
            frame.release();
            dropped.incrementAndGet();
        }
    }

    /**
     * @return whether the peer turned out to be this server (the loop then stopped).
     */
    public boolean isSelf()
    {
        return selfConnect;
    }

    /**
     * @return whether the watch connection is up.
     */
    public boolean isConnected()
    {
        return null != ready;
    }

    /**
     * @return forwarded packets this peer could not carry (queue full or connection down).
     */
    public long droppedPackets()
    {
        return dropped.get();
    }

    /**
     * @return the peer in logs and on the status page: its public name, and where it is dialled when that differs.
     */
    public String label()
    {
        return address.label();
    }

    @Override
    public String describe()
    {
        return "mesh(" + address.label() + ")";
    }

    @Override
    public String toString()
    {
        return describe();
    }

    /**
     * Stops dialling, closes the connection and removes every route through this peer.
     */
    @Override
    public void close()
    {
        final DerpClient current;
        synchronized (this)
        {
            stopped = true;
            current = client;
        }
        if (null != current)
        {
            current.close();
        }
    }
}
