package io.jderper.server.metrics;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.jderper.server.cli.DerperOptions;
import io.jderper.server.cli.GoFlags;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;

import java.net.InetAddress;
import java.net.InetSocketAddress;

/**
 * {@code -metrics-addr}: on loopback unless told otherwise, off on request, and a clear refusal of anything else.
 */
class MetricsAddressTest
{
    @Test
    void shouldListenOnLoopbackByDefault()
    {
        final MetricsAddress address = DerperOptions.parse(new String[0]).metricsAddr().orElseThrow();

        assertThat(address.address()).isEqualTo(new InetSocketAddress(InetAddress.ofLiteral("127.0.0.1"), 9340));
        assertThat(address.address().getAddress().isLoopbackAddress()).isTrue();
        assertThat(address.explicit()).as("a default that is taken only gets a warning").isFalse();
    }

    @ParameterizedTest
    @ValueSource(strings = {"off", "OFF", "", " "})
    void shouldTurnTheListenerOff(final String value)
    {
        assertThat(DerperOptions.parse(new String[] {"-metrics-addr", value}).metricsAddr()).isEmpty();
        assertThat(DerperOptions.parse(new String[] {"--metrics-addr=" + value}).metricsAddr()).isEmpty();
    }

    @ParameterizedTest
    @CsvSource({
        "127.0.0.1:9100, 127.0.0.1, 9100",
        "[::1]:9340, ::1, 9340",
        ":9340, 0.0.0.0, 9340",
        "10.1.2.3:0, 10.1.2.3, 0"})
    void shouldTakeAnAddressTheOperatorGives(final String value, final String host, final int port)
    {
        final MetricsAddress address = DerperOptions.parse(new String[] {"-metrics-addr", value}).metricsAddr()
            .orElseThrow();

        assertThat(address.address().getAddress()).isEqualTo(InetAddress.ofLiteral(host));
        assertThat(address.address().getPort()).isEqualTo(port);
        assertThat(address.explicit()).as("an address given must be bound").isTrue();
    }

    @ParameterizedTest
    @CsvSource(delimiter = '|', value = {
        "9340|listen address \"9340\" has no port",
        "127.0.0.1:70000|port out of range",
        "127.0.0.1:metrics|bad port \"metrics\"",
        "::1:9340|IPv6 hosts need brackets",
        "127.0.0.1:|bad port \"\""})
    void shouldRefuseABadAddressSayingWhy(final String value, final String reason)
    {
        assertThatThrownBy(() -> DerperOptions.parse(new String[] {"-metrics-addr", value}))
            .isInstanceOf(GoFlags.FlagException.class)
            .hasMessageStartingWith("-metrics-addr: ")
            .hasMessageContaining(reason)
            .hasMessageEndingWith("; or off for no metrics listener");
    }

    @Test
    void shouldDescribeTheFlagInTheUsage()
    {
        assertThat(DerperOptions.usage()).contains("-metrics-addr\t(jderper only) host:port of the metrics listener",
            "default 127.0.0.1:9340");
    }
}
