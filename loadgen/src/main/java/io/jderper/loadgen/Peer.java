package io.jderper.loadgen;

import io.jderper.core.key.NodePrivateKey;
import io.jderper.core.protocol.DiscoPacket;
import io.jderper.transport.client.DerpClient;
import io.jderper.transport.client.DerpClientListener;
import io.jderper.transport.client.DerpClientOptions;
import io.jderper.transport.client.DerpClients;
import org.agrona.DirectBuffer;
import org.agrona.concurrent.UnsafeBuffer;

import java.util.concurrent.CompletionException;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * One simulated DERP peer: its node key, its current connection and what it receives. The listener of its own
 * client, so every callback knows its peer without a lookup.
 *
 * <h2>Connection states</h2>
 * {@code CONNECTING} → {@code READY} → {@code CLOSED}, or {@code CONNECTING} → {@code FAILED}. The handshake result
 * ({@link DerpClient#ready()}) and the close ({@link #onClosed}) may be seen in either order when the result was
 * already in when the stage was attached, so both go through compare-and-set and whichever comes second reports.
 * Churn reopens a closed peer with the same key, as a real node reconnects.
 */
final class Peer implements DerpClientListener
{
    static final int CONNECTING = 0;
    static final int READY = 1;
    static final int FAILED = 2;
    static final int CLOSED = 3;
    static final int NEVER_OPENED = 4;

    final int index;
    private final byte[] publicKey;
    private final long keyWord0;
    private final long keyWord1;
    private final long keyWord2;
    private final long keyWord3;
    private final DerpClientOptions options;
    private final Swarm swarm;
    private final AtomicInteger state = new AtomicInteger(NEVER_OPENED);

    private volatile DerpClient client;
    private volatile Throwable closeCause;
    private volatile boolean churning;
    private volatile boolean churnAttempt;
    private LoopContext loopContext;

    // Pings (idle): at most one in flight, as the relay keeps one Pong per client.
    private volatile boolean pingOutstanding;
    private volatile long pingSentNs;
    /** The reporter thread's schedule; not shared. */
    long nextPingNs;

    Peer(final int index, final NodePrivateKey key, final DerpClientOptions options, final Swarm swarm)
    {
        this.index = index;
        this.publicKey = key.publicKey().toBytes();
        final UnsafeBuffer view = new UnsafeBuffer(publicKey);
        this.keyWord0 = view.getLong(0);
        this.keyWord1 = view.getLong(8);
        this.keyWord2 = view.getLong(16);
        this.keyWord3 = view.getLong(24);
        this.options = options;
        this.swarm = swarm;
    }

    byte[] publicKeyBytes()
    {
        return publicKey.clone();
    }

    DerpClient client()
    {
        return client;
    }

    boolean isReady()
    {
        return READY == state.get();
    }

    int state()
    {
        return state.get();
    }

    boolean isChurning()
    {
        return churning;
    }

    /**
     * Opens a connection (any thread, also an event loop).
     *
     * @param clients the shared client factory.
     * @param churn   whether this is a churn reopen (its connect time is reported apart).
     */
    void open(final DerpClients clients, final boolean churn)
    {
        state.set(CONNECTING);
        closeCause = null;
        churnAttempt = churn;
        final long startNs = System.nanoTime();
        final DerpClient opened = clients.open(options, this);
        client = opened;
        opened.ready().whenComplete((ready, error) -> onHandshakeDone(opened, error, startNs));
    }

    private void onHandshakeDone(final DerpClient opened, final Throwable error, final long startNs)
    {
        final long elapsedNs = System.nanoTime() - startNs;
        client = opened;
        final boolean churn = churnAttempt;
        if (null == error)
        {
            if (state.compareAndSet(CONNECTING, READY))
            {
                swarm.onConnected(this, elapsedNs, churn);
            }
            else
            {
                // Closed before this stage ran: report the handshake, then the close.
                swarm.onConnected(this, elapsedNs, churn);
                reportClose(READY, closeCause);
            }
            return;
        }
        final Throwable cause = error instanceof CompletionException && null != error.getCause() ?
            error.getCause() : error;
        state.compareAndSet(CONNECTING, FAILED);
        swarm.onConnectFailed(this, cause, churn);
    }

    /**
     * Closes the connection for a churn cycle: {@link #onClosed} reopens it.
     */
    void churn()
    {
        churning = true;
        final DerpClient c = client;
        if (null != c)
        {
            c.close();
        }
    }

    /**
     * Closes the connection for good (teardown).
     */
    void close()
    {
        final DerpClient c = client;
        if (null != c)
        {
            try
            {
                c.close();
            }
            catch (final RuntimeException ex)
            {
                // A channel whose registration failed (e.g. out of file descriptors) throws on close: it is gone.
                swarm.onCloseFailed(this, ex);
            }
        }
    }

    void churnDone()
    {
        churning = false;
    }

    // ---------------------------------------------------------------------------------------------------------------
    // Listener, on the client's event loop.

    @Override
    public void onRecvPacket(
        final DerpClient c, final DirectBuffer source, final int sourceOffset, final DirectBuffer data,
        final int dataOffset, final int dataLength)
    {
        final long nowNs = System.nanoTime();
        final LoopContext loop = loopContext(c);
        final Traffic traffic = swarm.traffic();
        if (null == traffic || dataLength != traffic.packetSize || dataLength < PayloadDescriptor.MIN_DATA_LENGTH)
        {
            loop.malformed();
            return;
        }
        final boolean disco = DiscoPacket.isDisco(data, dataOffset, dataLength);
        final int header = dataOffset + PayloadDescriptor.headerOffset(disco);
        final Flow flow = traffic.flowOf(PayloadDescriptor.sender(data, header));
        if (null == flow || flow.receiver != this || !flow.sender.keyEquals(source, sourceOffset))
        {
            loop.malformed();
            return;
        }
        flow.onReceived(disco, PayloadDescriptor.sequence(data, header),
            nowNs - PayloadDescriptor.stamp(data, header), loop);
    }

    private boolean keyEquals(final DirectBuffer key, final int offset)
    {
        return key.getLong(offset) == keyWord0 && key.getLong(offset + 8) == keyWord1 &&
            key.getLong(offset + 16) == keyWord2 && key.getLong(offset + 24) == keyWord3;
    }

    private LoopContext loopContext(final DerpClient c)
    {
        LoopContext context = loopContext;
        if (null == context || context.loop != c.eventLoop())
        {
            context = swarm.loopContext(c.eventLoop());
            loopContext = context;
        }
        return context;
    }

    @Override
    public void onPong(final DerpClient c, final long data)
    {
        if (pingOutstanding && data == pingSentNs)
        {
            pingOutstanding = false;
            swarm.onPong(System.nanoTime() - data);
        }
    }

    @Override
    public void onWritabilityChanged(final DerpClient c, final boolean writable)
    {
        final Traffic traffic = swarm.traffic();
        if (writable && null != traffic)
        {
            final Flow flow = traffic.flowOf(index);
            if (null != flow && flow.sender == this)
            {
                flow.senderLoop.wake(flow);
            }
        }
    }

    @Override
    public void onClosed(final DerpClient c, final Throwable cause)
    {
        closeCause = cause;
        final int previous = state.getAndSet(CLOSED);
        swarm.onClientClosed(this);
        if (READY == previous)
        {
            reportClose(READY, cause);
        }
    }

    private void reportClose(final int previous, final Throwable cause)
    {
        if (READY != previous)
        {
            return;
        }
        if (null == cause)
        {
            swarm.onClosedOnRequest(this);
        }
        else
        {
            swarm.onLost(this, cause);
        }
    }

    // ---------------------------------------------------------------------------------------------------------------
    // Pings, from the reporter thread.

    /**
     * Sends a Ping unless one is in flight; counts one that went unanswered for {@code timeoutNs}.
     *
     * @param nowNs     the reporter's clock.
     * @param timeoutNs how long a Pong may take.
     * @return whether a Ping was sent.
     */
    boolean ping(final long nowNs, final long timeoutNs)
    {
        final DerpClient c = client;
        if (!isReady() || null == c)
        {
            return false;
        }
        if (pingOutstanding)
        {
            if (nowNs - pingSentNs - timeoutNs < 0)
            {
                return false;
            }
            swarm.onPingTimeout();
        }
        pingSentNs = nowNs;
        pingOutstanding = true;
        if (!c.ping(nowNs))
        {
            pingOutstanding = false;
            return false;
        }
        return true;
    }

    boolean pingOutstanding()
    {
        return pingOutstanding;
    }

    @Override
    public String toString()
    {
        return "peer " + index;
    }
}
