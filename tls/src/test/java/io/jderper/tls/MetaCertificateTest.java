package io.jderper.tls;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.math.BigInteger;
import java.security.cert.X509Certificate;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.HexFormat;
import java.util.Set;

import org.bouncycastle.asn1.ASN1Encodable;
import org.bouncycastle.asn1.DERPrintableString;
import org.bouncycastle.asn1.x500.X500Name;
import org.bouncycastle.asn1.x500.style.BCStyle;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.NullSource;
import org.junit.jupiter.params.provider.ValueSource;

class MetaCertificateTest
{
    private static final String KEY_HEX = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";
    private static final Instant NOW = Instant.parse("2026-03-01T12:34:56.789Z");

    private static final String BASIC_CONSTRAINTS = "2.5.29.19";
    private static final String SUBJECT_KEY_IDENTIFIER = "2.5.29.14";
    private static final String AUTHORITY_KEY_IDENTIFIER = "2.5.29.35";

    @Test
    void shouldNameTheServerKeyInTheCommonName()
    {
        final X509Certificate certificate = MetaCertificate.create(KEY_HEX, NOW);

        assertThat(ServerTlsContextsTest.commonName(certificate)).isEqualTo("derpkey" + KEY_HEX);
        assertThat(certificate.getIssuerX500Principal()).isEqualTo(certificate.getSubjectX500Principal());
    }

    @Test
    void shouldLowerCaseTheKeyHex()
    {
        final X509Certificate certificate = MetaCertificate.create(KEY_HEX.toUpperCase(), NOW);

        assertThat(ServerTlsContextsTest.commonName(certificate)).isEqualTo("derpkey" + KEY_HEX);
    }

    @Test
    void shouldLetAClientRecoverTheKeyAsGoDoes()
    {
        // What derphttp's parseMetaCert does: find CN "derpkey...", hex-decode the rest, check the serial fits 8 bits.
        final X509Certificate certificate = MetaCertificate.create(KEY_HEX, NOW);
        final String commonName = ServerTlsContextsTest.commonName(certificate);

        assertThat(HexFormat.of().parseHex(commonName.substring("derpkey".length()))).hasSize(32);
        assertThat(certificate.getSerialNumber().bitLength()).isLessThanOrEqualTo(8);
    }

    @Test
    void shouldEncodeTheCommonNameAsPrintableStringLikeGo()
    {
        final X509Certificate certificate = MetaCertificate.create(KEY_HEX, NOW);
        final X500Name name = X500Name.getInstance(certificate.getSubjectX500Principal().getEncoded());
        final ASN1Encodable value = name.getRDNs(BCStyle.CN)[0].getFirst().getValue();

        assertThat(value).isInstanceOf(DERPrintableString.class);
    }

    @Test
    void shouldUseTheProtocolVersionAsSerialNumber()
    {
        assertThat(MetaCertificate.create(KEY_HEX, NOW).getSerialNumber()).isEqualTo(BigInteger.TWO);
    }

    @Test
    void shouldBeValidFromThirtyDaysAgoToThirtyDaysAhead()
    {
        final X509Certificate certificate = MetaCertificate.create(KEY_HEX, NOW);
        final Instant second = NOW.truncatedTo(ChronoUnit.SECONDS);

        assertThat(certificate.getNotBefore().toInstant()).isEqualTo(second.minus(30, ChronoUnit.DAYS));
        assertThat(certificate.getNotAfter().toInstant()).isEqualTo(second.plus(30, ChronoUnit.DAYS));
    }

    @Test
    void shouldCarryCriticalBasicConstraintsAsTheOnlyExtension()
    {
        final X509Certificate certificate = MetaCertificate.create(KEY_HEX, NOW);

        assertThat(certificate.getCriticalExtensionOIDs()).isEqualTo(Set.of(BASIC_CONSTRAINTS));
        assertThat(certificate.getNonCriticalExtensionOIDs()).isNullOrEmpty();
        assertThat(certificate.getBasicConstraints()).as("not a CA").isEqualTo(-1);
    }

    @Test
    void shouldOmitSubjectAndAuthorityKeyIdentifiers()
    {
        final X509Certificate certificate = MetaCertificate.create(KEY_HEX, NOW);

        assertThat(certificate.getExtensionValue(SUBJECT_KEY_IDENTIFIER)).isNull();
        assertThat(certificate.getExtensionValue(AUTHORITY_KEY_IDENTIFIER)).isNull();
    }

    @Test
    void shouldBeSelfSignedWithAP256Key()
    {
        final X509Certificate certificate = MetaCertificate.create(KEY_HEX);

        assertThat(Certificates.isSelfSigned(certificate)).isTrue();
        assertThat(certificate.getPublicKey().getAlgorithm()).isEqualTo("EC");
    }

    @Test
    void shouldUseAFreshKeyEachTime()
    {
        assertThat(MetaCertificate.create(KEY_HEX, NOW).getPublicKey())
            .isNotEqualTo(MetaCertificate.create(KEY_HEX, NOW).getPublicKey());
    }

    @ParameterizedTest
    @NullSource
    @ValueSource(strings = {
        "",
        "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcde",
        "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef0",
        "g123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef",
        "\uff10123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef",
    })
    void shouldRejectKeyTextThatIsNot64HexCharacters(final String keyHex)
    {
        assertThatThrownBy(() -> MetaCertificate.create(keyHex))
            .isInstanceOf(IllegalArgumentException.class)
            .hasMessage("serverPublicKeyHex=" + keyHex);
    }
}
