package io.jderper.transport;

import io.jderper.core.protocol.ProtocolLimits;
import io.jderper.core.router.RelayConfig;
import io.jderper.core.router.TcpRtt;
import io.jderper.transport.io.IoTransport;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.nio.file.Path;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * derper's {@code derp_tcp_rtt}: each connection's kernel RTT, read through the transport that owns the socket, is
 * counted in its bucket at every sampling period; the NIO fallback cannot ask the kernel and counts {@code error}
 * once per connection, as derper does when its first reading fails.
 */
class TcpRttSamplesTest
{
    /** Every housekeeping tick (250 ms) samples. */
    private static final long INTERVAL_MS = 100;

    @TempDir
    Path certdir;

    @AfterEach
    void unforceTransport()
    {
        System.clearProperty(IoTransport.FORCE_PROPERTY);
    }

    @ParameterizedTest
    @ValueSource(strings = {"io_uring", "epoll"})
    void shouldCountLoopbackRoundTripsUnderTenMilliseconds(final String transport) throws Exception
    {
        System.setProperty(IoTransport.FORCE_PROPERTY, transport);
        try (RelayFixture relay = new RelayFixture(certdir, config());
            TestDerpClient client = TestDerpClient.connected(relay.address()))
        {
            assertThat(relay.server.transportName()).isEqualTo(transport);
            client.pingPong();

            RelayFixture.await("three samples under 10 ms", () -> relay.metrics.tcpRtt(TcpRtt.MS_10) >= 3);
            long elsewhere = 0;
            for (final TcpRtt label : TcpRtt.values())
            {
                elsewhere += TcpRtt.MS_10 == label ? 0 : relay.metrics.tcpRtt(label);
            }
            assertThat(elsewhere).as("a loopback RTT in any other bucket, or unreadable").isZero();
        }
    }

    @Test
    void shouldCountAnUnreadableRttOnceForEachConnectionOnNio() throws Exception
    {
        System.setProperty(IoTransport.FORCE_PROPERTY, "nio");
        try (RelayFixture relay = new RelayFixture(certdir, config());
            TestDerpClient first = TestDerpClient.connected(relay.address());
            TestDerpClient second = TestDerpClient.connected(relay.address()))
        {
            first.pingPong();
            second.pingPong();
            // Counted when each handshake finished; that it is never asked again the core's tests show.
            RelayFixture.await("both connections counted", () -> relay.metrics.tcpRtt(TcpRtt.ERROR) == 2);
            assertThat(relay.metrics.tcpRtt(TcpRtt.MS_10) + relay.metrics.tcpRtt(TcpRtt.NON_TCP)).isZero();
        }
    }

    private static RelayConfig config()
    {
        return RelayConfig.defaults(ProtocolLimits.DEFAULT_WRITE_TIMEOUT_MS).withTcpRttIntervalMs(INTERVAL_MS);
    }
}
