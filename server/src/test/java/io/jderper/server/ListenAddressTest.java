package io.jderper.server;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.UnknownHostException;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Go listen addresses as derper's {@code -a} takes them.
 */
class ListenAddressTest
{
    @Test
    void shouldListenOnEveryAddressForAPortAlone()
    {
        final InetSocketAddress address = ListenAddress.parse(":443");

        assertThat(address.getPort()).isEqualTo(443);
        assertThat(address.getAddress().isAnyLocalAddress()).isTrue();
    }

    @Test
    void shouldParseAnIpv4HostAndPort() throws UnknownHostException
    {
        final InetSocketAddress address = ListenAddress.parse("127.0.0.1:3340");

        assertThat(address.getAddress()).isEqualTo(InetAddress.getByAddress(new byte[] {127, 0, 0, 1}));
        assertThat(address.getPort()).isEqualTo(3340);
        assertThat(address.isUnresolved()).isFalse();
    }

    @Test
    void shouldParseABracketedIpv6HostAndPort() throws UnknownHostException
    {
        final InetSocketAddress address = ListenAddress.parse("[::1]:443");

        final byte[] loopback = new byte[16];
        loopback[15] = 1;
        assertThat(address.getAddress()).isEqualTo(InetAddress.getByAddress(loopback));
        assertThat(address.getPort()).isEqualTo(443);
    }

    @Test
    void shouldResolveLocalhost()
    {
        final InetSocketAddress address = ListenAddress.parse("localhost:80");

        assertThat(address.getAddress().isLoopbackAddress()).isTrue();
        assertThat(address.getPort()).isEqualTo(80);
    }

    @Test
    void shouldAcceptPortZeroForAnyFreePort()
    {
        assertThat(ListenAddress.parse("127.0.0.1:0").getPort()).isZero();
    }

    @ParameterizedTest
    @ValueSource(strings = {"443", "localhost", "", "127.0.0.1"})
    void shouldRefuseAnAddressWithoutPort(final String text)
    {
        assertThatThrownBy(() -> ListenAddress.parse(text))
            .isInstanceOf(IllegalArgumentException.class)
            .hasMessageContaining("\"" + text + "\"")
            .hasMessageContaining("has no port");
    }

    @ParameterizedTest
    @ValueSource(strings = {":abc", "127.0.0.1:", ":44 3", ":4.4", "[::1]"})
    void shouldRefuseABadPort(final String text)
    {
        assertThatThrownBy(() -> ListenAddress.parse(text))
            .isInstanceOf(IllegalArgumentException.class)
            .hasMessageContaining("\"" + text + "\"")
            .hasMessageContaining("bad port");
    }

    @ParameterizedTest
    @ValueSource(strings = {":70000", ":65536", ":-1", "127.0.0.1:99999"})
    void shouldRefuseAPortOutOfRange(final String text)
    {
        assertThatThrownBy(() -> ListenAddress.parse(text))
            .isInstanceOf(IllegalArgumentException.class)
            .hasMessageContaining("\"" + text + "\"")
            .hasMessageContaining("port out of range");
    }

    @ParameterizedTest
    @ValueSource(strings = {"::1:443", "2001:db8::1:443", "::1"})
    void shouldRefuseAnUnbracketedIpv6Host(final String text)
    {
        assertThatThrownBy(() -> ListenAddress.parse(text))
            .isInstanceOf(IllegalArgumentException.class)
            .hasMessageContaining("\"" + text + "\"")
            .hasMessageContaining("IPv6 hosts need brackets");
    }

    /**
     * derper takes Go listen addresses, and Go resolves a service name as the port: {@code -a :https} listens on
     * 443, and derper serves TLS for it ({@code tsweb.IsProd443} checks for port "443" or "https"; spec §1.7).
     */
    @Test
    void shouldAcceptTheHttpsServiceNameAsGoDoes()
    {
        assertThat(ListenAddress.parse(":https").getPort()).isEqualTo(443);
        assertThat(ListenAddress.parse(":http").getPort()).isEqualTo(80);
    }
}
