package io.jderper.transport;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.io.InputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.security.SecureRandom;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.function.Function;

import io.jderper.core.admission.AdmissionPolicy;
import io.jderper.core.handshake.ServerHandshake;
import io.jderper.core.key.NodePrivateKey;
import io.jderper.core.router.RelayConfig;
import io.jderper.core.router.RelayMetrics;
import io.jderper.core.router.Router;
import io.jderper.transport.io.ConnectionLimits;
import io.jderper.transport.io.TcpTimeouts;
import io.netty.buffer.ByteBuf;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * Bounds on incoming connections, over real sockets: a flood from one address is capped while other addresses
 * keep being served, the global cap and derper's accept rate limit hold, and each refusal is counted.
 */
class ConnectionLimitsTest
{
    private final RelayMetrics metrics = new RelayMetrics();
    private final List<Socket> sockets = new ArrayList<>();
    private RelayServer server;

    private void start(final ConnectionLimits limits) throws Exception
    {
        final SecureRandom random = new SecureRandom();
        final ServerHandshake handshake = new ServerHandshake(NodePrivateKey.generate(random), Optional.empty(),
            random);
        final Router<ByteBuf> router = new Router<>(handshake, AdmissionPolicy.ADMIT_ALL, RelayConfig.defaults(2_000),
            metrics);
        server = RelayServer.start(new RelayServer.Settings(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0),
            Optional.empty(), -1, handshake, router, 1, true, Optional.empty(), token -> Optional.empty(),
            Optional.empty(), limits, TcpTimeouts.DERPER_DEFAULTS));
    }

    @AfterEach
    void stop() throws IOException
    {
        for (final Socket socket : sockets)
        {
            socket.close();
        }
        if (null != server)
        {
            server.close();
        }
    }

    private Socket open(final String from) throws IOException
    {
        final Socket socket = new Socket();
        socket.bind(new InetSocketAddress(InetAddress.getByName(from), 0));
        socket.connect(server.mainAddress(), 5_000);
        socket.setSoTimeout(5_000);
        sockets.add(socket);
        return socket;
    }

    /** Whether the server serves the connection (answers a probe) rather than closing it. */
    private static boolean served(final Socket socket) throws IOException
    {
        try
        {
            socket.getOutputStream().write("HEAD /derp/probe HTTP/1.1\r\nHost: relay\r\n\r\n"
                .getBytes(StandardCharsets.US_ASCII));
            final InputStream in = socket.getInputStream();
            final byte[] head = new byte[12];
            final int read = in.readNBytes(head, 0, head.length);
            return 12 == read && new String(head, StandardCharsets.US_ASCII).startsWith("HTTP/1.1 200");
        }
        catch (final IOException ex)
        {
            // Reset by the server: refused.
            return false;
        }
    }

    private static boolean eventually(final Function<Integer, Boolean> attempt)
    {
        final long deadline = System.nanoTime() + 10_000_000_000L;
        for (int i = 0; System.nanoTime() - deadline < 0; i++)
        {
            if (attempt.apply(i))
            {
                return true;
            }
            Thread.onSpinWait();
        }
        return false;
    }

    @Test
    void shouldCapOneAddressWhileOthersAreStillServed() throws Exception
    {
        start(new ConnectionLimits(Double.POSITIVE_INFINITY, Integer.MAX_VALUE, 0, 3));
        final List<Socket> flood = new ArrayList<>();
        for (int i = 0; i < 3; i++)
        {
            flood.add(open("127.0.0.1"));
        }
        for (final Socket socket : flood)
        {
            assertThat(served(socket)).isTrue();
        }

        for (int i = 0; i < 20; i++)
        {
            assertThat(served(open("127.0.0.1"))).as("connection %d over the cap", i + 4).isFalse();
        }
        assertThat(served(open("127.0.0.2"))).as("another address is unaffected").isTrue();
        assertThat(metrics.connectionsOverMaxPerIp.sum()).isEqualTo(20);

        flood.getFirst().close();
        // The slot frees when the server sees the close: retried until it has.
        assertThat(eventually(attempt ->
        {
            try
            {
                return served(open("127.0.0.1"));
            }
            catch (final IOException ex)
            {
                return false;
            }
        })).as("a freed slot can be taken again").isTrue();
    }

    @Test
    void shouldCapConnectionsInAll() throws Exception
    {
        start(new ConnectionLimits(Double.POSITIVE_INFINITY, Integer.MAX_VALUE, 2, 0));
        assertThat(served(open("127.0.0.1"))).isTrue();
        assertThat(served(open("127.0.0.2"))).isTrue();
        assertThat(served(open("127.0.0.3"))).isFalse();
        assertThat(metrics.connectionsOverMax.sum()).isEqualTo(1);
    }

    @Test
    void shouldApplyDerpersAcceptRateLimitAfterItsBurst() throws Exception
    {
        start(new ConnectionLimits(0.001, 2, 0, 0));
        assertThat(served(open("127.0.0.1"))).isTrue();
        assertThat(served(open("127.0.0.1"))).isTrue();
        assertThat(served(open("127.0.0.2"))).as("the burst is spent, for every address").isFalse();
        assertThat(metrics.tlsListenerAccepted.sum()).isEqualTo(2);
        assertThat(metrics.tlsListenerRejected.sum()).isEqualTo(1);
    }
}
