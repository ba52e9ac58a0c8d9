package io.jderper.transport.client;

import io.jderper.core.key.KeyHex;
import io.jderper.tls.MetaCertificate;
import org.bouncycastle.asn1.ASN1String;
import org.bouncycastle.asn1.x500.RDN;
import org.bouncycastle.asn1.x500.X500Name;
import org.bouncycastle.asn1.x500.style.BCStyle;

import io.jderper.tls.Hostnames;

import java.net.InetAddress;
import java.security.cert.Certificate;
import java.security.cert.X509Certificate;

/**
 * What a DERP client reads from the server's certificates, with Go's semantics: the subject CN, the meta
 * certificate's server key (spec §1.4) and whether a certificate is valid for a host name.
 */
final class PeerCertificates
{
    private static final int MAX_META_SERIAL_BITS = 8;

    private PeerCertificates()
    {
    }

    /**
     * @param certificate a certificate.
     * @return its subject's common name (the last one, as Go keeps), or "" if it has none.
     */
    static String commonName(final X509Certificate certificate)
    {
        final RDN[] rdns = X500Name.getInstance(certificate.getSubjectX500Principal().getEncoded()).getRDNs(BCStyle.CN);
        if (0 == rdns.length)
        {
            return "";
        }
        final var value = rdns[rdns.length - 1].getFirst().getValue();
        return value instanceof ASN1String text ? text.getString() : value.toString();
    }

    /**
     * Looks for the meta certificate as Tailscale's client does ({@code parseMetaCert}): a CN of {@code derpkey}
     * plus a parseable key and a serial of at most 8 bits; the key must be non-zero and the version non-zero.
     *
     * @param chain the certificates the server presented.
     * @return the server's 32-byte DERP key, or null if the chain has no usable meta certificate.
     */
    static byte[] metaServerKey(final Certificate[] chain)
    {
        for (final Certificate certificate : chain)
        {
            if (!(certificate instanceof X509Certificate x509))
            {
                continue;
            }
            final String cn = commonName(x509);
            if (!cn.startsWith(MetaCertificate.COMMON_NAME_PREFIX))
            {
                continue;
            }
            final byte[] key;
            try
            {
                key = KeyHex.decode("meta certificate key", cn.substring(MetaCertificate.COMMON_NAME_PREFIX.length()));
            }
            catch (final IllegalArgumentException ex)
            {
                continue;
            }
            if (x509.getSerialNumber().bitLength() > MAX_META_SERIAL_BITS)
            {
                continue;
            }
            // Go returns the first parseable one; then it needs a non-zero key and version to fast-start.
            return isZero(key) || 0 == x509.getSerialNumber().signum() ? null : key;
        }
        return null;
    }

    private static boolean isZero(final byte[] key)
    {
        int acc = 0;
        for (final byte b : key)
        {
            acc |= b;
        }
        return 0 == acc;
    }

    /**
     * @param host a host name or IP literal (IPv6 with or without brackets).
     * @return the address if the text is an IP literal (Go's {@code net.ParseIP} forms), never a DNS lookup; else null.
     */
    static InetAddress ipLiteral(final String host)
    {
        return Hostnames.parseIpLiteral(host);
    }

    /**
     * Go's {@code x509.Certificate.VerifyHostname}: IP SANs for an IP, DNS SANs with one leftmost {@code *} label
     * otherwise, no CN fallback.
     *
     * @param certificate the leaf.
     * @param host        the dialled host.
     * @return whether the certificate is valid for it.
     */
    static boolean matchesHost(final X509Certificate certificate, final String host)
    {
        return Hostnames.certificateMatches(certificate, host);
    }
}
