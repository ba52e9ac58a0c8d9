package io.jderper.transport.client;

import io.jderper.tls.MetaCertificate;
import org.junit.jupiter.api.Test;

import java.math.BigInteger;
import java.security.cert.CertificateException;
import java.security.cert.X509Certificate;
import java.time.Instant;
import java.time.InstantSource;

import static io.jderper.transport.client.TestCertificates.dns;
import static io.jderper.transport.client.TestCertificates.ip;
import static org.assertj.core.api.Assertions.assertThatCode;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * The {@code sha256-raw:} rules of Tailscale's {@code SetConfigExpectedCertHash}, one by one.
 */
class Sha256RawTrustManagerTest
{
    private static final Instant NOW = Instant.parse("2026-03-01T12:00:00Z");

    private final X509Certificate meta = MetaCertificate.create("ab".repeat(32));

    private static Sha256RawTrustManager pinning(final X509Certificate certificate, final Instant now) throws Exception
    {
        return new Sha256RawTrustManager(TestCertificates.sha256Hex(certificate), InstantSource.fixed(now));
    }

    @Test
    void shouldAcceptThePinnedLeafFollowedByTheMetaCertificate() throws Exception
    {
        final X509Certificate leaf = TestCertificates.leaf(NOW, ip("127.0.0.1"));

        assertThatCode(() -> pinning(leaf, NOW).verify(new X509Certificate[]{leaf, meta}, "127.0.0.1"))
            .doesNotThrowAnyException();
        assertThatCode(() -> pinning(leaf, NOW).verify(new X509Certificate[]{meta, leaf}, null))
            .doesNotThrowAnyException();
    }

    @Test
    void shouldRejectAnotherCertificate() throws Exception
    {
        final X509Certificate leaf = TestCertificates.leaf(NOW, ip("127.0.0.1"));
        final X509Certificate other = TestCertificates.leaf(NOW, ip("127.0.0.1"));

        assertThatThrownBy(() -> pinning(leaf, NOW).verify(new X509Certificate[]{other, meta}, "127.0.0.1"))
            .isInstanceOf(CertificateException.class)
            .hasMessageContaining("cert hash does not match expected cert hash");
    }

    @Test
    void shouldRejectMoreThanOneNonMetaCertificate() throws Exception
    {
        final X509Certificate leaf = TestCertificates.leaf(NOW, ip("127.0.0.1"));
        final X509Certificate intermediate = TestCertificates.leaf(NOW);

        assertThatThrownBy(() -> pinning(leaf, NOW).verify(new X509Certificate[]{leaf, intermediate}, "127.0.0.1"))
            .hasMessageContaining("unexpected multiple certs presented");
    }

    @Test
    void shouldRejectAChainOfOnlyMetaCertificates() throws Exception
    {
        assertThatThrownBy(() -> pinning(meta, NOW).verify(new X509Certificate[]{meta}, "127.0.0.1"))
            .hasMessageContaining("expected cert not presented");
    }

    @Test
    void shouldRejectACertificateForAnotherHost() throws Exception
    {
        final X509Certificate leaf = TestCertificates.leaf(NOW, ip("127.0.0.1"), dns("*.example.com"));

        assertThatCode(() -> pinning(leaf, NOW).verify(new X509Certificate[]{leaf}, "derp.example.com"))
            .doesNotThrowAnyException();
        assertThatThrownBy(() -> pinning(leaf, NOW).verify(new X509Certificate[]{leaf}, "127.0.0.2"))
            .hasMessageContaining("cert does not match server name \"127.0.0.2\"");
        assertThatThrownBy(() -> pinning(leaf, NOW).verify(new X509Certificate[]{leaf}, "a.derp.example.com"))
            .hasMessageContaining("cert does not match server name");
        // No CN fallback, as in Go.
        final X509Certificate cnOnly = TestCertificates.create("derp.example.com", BigInteger.TEN,
            NOW.minusSeconds(60), NOW.plusSeconds(60));
        assertThatThrownBy(() -> pinning(cnOnly, NOW).verify(new X509Certificate[]{cnOnly}, "derp.example.com"))
            .hasMessageContaining("cert does not match server name");
    }

    @Test
    void shouldRejectACertificateOutsideItsValidityDates() throws Exception
    {
        final X509Certificate leaf = TestCertificates.leaf(NOW, ip("127.0.0.1"));
        final X509Certificate[] chain = {leaf};

        assertThatThrownBy(() -> pinning(leaf, NOW.plusSeconds(2 * 86400)).verify(chain, "127.0.0.1"))
            .hasMessageContaining("cert expired");
        assertThatThrownBy(() -> pinning(leaf, NOW.minusSeconds(2 * 3600)).verify(chain, "127.0.0.1"))
            .hasMessageContaining("cert not yet valid");
    }

    @Test
    void shouldTrustNoClients() throws Exception
    {
        final X509Certificate leaf = TestCertificates.leaf(NOW);

        assertThatThrownBy(() -> pinning(leaf, NOW).checkClientTrusted(new X509Certificate[]{leaf}, "EC"))
            .isInstanceOf(CertificateException.class);
    }
}
