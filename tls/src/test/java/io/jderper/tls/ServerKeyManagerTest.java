package io.jderper.tls;

import static org.assertj.core.api.Assertions.assertThat;

import java.security.cert.X509Certificate;
import java.util.concurrent.atomic.AtomicReference;

import org.junit.jupiter.api.Test;

class ServerKeyManagerTest
{
    private static final X509Certificate META =
        MetaCertificate.create("00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff");

    @Test
    void shouldAppendMetaCertificateAfterLeafAndIntermediates()
    {
        final ServerCertificate certificate = TestCertificates.caIssuedDns("derp.example.com");
        final ServerKeyManager keyManager = new ServerKeyManager(sni -> certificate, META);

        final String alias = keyManager.chooseEngineServerAlias("EC", null, null);

        assertThat(keyManager.getCertificateChain(alias))
            .containsExactly(certificate.chain().get(0), certificate.chain().get(1), META);
        assertThat(keyManager.getPrivateKey(alias)).isSameAs(certificate.key());
    }

    @Test
    void shouldHandOutACopyOfTheChain()
    {
        final ServerCertificate certificate = TestCertificates.selfSignedDns("derp.example.com");
        final ServerKeyManager keyManager = new ServerKeyManager(sni -> certificate, META);
        final String alias = keyManager.chooseEngineServerAlias("EC", null, null);

        keyManager.getCertificateChain(alias)[1] = null;

        assertThat(keyManager.getCertificateChain(alias)).containsExactly(certificate.leaf(), META);
    }

    @Test
    void shouldChooseNoAliasWhenTheStoreRefuses()
    {
        final ServerKeyManager keyManager = new ServerKeyManager(sni -> null, META);

        assertThat(keyManager.chooseEngineServerAlias("EC", null, null)).isNull();
        assertThat(keyManager.chooseServerAlias("EC", null, null)).isNull();
    }

    @Test
    void shouldTreatAMissingHandshakeSessionAsNoSni()
    {
        final AtomicReference<String> asked = new AtomicReference<>("not asked");
        final ServerKeyManager keyManager = new ServerKeyManager(sni ->
        {
            asked.set(sni);
            return null;
        }, META);

        keyManager.chooseEngineServerAlias("EC", null, null);

        assertThat(asked.get()).isNull();
    }

    @Test
    void shouldOnlyOfferTheCertificateForMatchingKeyTypes()
    {
        final ServerCertificate certificate = TestCertificates.selfSignedDns("derp.example.com");
        final ServerKeyManager keyManager = new ServerKeyManager(sni -> certificate, META);

        assertThat(keyManager.chooseEngineServerAlias("RSA", null, null)).isNull();
        assertThat(keyManager.chooseEngineServerAlias("EdDSA", null, null)).isNull();
        assertThat(keyManager.chooseEngineServerAlias("EC", null, null)).isNotNull();
        assertThat(keyManager.chooseEngineServerAlias("EC_EC", null, null)).isNotNull();
        assertThat(ServerKeyManager.keyTypeFits("RSA", "RSA")).isTrue();
        assertThat(ServerKeyManager.keyTypeFits("EdDSA", "Ed25519")).isTrue();
    }

    @Test
    void shouldKeepOneAliasPerCertificateAndStillServeTheOldOneAfterAChange()
    {
        final ServerCertificate first = TestCertificates.selfSignedDns("derp.example.com");
        final ServerCertificate second = TestCertificates.selfSignedDns("derp.example.com");
        final AtomicReference<ServerCertificate> current = new AtomicReference<>(first);
        final ServerKeyManager keyManager = new ServerKeyManager(sni -> current.get(), META);

        final String firstAlias = keyManager.chooseEngineServerAlias("EC", null, null);
        assertThat(keyManager.chooseEngineServerAlias("EC", null, null)).isEqualTo(firstAlias);
        current.set(second);
        final String secondAlias = keyManager.chooseEngineServerAlias("EC", null, null);

        assertThat(secondAlias).isNotEqualTo(firstAlias);
        assertThat(keyManager.getCertificateChain(secondAlias)[0]).isEqualTo(second.leaf());
        assertThat(keyManager.getCertificateChain(firstAlias)[0]).as("in-flight handshake").isEqualTo(first.leaf());
    }

    @Test
    void shouldForgetUnknownAliases()
    {
        final ServerKeyManager keyManager = new ServerKeyManager(sni -> null, META);

        assertThat(keyManager.getCertificateChain("jderper-1")).isNull();
        assertThat(keyManager.getPrivateKey("jderper-1")).isNull();
        assertThat(keyManager.getServerAliases("EC", null)).isNull();
    }
}
