package io.jderper.tls;

import static org.assertj.core.api.Assertions.assertThat;

import java.net.InetAddress;
import java.security.cert.X509Certificate;
import java.time.Instant;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;

class HostnamesTest
{
    @ParameterizedTest
    @CsvSource({
        "127.0.0.1, 127.0.0.1",
        "203.0.113.10, 203.0.113.10",
        "::1, 0:0:0:0:0:0:0:1",
        "2001:db8::10, 2001:db8:0:0:0:0:0:10",
    })
    void shouldParseIpLiteralsAsGoDoes(final String text, final String expected)
    {
        assertThat(Hostnames.parseIp(text)).isEqualTo(InetAddress.ofLiteral(expected));
    }

    @ParameterizedTest
    @ValueSource(strings = {"derp.example.com", "[::1]", "fe80::1%eth0", "127.1", "010.0.0.1", "1234", "256.0.0.1",
        "1.2.3.4.5", ""})
    void shouldNotTreatOtherTextAsIpLiteral(final String text)
    {
        assertThat(Hostnames.parseIp(text)).isNull();
    }

    @Test
    void shouldMatchDnsNamesWithoutRegardToCaseOrTrailingDot()
    {
        assertThat(Hostnames.dnsNameMatches("derp.example.com", "DERP.Example.com.")).isTrue();
        assertThat(Hostnames.dnsNameMatches("Derp.Example.COM", "derp.example.com")).isTrue();
        assertThat(Hostnames.dnsNameMatches("derp.example.com", "derp.example.org")).isFalse();
    }

    @Test
    void shouldMatchWildcardOnlyAsTheWholeLeftmostLabel()
    {
        assertThat(Hostnames.dnsNameMatches("*.example.com", "derp.example.com")).isTrue();
        assertThat(Hostnames.dnsNameMatches("*.example.com", "a.derp.example.com")).isFalse();
        assertThat(Hostnames.dnsNameMatches("*.example.com", "example.com")).isFalse();
        assertThat(Hostnames.dnsNameMatches("derp.*.com", "derp.example.com")).isFalse();
        assertThat(Hostnames.dnsNameMatches("de*.example.com", "derp.example.com")).isFalse();
    }

    @Test
    void shouldMatchIpHostnamesAgainstIpSansOnly()
    {
        final ServerCertificate dnsOnly = TestCertificates.selfSignedDns("127.0.0.1");
        final X509Certificate ip = SelfSignedIpCertificate.build(
            Certificates.newP256KeyPair(), "::1", InetAddress.ofLiteral("::1"), Instant.now());

        assertThat(Hostnames.certificateMatches(dnsOnly.leaf(), "127.0.0.1")).as("DNS SAN of IP text").isFalse();
        assertThat(Hostnames.certificateMatches(ip, "::1")).isTrue();
        assertThat(Hostnames.certificateMatches(ip, "0:0:0:0:0:0:0:1")).isTrue();
        assertThat(Hostnames.certificateMatches(ip, "[::1]")).as("brackets, as Go's VerifyHostname").isTrue();
        assertThat(Hostnames.certificateMatches(ip, "::2")).isFalse();
    }
}
