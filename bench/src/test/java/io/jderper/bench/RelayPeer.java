package io.jderper.bench;

import io.jderper.core.key.NodePublicKey;
import io.jderper.core.protocol.PeerGoneReason;
import io.jderper.transport.client.DerpClient;
import io.jderper.transport.client.DerpClientListener;
import org.agrona.DirectBuffer;

import java.util.List;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * A DERP client in the bench servers' tests, with what it received: packets in order, its Pong, the first
 * PeerGone(Disconnected).
 */
public final class RelayPeer implements DerpClientListener
{
    /** How long a test waits for anything the server should send. */
    public static final long WAIT_SECONDS = 10;

    /** Packets received, in order. */
    public final BlockingQueue<Packet> packets = new LinkedBlockingQueue<>();
    /** The first Pong's data. */
    public final CompletableFuture<Long> pong = new CompletableFuture<>();
    /** The key of the first peer reported gone because it disconnected. */
    public final CompletableFuture<NodePublicKey> peerGone = new CompletableFuture<>();
    /** The client, set once it connected. */
    public DerpClient client;

    /**
     * A received packet.
     *
     * @param source the sender's key.
     * @param data   the packet bytes.
     */
    public record Packet(NodePublicKey source, byte[] data)
    {
    }

    /**
     * @return the next packet, within {@link #WAIT_SECONDS}.
     * @throws InterruptedException if interrupted while waiting.
     */
    public Packet nextPacket() throws InterruptedException
    {
        final Packet packet = packets.poll(WAIT_SECONDS, TimeUnit.SECONDS);
        if (null == packet)
        {
            throw new AssertionError("no packet within " + WAIT_SECONDS + " s");
        }
        return packet;
    }

    /**
     * Sends a Ping and checks that its Pong comes back with the same data.
     *
     * @throws Exception if interrupted or no Pong comes.
     */
    public void pingAndAwaitPong() throws Exception
    {
        assertThat(client.ping(0x0102030405060708L)).isTrue();
        client.flush();
        assertThat(pong.get(WAIT_SECONDS, TimeUnit.SECONDS)).isEqualTo(0x0102030405060708L);
    }

    /**
     * @param peers some peers.
     * @param key   a client key.
     * @return the index of the peer with that key, or -1.
     */
    public static int indexOf(final List<RelayPeer> peers, final NodePublicKey key)
    {
        for (int i = 0; i < peers.size(); i++)
        {
            if (peers.get(i).client.publicKey().equals(key))
            {
                return i;
            }
        }
        return -1;
    }

    @Override
    public void onRecvPacket(final DerpClient client, final DirectBuffer source, final int sourceOffset,
        final DirectBuffer data, final int dataOffset, final int dataLength)
    {
        final byte[] bytes = new byte[dataLength];
        data.getBytes(dataOffset, bytes);
        packets.add(new Packet(NodePublicKey.fromBuffer(source, sourceOffset), bytes));
    }

    @Override
    public void onPong(final DerpClient client, final long data)
    {
        pong.complete(data);
    }

    @Override
    public void onPeerGone(final DerpClient client, final DirectBuffer key, final int keyOffset, final byte reason)
    {
        if (PeerGoneReason.DISCONNECTED == reason)
        {
            peerGone.complete(NodePublicKey.fromBuffer(key, keyOffset));
        }
    }
}
