package io.jderper.transport.http;

import io.netty.handler.codec.http.DefaultHttpHeaders;
import io.netty.handler.codec.http.HttpHeaders;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.net.InetAddress;
import java.net.InetSocketAddress;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * Who may open {@code /debug/} (spec §4.11): loopback, the ranges of {@code -debug-allow-from}, never a proxied
 * request.
 */
class DebugAccessTest
{
    private static InetAddress ip(final String literal)
    {
        return InetAddress.ofLiteral(literal);
    }

    @Test
    void shouldAllowOnlyLoopbackByDefault()
    {
        final DebugAccess access = DebugAccess.parse("");

        assertThat(access).isSameAs(DebugAccess.LOOPBACK_ONLY);
        assertThat(access.allows(ip("127.0.0.1"))).isTrue();
        assertThat(access.allows(ip("127.1.2.3"))).isTrue();
        assertThat(access.allows(ip("::1"))).isTrue();
        assertThat(access.allows(ip("10.0.0.1"))).isFalse();
        assertThat(access.allows(ip("100.64.0.1"))).as("Tailscale's range is not admitted by default").isFalse();
        assertThat(access.allows(ip("2001:db8::1"))).isFalse();
    }

    @Test
    void shouldAllowTheListedRanges()
    {
        final DebugAccess access = DebugAccess.parse("10.0.0.0/8, 192.0.2.7,fd7a:115c:a1e0::/48,172.16.0.0/12");

        assertThat(access.allows(ip("10.255.1.2"))).isTrue();
        assertThat(access.allows(ip("11.0.0.1"))).isFalse();
        assertThat(access.allows(ip("192.0.2.7"))).isTrue();
        assertThat(access.allows(ip("192.0.2.8"))).isFalse();
        assertThat(access.allows(ip("fd7a:115c:a1e0:ab12::1"))).isTrue();
        assertThat(access.allows(ip("fd7a:115c:a1e1::1"))).isFalse();
        assertThat(access.allows(ip("172.31.255.255"))).isTrue();
        assertThat(access.allows(ip("172.32.0.0"))).as("a prefix ending inside a byte").isFalse();
        assertThat(access.allows(ip("127.0.0.1"))).isTrue();
        assertThat(access.toString()).isEqualTo("loopback, 10.0.0.0/8, 192.0.2.7, fd7a:115c:a1e0::/48, " +
            "172.16.0.0/12");
    }

    @Test
    void shouldAllowEverythingOfAFamilyForAZeroLengthPrefix()
    {
        final DebugAccess access = DebugAccess.parse("0.0.0.0/0");

        assertThat(access.allows(ip("203.0.113.9"))).isTrue();
        assertThat(access.allows(ip("2001:db8::1"))).isFalse();
    }

    @Test
    void shouldRefuseAProxiedRequestEvenFromLoopback()
    {
        final HttpHeaders forwarded = new DefaultHttpHeaders().set("X-Forwarded-For", "203.0.113.9");
        final HttpHeaders direct = new DefaultHttpHeaders();
        final InetSocketAddress loopback = new InetSocketAddress(ip("127.0.0.1"), 40000);

        assertThat(DebugAccess.LOOPBACK_ONLY.allows(loopback, direct)).isTrue();
        assertThat(DebugAccess.LOOPBACK_ONLY.allows(loopback, forwarded)).isFalse();
        assertThat(DebugAccess.LOOPBACK_ONLY.allows(new InetSocketAddress(ip("198.51.100.1"), 40000), direct))
            .isFalse();
    }

    @ParameterizedTest
    @ValueSource(strings = {"10.0.0.0/33", "::/129", "10.0.0.0/", "10.0.0.0/x", "10.0.0.0/-1", "example.com/8",
        "localhost", "10.0.0", "[::1]/128", "10.0.0.0/8/8"})
    void shouldRefuseWhatIsNotAPrefix(final String flag)
    {
        assertThatThrownBy(() -> DebugAccess.parse(flag))
            .isInstanceOf(IllegalArgumentException.class)
            .hasMessageStartingWith("-debug-allow-from: \"" + flag + "\"");
    }

    @Test
    void shouldRefuseAnEmptyEntry()
    {
        assertThatThrownBy(() -> DebugAccess.parse("10.0.0.0/8,,::1"))
            .isInstanceOf(IllegalArgumentException.class)
            .hasMessage("-debug-allow-from has an empty entry: \"10.0.0.0/8,,::1\"");
    }
}
