package io.jderper.transport.client;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.security.SecureRandom;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;

import io.jderper.core.key.NodePrivateKey;
import io.netty.channel.EventLoopGroup;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Duplicate connections of one key under churn (spec §4.6): over many opens and closes on two event loops, the
 * newest connection of a key always gets its packets at once, a burst of simultaneous duplicates leaves exactly
 * one receiving, and when the churn ends every duplicate gauge is back to zero.
 */
class DuplicateKeyChurnTest
{
    private static final int KEYS = 3;
    private static final int CYCLES = 120;
    private static final int MOST_PER_KEY = 4;

    @TempDir
    Path certdir;

    private record Connection(DerpClient client, Recorder recorder)
    {
    }

    @Test
    void shouldKeepTheNewestDuplicateActiveThroughChurnAndEndClean() throws Exception
    {
        final SecureRandom random = new SecureRandom();
        final EventLoopGroup group = DerpClients.newEventLoopGroup(2);
        try (ClientTestRelay relay = ClientTestRelay.tls(certdir); DerpClients clients = DerpClients.builder(group)
            .build())
        {
            final DerpClient sender = clients.connect(DerpClientOptions.builder(relay.url(),
                NodePrivateKey.generate(random)).trust(relay.pin()).build(), new Recorder()).get(10, TimeUnit.SECONDS);
            final List<NodePrivateKey> keys = new ArrayList<>();
            final List<ArrayDeque<Connection>> open = new ArrayList<>();
            for (int k = 0; k < KEYS; k++)
            {
                keys.add(NodePrivateKey.generate(random));
                open.add(new ArrayDeque<>());
            }

            for (int cycle = 0; cycle < CYCLES; cycle++)
            {
                final int k = cycle % KEYS;
                final Recorder recorder = new Recorder();
                final DerpClient client = clients.connect(DerpClientOptions.builder(relay.url(), keys.get(k))
                    .trust(relay.pin()).build(), recorder).get(10, TimeUnit.SECONDS);
                open.get(k).addLast(new Connection(client, recorder));
                if (open.get(k).size() > MOST_PER_KEY)
                {
                    final Connection oldest = open.get(k).removeFirst();
                    oldest.client().close();
                    oldest.recorder().awaitClosed();
                }
                final byte[] data = ("cycle " + cycle).getBytes(StandardCharsets.US_ASCII);
                sender.eventLoop().execute(() -> sender.sendPacketAndFlush(keys.get(k).publicKey(), data));
                assertThat(Recorder.next(recorder.packets).data()).as("cycle %d: the newest connection is active",
                    cycle).isEqualTo(data);
            }
            assertThat(relay.metrics.currentDupClientKeys.get()).isEqualTo(KEYS);
            assertThat(relay.metrics.totalDupClientConns.sum()).isEqualTo(CYCLES - KEYS);

            // A burst of simultaneous connections of one key: exactly one of them gets the next packet.
            final NodePrivateKey burstKey = NodePrivateKey.generate(random);
            final List<Connection> burst = new ArrayList<>();
            final List<CompletableFuture<DerpClient>> ready = new ArrayList<>();
            for (int i = 0; i < 5; i++)
            {
                final Recorder recorder = new Recorder();
                final DerpClient client = clients.open(DerpClientOptions.builder(relay.url(), burstKey)
                    .trust(relay.pin()).build(), recorder);
                burst.add(new Connection(client, recorder));
                ready.add(client.ready());
            }
            CompletableFuture.allOf(ready.toArray(CompletableFuture[]::new)).get(10, TimeUnit.SECONDS);
            await("the relay to register all five", () -> relay.metrics.currentConnections.get() ==
                1 + KEYS * MOST_PER_KEY + 5);
            sender.eventLoop().execute(() -> sender.sendPacketAndFlush(burstKey.publicKey(), new byte[] {42}));
            await("one of the burst to get the packet", () -> burst.stream().anyMatch(c -> !c.recorder().packets
                .isEmpty()));
            assertThat(burst.stream().mapToInt(c -> c.recorder().packets.size()).sum()).isEqualTo(1);

            for (final ArrayDeque<Connection> connections : open)
            {
                for (final Connection connection : connections)
                {
                    connection.client().close();
                    connection.recorder().awaitClosed();
                }
            }
            for (final Connection connection : burst)
            {
                connection.client().close();
                connection.recorder().awaitClosed();
            }
            await("every duplicate gauge back to zero", () -> 0 == relay.metrics.currentDupClientKeys.get() &&
                0 == relay.metrics.currentDupClientConns.get() && 1 == relay.metrics.currentConnections.get());
        }
        finally
        {
            group.shutdownGracefully(0, 1, TimeUnit.SECONDS).syncUninterruptibly();
        }
    }

    private static void await(final String what, final BooleanSupplier condition)
    {
        final long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while (!condition.getAsBoolean())
        {
            if (System.nanoTime() - deadline > 0)
            {
                throw new AssertionError("timed out waiting for " + what);
            }
            Thread.onSpinWait();
        }
    }
}
