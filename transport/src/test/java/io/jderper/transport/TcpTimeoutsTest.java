package io.jderper.transport;

import static org.assertj.core.api.Assertions.assertThat;

import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.security.SecureRandom;
import java.time.Duration;
import java.util.Optional;

import io.jderper.core.admission.AdmissionPolicy;
import io.jderper.core.handshake.ServerHandshake;
import io.jderper.core.key.NodePrivateKey;
import io.jderper.core.router.RelayConfig;
import io.jderper.core.router.RelayMetrics;
import io.jderper.core.router.Router;
import io.jderper.transport.io.ConnectionLimits;
import io.jderper.transport.io.TcpTimeouts;
import io.netty.buffer.ByteBuf;
import io.netty.channel.Channel;
import io.netty.channel.ChannelOption;
import io.netty.channel.epoll.EpollChannelOption;
import io.netty.channel.uring.IoUringChannelOption;
import org.junit.jupiter.api.Test;

/**
 * derper's TCP settings reach the sockets the relay accepts, as the kernel reports them back.
 */
class TcpTimeoutsTest
{
    @Test
    void shouldSetKeepAliveAndUserTimeoutOnAcceptedConnections() throws Exception
    {
        final SecureRandom random = new SecureRandom();
        final ServerHandshake handshake = new ServerHandshake(NodePrivateKey.generate(random), Optional.empty(),
            random);
        final Router<ByteBuf> router = new Router<>(handshake, AdmissionPolicy.ADMIT_ALL, RelayConfig.defaults(2_000),
            new RelayMetrics());
        try (RelayServer server = RelayServer.start(new RelayServer.Settings(
                new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), Optional.empty(), -1, handshake, router, 1,
                true, Optional.empty(), token -> Optional.empty(), Optional.empty(), ConnectionLimits.NONE,
                new TcpTimeouts(Duration.ofSeconds(90), Duration.ofSeconds(7))));
            Socket client = new Socket())
        {
            client.connect(server.mainAddress(), 5_000);
            final long deadline = System.nanoTime() + 10_000_000_000L;
            while (server.connections().isEmpty() && System.nanoTime() - deadline < 0)
            {
                Thread.onSpinWait();
            }
            final Channel accepted = server.connections().iterator().next();

            assertThat(accepted.config().getOption(ChannelOption.SO_KEEPALIVE)).isTrue();
            switch (server.transportName())
            {
                case "io_uring" ->
                {
                    assertThat(accepted.config().getOption(IoUringChannelOption.TCP_KEEPIDLE)).isEqualTo(90);
                    assertThat(accepted.config().getOption(IoUringChannelOption.TCP_KEEPINTVL)).isEqualTo(90);
                    assertThat(accepted.config().getOption(IoUringChannelOption.TCP_USER_TIMEOUT)).isEqualTo(7_000);
                }
                case "epoll" ->
                {
                    assertThat(accepted.config().getOption(EpollChannelOption.TCP_KEEPIDLE)).isEqualTo(90);
                    assertThat(accepted.config().getOption(EpollChannelOption.TCP_KEEPINTVL)).isEqualTo(90);
                    assertThat(accepted.config().getOption(EpollChannelOption.TCP_USER_TIMEOUT)).isEqualTo(7_000);
                }
                default -> throw new AssertionError("this test runs where io_uring or epoll is available, not on " +
                    server.transportName());
            }
        }
    }
}
