package io.jderper.transport.client;

import io.jderper.core.key.NodePrivateKey;
import io.netty.bootstrap.Bootstrap;
import io.netty.buffer.PooledByteBufAllocator;
import io.netty.channel.ChannelException;
import io.netty.channel.EventLoop;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.socket.nio.NioSocketChannel;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.URI;
import java.security.SecureRandom;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.function.UnaryOperator;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * A connection whose channel cannot even be made (the process is out of file descriptors, say) must end the client
 * at once with the reason, not leave {@link DerpClient#ready()} pending forever: such a channel is never
 * registered, so its close future never completes.
 */
class DerpClientChannelFailureTest
{
    private static final SecureRandom RANDOM = new SecureRandom();
    private static EventLoopGroup group;

    @BeforeAll
    static void start()
    {
        group = DerpClients.newEventLoopGroup(1);
    }

    @AfterAll
    static void stop()
    {
        group.shutdownGracefully(0, 1, TimeUnit.SECONDS).syncUninterruptibly();
    }

    @Test
    void shouldFailReadyWhenTheChannelCannotBeCreated() throws Exception
    {
        final Recorder recorder = new Recorder();
        final DerpClient client = connect(recorder, bootstrap -> bootstrap.channelFactory(() ->
        {
            throw new ChannelException("Too many open files");
        }));

        // Far below the 60-second handshake timer: the failure itself must end the client.
        assertReadyFails(client, "Too many open files");
        assertThat(recorder.awaitClosed()).isInstanceOf(DerpClientException.class);
        assertThat(client.isFinished()).isTrue();
    }

    @Test
    void shouldFailReadyWhenTheChannelCannotBeRegistered() throws Exception
    {
        final Recorder recorder = new Recorder();
        // An NIO channel cannot join the native loops DerpClients makes: registration itself fails.
        final DerpClient client = connect(recorder, bootstrap -> bootstrap.channel(NioSocketChannel.class));

        assertReadyFails(client, "cannot connect");
        assertThat(recorder.awaitClosed()).isInstanceOf(DerpClientException.class);
    }

    /**
     * Starts a client's handshake timer (a minute) and its connect to a loopback port, on its loop, through a
     * bootstrap the test finishes.
     */
    private static DerpClient connect(final Recorder recorder, final UnaryOperator<Bootstrap> channel)
    {
        final EventLoop loop = group.next();
        final DerpClient client = new DerpClient(
            DerpClientOptions.builder(URI.create("http://derp.test/derp"), NodePrivateKey.generate(RANDOM))
                .handshakeTimeoutMs(60_000).build(),
            recorder, PooledByteBufAllocator.DEFAULT, RANDOM, loop);
        final Bootstrap bootstrap = channel.apply(new Bootstrap().group(loop).handler(client.handler()));
        loop.execute(() ->
        {
            client.startTimer();
            client.connect(bootstrap, new InetSocketAddress(InetAddress.getLoopbackAddress(), 1), null);
        });
        return client;
    }

    private static void assertReadyFails(final DerpClient client, final String reason)
    {
        final CompletableFuture<DerpClient> ready = client.ready();
        assertThatThrownBy(() -> ready.get(10, TimeUnit.SECONDS))
            .isInstanceOf(ExecutionException.class)
            .cause().isInstanceOf(DerpClientException.class).hasMessageContaining(reason);
    }
}
