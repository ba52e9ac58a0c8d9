package io.jderper.transport.mesh;

import org.bouncycastle.asn1.x500.X500Name;
import org.bouncycastle.asn1.x509.BasicConstraints;
import org.bouncycastle.asn1.x509.Extension;
import org.bouncycastle.asn1.x509.GeneralName;
import org.bouncycastle.asn1.x509.GeneralNames;
import org.bouncycastle.asn1.x509.KeyUsage;
import org.bouncycastle.cert.jcajce.JcaX509CertificateConverter;
import org.bouncycastle.cert.jcajce.JcaX509v3CertificateBuilder;
import org.bouncycastle.operator.jcajce.JcaContentSignerBuilder;

import java.io.IOException;
import java.math.BigInteger;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.cert.X509Certificate;
import java.security.spec.ECGenParameterSpec;
import java.time.Instant;
import java.util.Base64;
import java.util.Date;

/**
 * A throw-away certificate authority and one leaf it signed for 127.0.0.1, written where jderper's manual cert mode
 * reads it, so that mesh peers verify each other the normal way (a CA file) rather than by pin.
 */
final class TestCa
{
    /**
     * Also in the leaf, but nothing listens there: a peer named by it is reached only through its dial host.
     */
    static final String DIAL_TEST_ADDRESS = "127.0.0.2";

    final Path caFile;
    final Path certDir;

    private TestCa(final Path caFile, final Path certDir)
    {
        this.caFile = caFile;
        this.certDir = certDir;
    }

    static TestCa create(final Path dir) throws IOException, GeneralSecurityException
    {
        try
        {
            final Instant now = Instant.now();
            final KeyPair caKeys = ecKeys();
            final X500Name caName = new X500Name("CN=jderper mesh test CA");
            final X509Certificate ca = new JcaX509CertificateConverter().getCertificate(
                new JcaX509v3CertificateBuilder(caName, BigInteger.ONE, Date.from(now.minusSeconds(3600)),
                    Date.from(now.plusSeconds(86_400)), caName, caKeys.getPublic())
                    .addExtension(Extension.basicConstraints, true, new BasicConstraints(true))
                    .addExtension(Extension.keyUsage, true, new KeyUsage(KeyUsage.keyCertSign))
                    .build(new JcaContentSignerBuilder("SHA256withECDSA").build(caKeys.getPrivate())));
            final KeyPair leafKeys = ecKeys();
            final X509Certificate leaf = new JcaX509CertificateConverter().getCertificate(
                new JcaX509v3CertificateBuilder(caName, BigInteger.TWO, Date.from(now.minusSeconds(3600)),
                    Date.from(now.plusSeconds(86_400)), new X500Name("CN=127.0.0.1"), leafKeys.getPublic())
                    .addExtension(Extension.subjectAlternativeName, false,
                        new GeneralNames(new GeneralName[]{new GeneralName(GeneralName.iPAddress, "127.0.0.1"),
                            new GeneralName(GeneralName.iPAddress, DIAL_TEST_ADDRESS)}))
                    .build(new JcaContentSignerBuilder("SHA256withECDSA").build(caKeys.getPrivate())));
            final Path certDir = Files.createDirectories(dir.resolve("certs"));
            final Path caFile = dir.resolve("ca.pem");
            Files.writeString(caFile, pem("CERTIFICATE", ca.getEncoded()), StandardCharsets.US_ASCII);
            Files.writeString(certDir.resolve("127.0.0.1.crt"), pem("CERTIFICATE", leaf.getEncoded()),
                StandardCharsets.US_ASCII);
            Files.writeString(certDir.resolve("127.0.0.1.key"), pem("PRIVATE KEY", leafKeys.getPrivate().getEncoded()),
                StandardCharsets.US_ASCII);
            return new TestCa(caFile, certDir);
        }
        catch (final org.bouncycastle.operator.OperatorCreationException ex)
        {
            throw new GeneralSecurityException(ex);
        }
    }

    private static KeyPair ecKeys() throws GeneralSecurityException
    {
        final KeyPairGenerator generator = KeyPairGenerator.getInstance("EC");
        generator.initialize(new ECGenParameterSpec("secp256r1"));
        return generator.generateKeyPair();
    }

    private static String pem(final String type, final byte[] der)
    {
        return "-----BEGIN " + type + "-----\n" + Base64.getMimeEncoder(64, new byte[]{'\n'}).encodeToString(der) +
            "\n-----END " + type + "-----\n";
    }
}
