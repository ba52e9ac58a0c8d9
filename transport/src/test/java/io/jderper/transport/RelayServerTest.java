package io.jderper.transport;

import io.jderper.core.admission.AdmissionPolicy;
import io.jderper.core.handshake.ServerHandshake;
import io.jderper.core.key.NodePrivateKey;
import io.jderper.core.router.RelayConfig;
import io.jderper.core.router.RelayMetrics;
import io.jderper.core.router.Router;
import io.netty.buffer.ByteBuf;
import org.junit.jupiter.api.Test;

import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.security.SecureRandom;
import java.util.Optional;
import java.util.Set;
import java.util.stream.Collectors;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class RelayServerTest
{
    private static Set<Thread> nonDaemonThreads()
    {
        return Thread.getAllStackTraces().keySet().stream()
            .filter(t -> !t.isDaemon() && t.isAlive() && t != Thread.currentThread())
            .collect(Collectors.toSet());
    }

    @Test
    void shouldFailAndLeaveNoThreadsWhenThePortIsTaken() throws Exception
    {
        final SecureRandom random = new SecureRandom();
        final ServerHandshake handshake = new ServerHandshake(NodePrivateKey.generate(random), Optional.empty(),
            random);
        final Router<ByteBuf> router = new Router<>(handshake, AdmissionPolicy.ADMIT_ALL,
            RelayConfig.defaults(2000), new RelayMetrics());
        final Set<Thread> before = nonDaemonThreads();
        try (ServerSocket taken = new ServerSocket(0, 1, InetAddress.getLoopbackAddress()))
        {
            final InetSocketAddress address = new InetSocketAddress(InetAddress.getLoopbackAddress(),
                taken.getLocalPort());
            assertThatThrownBy(() -> RelayServer.start(
                new RelayServer.Settings(address, Optional.empty(), -1, handshake, router, 2)))
                .isInstanceOf(RuntimeException.class)
                .hasMessageContaining("in use");
        }
        // The event-loop threads of the failed start must end, or they would keep the process alive.
        for (final Thread thread : nonDaemonThreads())
        {
            if (!before.contains(thread))
            {
                thread.join(10_000);
                assertThat(thread.isAlive()).as("thread %s still alive", thread.getName()).isFalse();
            }
        }
    }
}
