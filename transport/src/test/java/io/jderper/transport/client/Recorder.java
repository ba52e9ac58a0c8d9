package io.jderper.transport.client;

import io.jderper.core.key.NodePublicKey;
import org.agrona.DirectBuffer;

import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * A listener that copies every event into queues the test thread reads with a bounded wait.
 */
public final class Recorder implements DerpClientListener
{
    static final long WAIT_SECONDS = 10;

    public record Packet(NodePublicKey source, byte[] data)
    {
    }

    public record PeerGone(NodePublicKey key, byte reason)
    {
    }

    record PeerPresent(NodePublicKey key, byte[] ip16, int port, byte flags)
    {
    }

    record Restarting(long reconnectInMs, long tryForMs)
    {
    }

    public final BlockingQueue<Packet> packets = new LinkedBlockingQueue<>();
    public final BlockingQueue<PeerGone> peerGone = new LinkedBlockingQueue<>();
    final BlockingQueue<PeerPresent> peerPresent = new LinkedBlockingQueue<>();
    final BlockingQueue<Long> pongs = new LinkedBlockingQueue<>();
    final BlockingQueue<Long> serverPings = new LinkedBlockingQueue<>();
    final BlockingQueue<String> health = new LinkedBlockingQueue<>();
    final BlockingQueue<Restarting> restarting = new LinkedBlockingQueue<>();
    final AtomicInteger keepAlives = new AtomicInteger();
    final AtomicInteger closedCalls = new AtomicInteger();
    /** Completes with the cause passed to onClosed, or a marker for null. */
    final CompletableFuture<Throwable> closed = new CompletableFuture<>();

    static final Throwable CLEAN = new Throwable("closed cleanly");

    public static <T> T next(final BlockingQueue<T> queue) throws InterruptedException
    {
        final T value = queue.poll(WAIT_SECONDS, TimeUnit.SECONDS);
        if (null == value)
        {
            throw new AssertionError("nothing arrived within " + WAIT_SECONDS + " s");
        }
        return value;
    }

    Throwable awaitClosed() throws Exception
    {
        return closed.get(WAIT_SECONDS, TimeUnit.SECONDS);
    }

    @Override
    public void onRecvPacket(
        final DerpClient client, final DirectBuffer source, final int sourceOffset, final DirectBuffer data,
        final int dataOffset, final int dataLength)
    {
        final byte[] bytes = new byte[dataLength];
        data.getBytes(dataOffset, bytes);
        packets.add(new Packet(NodePublicKey.fromBuffer(source, sourceOffset), bytes));
    }

    @Override
    public void onPeerGone(final DerpClient client, final DirectBuffer key, final int keyOffset, final byte reason)
    {
        peerGone.add(new PeerGone(NodePublicKey.fromBuffer(key, keyOffset), reason));
    }

    @Override
    public void onPeerPresent(
        final DerpClient client, final DirectBuffer key, final int keyOffset, final DirectBuffer ip16,
        final int ipOffset, final int port, final byte flags)
    {
        final byte[] ip = new byte[16];
        ip16.getBytes(ipOffset, ip);
        peerPresent.add(new PeerPresent(NodePublicKey.fromBuffer(key, keyOffset), ip, port, flags));
    }

    @Override
    public void onPong(final DerpClient client, final long data)
    {
        pongs.add(data);
    }

    @Override
    public void onServerPing(final DerpClient client, final long data)
    {
        serverPings.add(data);
    }

    @Override
    public void onKeepAlive(final DerpClient client)
    {
        keepAlives.incrementAndGet();
    }

    @Override
    public void onHealth(final DerpClient client, final String problem)
    {
        health.add(problem);
    }

    @Override
    public void onRestarting(final DerpClient client, final long reconnectInMs, final long tryForMs)
    {
        restarting.add(new Restarting(reconnectInMs, tryForMs));
    }

    @Override
    public void onClosed(final DerpClient client, final Throwable cause)
    {
        closedCalls.incrementAndGet();
        closed.complete(null == cause ? CLEAN : cause);
    }
}
