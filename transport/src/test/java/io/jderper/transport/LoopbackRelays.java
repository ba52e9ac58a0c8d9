package io.jderper.transport;

import io.jderper.core.admission.AdmissionPolicy;
import io.jderper.core.handshake.ServerHandshake;
import io.jderper.core.key.NodePrivateKey;
import io.jderper.core.router.RelayConfig;
import io.jderper.core.router.RelayMetrics;
import io.jderper.core.router.Router;
import io.netty.buffer.ByteBuf;

import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.security.SecureRandom;
import java.util.Optional;

/**
 * Settings of a relay for tests over sockets: plain HTTP on a free loopback port, a fresh server key, every client
 * admitted, one event loop.
 */
public final class LoopbackRelays
{
    private LoopbackRelays()
    {
    }

    /**
     * @param metrics the counters the relay keeps, for the test to read.
     * @return the settings, to adjust with their {@code with} methods before {@link RelayServer#start}.
     */
    public static RelayServer.Settings plainHttp(final RelayMetrics metrics)
    {
        final SecureRandom random = new SecureRandom();
        final ServerHandshake handshake = new ServerHandshake(NodePrivateKey.generate(random), Optional.empty(),
            random);
        final Router<ByteBuf> router = new Router<>(handshake, AdmissionPolicy.ADMIT_ALL, RelayConfig.defaults(2_000),
            metrics);
        return new RelayServer.Settings(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), Optional.empty(),
            -1, handshake, router, 1);
    }
}
