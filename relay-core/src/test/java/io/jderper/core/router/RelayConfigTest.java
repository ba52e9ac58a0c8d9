package io.jderper.core.router;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.api.Test;

class RelayConfigTest
{
    @Test
    void shouldDefaultToDerpersValues()
    {
        final RelayConfig config = RelayConfig.defaults(2_000);

        assertThat(config.sendQueueDepth()).isEqualTo(32);
        assertThat(config.writeTimeoutMs()).isEqualTo(2_000);
        assertThat(config.handshakeTimeoutMs()).isEqualTo(10_000);
        assertThat(config.keepAliveMs()).isEqualTo(60_000);
        assertThat(config.keepAliveJitterMs()).isEqualTo(5_000);
        assertThat(RelayConfig.defaults(0).writeTimeoutMs()).isZero();
    }

    @Test
    void shouldRejectInvalidValues()
    {
        assertInvalid(() -> new RelayConfig(0, 0, 1, 1, 0, 2, 0));
        assertInvalid(() -> new RelayConfig(24, 0, 1, 1, 0, 2, 0));
        assertInvalid(() -> new RelayConfig(32, -1, 1, 1, 0, 2, 0));
        assertInvalid(() -> new RelayConfig(32, 0, 0, 1, 0, 2, 0));
        assertInvalid(() -> new RelayConfig(32, 0, 1, 0, 0, 2, 0));
        assertInvalid(() -> new RelayConfig(32, 0, 1, 1, -1, 2, 0));
        assertInvalid(() -> new RelayConfig(32, 0, 1, 1, 0, 1, 0));
        assertInvalid(() -> new RelayConfig(32, 0, 1, 1, 0, 6, 0));
        assertInvalid(() -> new RelayConfig(32, 0, 1, 1, 0, 2, -1));
        assertInvalid(() -> new RelayConfig(32, 0, 1, 1, 0, 2, 0, -1));
        assertThat(new RelayConfig(1, 0, 1, 1, 0, 2, 0).sendQueueDepth()).isEqualTo(1);
        assertThat(new RelayConfig(1, 0, 1, 1, 0, 2, 0).tcpRttIntervalMs())
            .isEqualTo(RelayConfig.DEFAULT_TCP_RTT_INTERVAL_MS);
        assertThat(RelayConfig.defaults(0).withHandshakeTimeoutMs(5).withTcpRttIntervalMs(0))
            .isEqualTo(new RelayConfig(32, 0, 5, 60_000, 5_000, 16384, 4096, 0));
    }

    private static void assertInvalid(final Runnable construction)
    {
        assertThatThrownBy(construction::run).isInstanceOf(IllegalArgumentException.class);
    }
}
