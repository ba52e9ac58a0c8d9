package io.jderper.transport.client;

import io.jderper.tls.MetaCertificate;
import org.junit.jupiter.api.Test;

import java.math.BigInteger;
import java.security.cert.Certificate;
import java.security.cert.X509Certificate;
import java.time.Instant;
import java.util.HexFormat;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Reading the meta certificate as Tailscale's {@code parseMetaCert} does, and telling IP literals from names.
 */
class PeerCertificatesTest
{
    private static final String KEY_HEX = "0123456789abcdef".repeat(4);
    private static final Instant NOW = Instant.now();

    private static X509Certificate meta(final String cn, final long serial) throws Exception
    {
        return TestCertificates.create(cn, BigInteger.valueOf(serial), NOW.minusSeconds(60), NOW.plusSeconds(60));
    }

    @Test
    void shouldReadTheServerKeyFromOurMetaCertificate() throws Exception
    {
        final X509Certificate leaf = TestCertificates.leaf(NOW);

        assertThat(PeerCertificates.metaServerKey(new Certificate[]{leaf, MetaCertificate.create(KEY_HEX)}))
            .isEqualTo(HexFormat.of().parseHex(KEY_HEX));
        assertThat(PeerCertificates.commonName(MetaCertificate.create(KEY_HEX))).isEqualTo("derpkey" + KEY_HEX);
    }

    @Test
    void shouldAcceptSerialsUpTo255AndEitherCase() throws Exception
    {
        assertThat(PeerCertificates.metaServerKey(new Certificate[]{meta("derpkey" + KEY_HEX.toUpperCase(), 255)}))
            .isEqualTo(HexFormat.of().parseHex(KEY_HEX));
    }

    @Test
    void shouldIgnoreUnusableMetaCertificates() throws Exception
    {
        assertThat(PeerCertificates.metaServerKey(new Certificate[]{meta("derpkey" + KEY_HEX, 256)}))
            .as("serial over 8 bits").isNull();
        assertThat(PeerCertificates.metaServerKey(new Certificate[]{meta("derpkey" + KEY_HEX, 0)}))
            .as("version 0").isNull();
        assertThat(PeerCertificates.metaServerKey(new Certificate[]{meta("derpkey" + "00".repeat(32), 2)}))
            .as("zero key").isNull();
        assertThat(PeerCertificates.metaServerKey(new Certificate[]{meta("derpkey" + KEY_HEX.substring(2), 2)}))
            .as("short key").isNull();
        assertThat(PeerCertificates.metaServerKey(new Certificate[]{TestCertificates.leaf(NOW)}))
            .as("no meta certificate").isNull();
    }

    @Test
    void shouldTellIpLiteralsFromHostNamesWithoutLookingThemUp()
    {
        assertThat(PeerCertificates.ipLiteral("127.0.0.1")).isNotNull();
        assertThat(PeerCertificates.ipLiteral("::1")).isNotNull();
        assertThat(PeerCertificates.ipLiteral("[2001:db8::1]")).isNotNull();
        assertThat(PeerCertificates.ipLiteral("127.1")).isNull();
        assertThat(PeerCertificates.ipLiteral("010.0.0.1")).isNull();
        assertThat(PeerCertificates.ipLiteral("derp.example.com")).isNull();
        assertThat(PeerCertificates.ipLiteral("fe80::1%eth0")).isNull();
        assertThat(PeerCertificates.ipLiteral("")).isNull();
    }
}
