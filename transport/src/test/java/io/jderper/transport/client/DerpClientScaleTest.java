package io.jderper.transport.client;

import io.jderper.core.key.NodePrivateKey;
import io.jderper.core.key.NodePublicKey;
import io.netty.channel.EventLoopGroup;
import org.agrona.DirectBuffer;
import org.agrona.concurrent.UnsafeBuffer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.ByteOrder;
import java.nio.file.Path;
import java.security.SecureRandom;
import java.util.Queue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Many clients on one small event loop group: connections, not threads.
 */
class DerpClientScaleTest
{
    private static final int CLIENTS = 1000;
    private static final int THREADS = 2;
    private static final long BOUND_SECONDS = 60;

    @TempDir
    static Path certdir;

    @Test
    void shouldConnectAThousandClientsOnTwoThreadsAndDeliverOnePacketEach() throws Exception
    {
        final SecureRandom random = new SecureRandom();
        final NodePrivateKey[] keys = new NodePrivateKey[CLIENTS];
        final NodePublicKey[] publicKeys = new NodePublicKey[CLIENTS];
        for (int i = 0; i < CLIENTS; i++)
        {
            keys[i] = NodePrivateKey.generate(random);
            publicKeys[i] = keys[i].publicKey();
        }
        final CountDownLatch delivered = new CountDownLatch(CLIENTS);
        final CountDownLatch closed = new CountDownLatch(CLIENTS);
        final Queue<String> errors = new ConcurrentLinkedQueue<>();
        final DerpClient[] clients = new DerpClient[CLIENTS];
        // Each packet carries the sender's index; the receiver checks it came from its partner, with its key.
        final DerpClientListener listener = new DerpClientListener()
        {
            @Override
            public void onRecvPacket(
                final DerpClient client, final DirectBuffer source, final int sourceOffset, final DirectBuffer data,
                final int dataOffset, final int dataLength)
            {
                final int sender = data.getInt(dataOffset, ByteOrder.BIG_ENDIAN);
                final int receiver = data.getInt(dataOffset + 4, ByteOrder.BIG_ENDIAN);
                if (4 + 4 + 100 != dataLength || receiver != (sender ^ 1) || clients[receiver] != client ||
                    !NodePublicKey.fromBuffer(source, sourceOffset).equals(publicKeys[sender]))
                {
                    errors.add("bad packet at " + client + " from sender " + sender);
                }
                delivered.countDown();
            }

            @Override
            public void onClosed(final DerpClient client, final Throwable cause)
            {
                if (null != cause)
                {
                    errors.add(client + " closed with " + cause);
                }
                closed.countDown();
            }
        };

        final EventLoopGroup group = DerpClients.newEventLoopGroup(THREADS);
        try (ClientTestRelay relay = ClientTestRelay.tls(certdir);
            DerpClients factory = DerpClients.builder(group).build())
        {
            final DerpTrust pin = relay.pin();
            final int threadsBefore = Thread.activeCount();
            final long start = System.nanoTime();
            final CompletableFuture<?>[] ready = new CompletableFuture<?>[CLIENTS];
            for (int i = 0; i < CLIENTS; i++)
            {
                // A generous per-client deadline: this test is about scale; a loaded CI machine must not fail it.
                clients[i] = factory.open(DerpClientOptions.builder(relay.url(), keys[i]).trust(pin)
                    .handshakeTimeoutMs(TimeUnit.SECONDS.toMillis(BOUND_SECONDS)).build(), listener);
                ready[i] = clients[i].ready();
            }
            CompletableFuture.allOf(ready).get(BOUND_SECONDS, TimeUnit.SECONDS);
            final long connectedMs = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start);
            for (final DerpClient client : clients)
            {
                // Also when the TLS stack resumed an earlier session: the meta certificate is still at hand.
                assertThat(client.usedFastStart()).as("%s used fast start", client).isTrue();
            }
            assertThat(Thread.activeCount() - threadsBefore).as("threads added for %d clients", CLIENTS)
                .isLessThanOrEqualTo(THREADS + 2);

            final UnsafeBuffer data = new UnsafeBuffer(new byte[4 + 4 + 100]);
            final UnsafeBuffer key = new UnsafeBuffer(new byte[32]);
            for (int i = 0; i < CLIENTS; i++)
            {
                data.putInt(0, i, ByteOrder.BIG_ENDIAN);
                data.putInt(4, i ^ 1, ByteOrder.BIG_ENDIAN);
                key.putBytes(0, publicKeys[i ^ 1].toBytes());
                assertThat(clients[i].sendPacket(key, 0, data, 0, data.capacity())).isTrue();
                clients[i].flush();
            }
            assertThat(delivered.await(BOUND_SECONDS, TimeUnit.SECONDS))
                .as("%d of %d packets delivered", CLIENTS - delivered.getCount(), CLIENTS).isTrue();
            assertThat(errors).isEmpty();
            System.err.printf("%d clients on %d %s threads: connected in %d ms, all packets delivered in %d ms%n",
                CLIENTS, THREADS, factory.transportName(), connectedMs,
                TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start));

            for (final DerpClient client : clients)
            {
                client.close();
            }
            assertThat(closed.await(BOUND_SECONDS, TimeUnit.SECONDS)).as("every client reported its close").isTrue();
        }
        finally
        {
            group.shutdownGracefully(0, 1, TimeUnit.SECONDS).syncUninterruptibly();
        }
    }
}
