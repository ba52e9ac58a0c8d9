package io.jderper.tls;

import java.io.IOException;
import java.math.BigInteger;
import java.net.InetAddress;
import java.nio.file.Path;
import java.security.KeyPair;
import java.security.cert.CertificateEncodingException;
import java.security.cert.X509Certificate;
import java.security.interfaces.ECPrivateKey;
import java.security.interfaces.ECPublicKey;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.temporal.ChronoUnit;
import java.util.Date;
import java.util.List;

import org.bouncycastle.asn1.x500.X500Name;
import org.bouncycastle.asn1.x500.X500NameBuilder;
import org.bouncycastle.asn1.x500.style.BCStyle;
import org.bouncycastle.asn1.x509.BasicConstraints;
import org.bouncycastle.asn1.x509.ExtendedKeyUsage;
import org.bouncycastle.asn1.x509.Extension;
import org.bouncycastle.asn1.x509.GeneralName;
import org.bouncycastle.asn1.x509.GeneralNames;
import org.bouncycastle.asn1.x509.KeyPurposeId;
import org.bouncycastle.asn1.x509.KeyUsage;
import org.bouncycastle.asn1.DEROctetString;
import org.bouncycastle.cert.X509v3CertificateBuilder;
import org.bouncycastle.cert.jcajce.JcaX509v3CertificateBuilder;

/**
 * The certificate derper's manual mode creates for an IP hostname with no files (spec §5.2): P-256, random 128-bit
 * serial, CN and IP SAN = the address, valid for one year, server authentication only, not a CA. Clients accept it
 * through a {@code sha256-raw:} pin.
 */
final class SelfSignedIpCertificate
{
    private static final int SERIAL_BITS = 128;

    private SelfSignedIpCertificate()
    {
    }

    /**
     * Creates the key and certificate and writes them as PEM: the key with mode 0600, the certificate with 0644,
     * missing directories with 0700.
     *
     * @param hostname the IP literal exactly as given, used as the CN.
     * @param ip       the parsed address, used as the IP SAN.
     */
    static ServerCertificate createFiles(
        final Path certificateFile, final Path keyFile, final String hostname, final InetAddress ip, final Instant now)
        throws IOException
    {
        final KeyPair keyPair = Certificates.newP256KeyPair();
        final X509Certificate certificate = build(keyPair, hostname, ip, now);

        PemFiles.createDirectories(certificateFile.toAbsolutePath().getParent());
        PemFiles.createDirectories(keyFile.toAbsolutePath().getParent());
        // Key first: a crash in between leaves a key without a certificate, which the next start replaces.
        final byte[] keyDer = PemFiles.encodeP256PrivateKey(
            (ECPrivateKey)keyPair.getPrivate(), (ECPublicKey)keyPair.getPublic());
        PemFiles.writeAtomically(keyFile, PemFiles.toPem(PemFiles.EC_PRIVATE_KEY, keyDer), true);
        PemFiles.writeAtomically(certificateFile, PemFiles.toPem(PemFiles.CERTIFICATE, encoded(certificate)), false);
        return new ServerCertificate(keyPair.getPrivate(), List.of(certificate));
    }

    static X509Certificate build(final KeyPair keyPair, final String hostname, final InetAddress ip, final Instant now)
    {
        final Instant notBefore = now.truncatedTo(ChronoUnit.SECONDS);
        // A calendar year like Go's AddDate(1, 0, 0); macOS rejects server certificates valid much longer.
        final Instant notAfter = notBefore.atZone(ZoneOffset.UTC).plusYears(1).toInstant();
        final X500Name subject = new X500NameBuilder(BCStyle.INSTANCE).addRDN(BCStyle.CN, hostname).build();
        final X509v3CertificateBuilder builder = new JcaX509v3CertificateBuilder(
            subject,
            new BigInteger(SERIAL_BITS, Certificates.RANDOM),
            Date.from(notBefore),
            Date.from(notAfter),
            subject,
            keyPair.getPublic());
        try
        {
            // Same extensions and criticality as Go's x509.CreateCertificate for derper's template; like Go, no
            // key identifiers for a non-CA certificate.
            builder.addExtension(Extension.keyUsage, true,
                new KeyUsage(KeyUsage.digitalSignature | KeyUsage.keyEncipherment));
            builder.addExtension(Extension.extendedKeyUsage, false, new ExtendedKeyUsage(KeyPurposeId.id_kp_serverAuth));
            builder.addExtension(Extension.basicConstraints, true, new BasicConstraints(false));
            builder.addExtension(Extension.subjectAlternativeName, false,
                new GeneralNames(new GeneralName(GeneralName.iPAddress, new DEROctetString(ip.getAddress()))));
        }
        catch (final IOException ex)
        {
            throw new IllegalStateException("cannot encode certificate extensions", ex);
        }
        return Certificates.sign(builder, keyPair.getPrivate());
    }

    private static byte[] encoded(final X509Certificate certificate) throws IOException
    {
        try
        {
            return certificate.getEncoded();
        }
        catch (final CertificateEncodingException ex)
        {
            throw new IOException("cannot encode certificate", ex);
        }
    }
}
