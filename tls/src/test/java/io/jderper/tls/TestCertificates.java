package io.jderper.tls;

import java.io.IOException;
import java.math.BigInteger;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.PrivateKey;
import java.security.cert.X509Certificate;
import java.security.interfaces.ECPrivateKey;
import java.security.interfaces.ECPublicKey;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Date;
import java.util.List;

import org.bouncycastle.asn1.pkcs.PrivateKeyInfo;
import org.bouncycastle.asn1.x500.X500Name;
import org.bouncycastle.asn1.x509.BasicConstraints;
import org.bouncycastle.asn1.x509.Extension;
import org.bouncycastle.asn1.x509.GeneralName;
import org.bouncycastle.asn1.x509.GeneralNames;
import org.bouncycastle.asn1.x9.X9ObjectIdentifiers;
import org.bouncycastle.cert.X509v3CertificateBuilder;
import org.bouncycastle.cert.jcajce.JcaX509v3CertificateBuilder;

/**
 * Certificates and PEM files for tests: DNS-named leaves, optionally issued by a test CA, in every key encoding
 * manual mode reads.
 */
final class TestCertificates
{
    enum KeyEncoding
    {
        SEC1_EC, PKCS8, PKCS1_RSA, SEC1_EC_AFTER_PARAMETERS
    }

    private static final Duration VALIDITY = Duration.ofDays(90);

    private TestCertificates()
    {
    }

    static ServerCertificate selfSignedDns(final String... dnsNames)
    {
        final KeyPair keyPair = Certificates.newP256KeyPair();
        return new ServerCertificate(keyPair.getPrivate(),
            List.of(issue(keyPair, new X500Name("CN=" + dnsNames[0]), keyPair.getPrivate(), false, dnsNames)));
    }

    static ServerCertificate selfSignedRsaDns(final String dnsName) throws Exception
    {
        final KeyPairGenerator generator = KeyPairGenerator.getInstance("RSA");
        generator.initialize(2048);
        final KeyPair keyPair = generator.generateKeyPair();
        return new ServerCertificate(keyPair.getPrivate(),
            List.of(issue(keyPair, new X500Name("CN=" + dnsName), keyPair.getPrivate(), false, dnsName)));
    }

    /**
     * A leaf for the DNS name issued by a fresh intermediate CA; the chain is [leaf, intermediate].
     */
    static ServerCertificate caIssuedDns(final String dnsName)
    {
        final KeyPair caKeys = Certificates.newP256KeyPair();
        final X500Name caName = new X500Name("CN=jderper test intermediate");
        final X509Certificate ca = issue(caKeys, caName, caKeys.getPrivate(), true);
        final KeyPair leafKeys = Certificates.newP256KeyPair();
        final X509Certificate leaf = issue(leafKeys, caName, caKeys.getPrivate(), false, dnsName);
        return new ServerCertificate(leafKeys.getPrivate(), List.of(leaf, ca));
    }

    /**
     * Writes {@code <base>.crt} and {@code <base>.key} in the directory.
     */
    static void write(final Path directory, final String baseName, final ServerCertificate certificate,
        final KeyEncoding encoding) throws Exception
    {
        Files.createDirectories(directory);
        final List<byte[]> pem = new ArrayList<>();
        for (final X509Certificate c : certificate.chain())
        {
            pem.add(PemFiles.toPem(PemFiles.CERTIFICATE, c.getEncoded()));
        }
        Files.write(directory.resolve(baseName + ManualCertificates.CERTIFICATE_SUFFIX), concat(pem));
        Files.write(directory.resolve(baseName + ManualCertificates.KEY_SUFFIX), keyPem(certificate, encoding));
    }

    private static byte[] keyPem(final ServerCertificate certificate, final KeyEncoding encoding) throws Exception
    {
        final PrivateKey key = certificate.key();
        return switch (encoding)
        {
            case PKCS8 -> PemFiles.toPem(PemFiles.PKCS8_PRIVATE_KEY, key.getEncoded());
            case PKCS1_RSA -> PemFiles.toPem(PemFiles.RSA_PRIVATE_KEY,
                PrivateKeyInfo.getInstance(key.getEncoded()).parsePrivateKey().toASN1Primitive().getEncoded());
            case SEC1_EC -> PemFiles.toPem(PemFiles.EC_PRIVATE_KEY, PemFiles.encodeP256PrivateKey(
                (ECPrivateKey)key, (ECPublicKey)certificate.leaf().getPublicKey()));
            case SEC1_EC_AFTER_PARAMETERS -> concat(List.of(
                // What "openssl ecparam -genkey" writes: the curve first, then the key.
                PemFiles.toPem("EC PARAMETERS", X9ObjectIdentifiers.prime256v1.getEncoded()),
                keyPem(certificate, KeyEncoding.SEC1_EC)));
        };
    }

    private static X509Certificate issue(final KeyPair subjectKeys, final X500Name issuer, final PrivateKey issuerKey,
        final boolean ca, final String... dnsNames)
    {
        final Instant now = Instant.now();
        final X500Name subject = ca ? issuer : new X500Name("CN=" + (dnsNames.length > 0 ? dnsNames[0] : "leaf"));
        final X509v3CertificateBuilder builder = new JcaX509v3CertificateBuilder(issuer,
            BigInteger.valueOf(now.toEpochMilli()), Date.from(now.minus(Duration.ofMinutes(1))),
            Date.from(now.plus(VALIDITY)), subject, subjectKeys.getPublic());
        try
        {
            builder.addExtension(Extension.basicConstraints, true, new BasicConstraints(ca));
            if (dnsNames.length > 0)
            {
                final GeneralName[] names = new GeneralName[dnsNames.length];
                for (int i = 0; i < dnsNames.length; i++)
                {
                    names[i] = new GeneralName(GeneralName.dNSName, dnsNames[i]);
                }
                builder.addExtension(Extension.subjectAlternativeName, false, new GeneralNames(names));
            }
        }
        catch (final IOException ex)
        {
            throw new IllegalStateException(ex);
        }
        return Certificates.sign(builder, issuerKey);
    }

    private static byte[] concat(final List<byte[]> parts)
    {
        final int length = parts.stream().mapToInt(p -> p.length).sum();
        final byte[] all = new byte[length];
        int offset = 0;
        for (final byte[] part : parts)
        {
            System.arraycopy(part, 0, all, offset, part.length);
            offset += part.length;
        }
        return all;
    }
}
