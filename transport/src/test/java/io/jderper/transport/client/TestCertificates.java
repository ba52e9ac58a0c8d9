package io.jderper.transport.client;

import org.bouncycastle.asn1.DERPrintableString;
import org.bouncycastle.asn1.x500.X500Name;
import org.bouncycastle.asn1.x500.X500NameBuilder;
import org.bouncycastle.asn1.x500.style.BCStyle;
import org.bouncycastle.asn1.x509.Extension;
import org.bouncycastle.asn1.x509.GeneralName;
import org.bouncycastle.asn1.x509.GeneralNames;
import org.bouncycastle.cert.X509v3CertificateBuilder;
import org.bouncycastle.cert.jcajce.JcaX509CertificateConverter;
import org.bouncycastle.cert.jcajce.JcaX509v3CertificateBuilder;
import org.bouncycastle.operator.jcajce.JcaContentSignerBuilder;

import java.math.BigInteger;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.MessageDigest;
import java.security.cert.X509Certificate;
import java.security.spec.ECGenParameterSpec;
import java.time.Instant;
import java.util.Date;
import java.util.HexFormat;

/**
 * Self-signed certificates made to order for the certificate rule tests.
 */
final class TestCertificates
{
    private TestCertificates()
    {
    }

    static X509Certificate create(
        final String commonName, final BigInteger serial, final Instant notBefore, final Instant notAfter,
        final GeneralName... subjectAltNames) throws Exception
    {
        final KeyPairGenerator generator = KeyPairGenerator.getInstance("EC");
        generator.initialize(new ECGenParameterSpec("secp256r1"));
        final KeyPair keys = generator.generateKeyPair();
        // As ASN.1, because BouncyCastle's string path refuses the 71-character meta CN.
        final X500Name subject = new X500NameBuilder(BCStyle.INSTANCE)
            .addRDN(BCStyle.CN, new DERPrintableString(commonName)).build();
        final X509v3CertificateBuilder builder = new JcaX509v3CertificateBuilder(subject, serial,
            Date.from(notBefore), Date.from(notAfter), subject, keys.getPublic());
        if (subjectAltNames.length > 0)
        {
            builder.addExtension(Extension.subjectAlternativeName, false, new GeneralNames(subjectAltNames));
        }
        return new JcaX509CertificateConverter().getCertificate(
            builder.build(new JcaContentSignerBuilder("SHA256withECDSA").build(keys.getPrivate())));
    }

    static X509Certificate leaf(final Instant now, final GeneralName... subjectAltNames) throws Exception
    {
        return create("leaf", BigInteger.valueOf(now.toEpochMilli()), now.minusSeconds(3600),
            now.plusSeconds(86400), subjectAltNames);
    }

    static GeneralName ip(final String address)
    {
        return new GeneralName(GeneralName.iPAddress, address);
    }

    static GeneralName dns(final String name)
    {
        return new GeneralName(GeneralName.dNSName, name);
    }

    static String sha256Hex(final X509Certificate certificate) throws Exception
    {
        return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(certificate.getEncoded()));
    }
}
