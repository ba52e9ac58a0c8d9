package io.jderper.transport.client;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.SecureRandom;
import java.util.concurrent.CompletableFuture;
import java.util.HashSet;
import java.util.Set;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;
import java.util.stream.Collectors;
import java.util.stream.Stream;

import io.jderper.core.key.NodePrivateKey;
import io.jderper.tls.TlsProvider;
import io.netty.channel.EventLoopGroup;
import org.agrona.DirectBuffer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * Conscrypt holds a pipe pair per TLS connection and frees it with the engine. Both ends of these connections run in
 * this JVM: when the clients close, every pipe must be gone without waiting for a garbage collection.
 */
@Timeout(120)
class TlsEngineReleaseTest
{
    private static final int CLIENTS = 50;
    private static final long BOUND_SECONDS = 30;

    @TempDir
    static Path certdir;

    @Test
    void shouldFreeEveryConscryptEngineWhenTheClientsClose() throws Exception
    {
        final CountDownLatch closed = new CountDownLatch(CLIENTS);
        final DerpClientListener listener = new DerpClientListener()
        {
            @Override
            public void onRecvPacket(final DerpClient client, final DirectBuffer source, final int sourceOffset,
                final DirectBuffer data, final int dataOffset, final int dataLength)
            {
            }

            @Override
            public void onClosed(final DerpClient client, final Throwable cause)
            {
                closed.countDown();
            }
        };
        final EventLoopGroup group = DerpClients.newEventLoopGroup(1);
        try (ClientTestRelay relay = ClientTestRelay.tls(certdir, TlsProvider.conscrypt()))
        {
            final DerpClients factory = DerpClients.builder(group).tlsProvider(TlsProvider.conscrypt()).build();
            // The clients' TLS context is made at the first connection and holds a pipe of its own for as long as
            // it lives (no engine's: it went only when a collection found the context): made before the count.
            final CountDownLatch warmUpClosed = new CountDownLatch(1);
            final DerpClient warmUp = factory.open(DerpClientOptions.builder(relay.url(),
                NodePrivateKey.generate(new SecureRandom())).trust(relay.pin()).build(), new DerpClientListener()
                {
                    @Override
                    public void onRecvPacket(final DerpClient client, final DirectBuffer source,
                        final int sourceOffset, final DirectBuffer data, final int dataOffset, final int dataLength)
                    {
                    }

                    @Override
                    public void onClosed(final DerpClient client, final Throwable cause)
                    {
                        warmUpClosed.countDown();
                    }
                });
            warmUp.ready().get(BOUND_SECONDS, TimeUnit.SECONDS);
            warmUp.close();
            assertThat(warmUpClosed.await(BOUND_SECONDS, TimeUnit.SECONDS)).isTrue();
            final Set<String> pipesBefore = openPipes();
            final DerpClient[] clients = new DerpClient[CLIENTS];
            final CompletableFuture<?>[] ready = new CompletableFuture<?>[CLIENTS];
            final SecureRandom random = new SecureRandom();
            for (int i = 0; i < CLIENTS; i++)
            {
                clients[i] = factory.open(DerpClientOptions.builder(relay.url(), NodePrivateKey.generate(random))
                    .trust(relay.pin()).build(), listener);
                ready[i] = clients[i].ready();
            }
            CompletableFuture.allOf(ready).get(BOUND_SECONDS, TimeUnit.SECONDS);
            // Two ends per connection, a pipe (two descriptors, one inode) per Conscrypt engine: about 2 per client
            // (a server end may still be finishing its handshake).
            // The pipes the engines hold, by inode: anything else in the process that opens or closes pipes
            // meanwhile (other tests' threads winding down) is left out of the count.
            final Set<String> enginePipes = new HashSet<>(openPipes());
            enginePipes.removeAll(pipesBefore);
            assertThat(enginePipes).as("pipes while connected: Conscrypt on both ends")
                .hasSizeGreaterThanOrEqualTo(3 * CLIENTS / 2);

            for (final DerpClient client : clients)
            {
                client.close();
            }
            assertThat(closed.await(BOUND_SECONDS, TimeUnit.SECONDS)).isTrue();
            // The server's ends close a moment after the clients report theirs: polled, with a deadline.
            final long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(BOUND_SECONDS);
            final Set<String> stillOpen = new HashSet<>(enginePipes);
            stillOpen.retainAll(openPipes());
            while (!stillOpen.isEmpty() && System.nanoTime() < deadline)
            {
                LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(10));
                stillOpen.retainAll(openPipes());
            }
            assertThat(stillOpen).as("the engines' pipes after every connection closed").isEmpty();
        }
        finally
        {
            group.shutdownGracefully(0, 1, TimeUnit.SECONDS).syncUninterruptibly();
        }
    }

    /**
     * @return the pipes this process holds open, as {@code pipe:[inode]}.
     */
    private static Set<String> openPipes() throws IOException
    {
        try (Stream<Path> fds = Files.list(Path.of("/proc/self/fd")))
        {
            return fds.map(fd ->
            {
                try
                {
                    return Files.readSymbolicLink(fd).toString();
                }
                catch (final IOException ex)
                {
                    return ""; // closed while listing
                }
            }).filter(target -> target.startsWith("pipe:")).collect(Collectors.toSet());
        }
    }
}
