package io.jderper.tls;

import java.math.BigInteger;
import java.security.KeyPair;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.Date;
import java.util.Locale;

import org.bouncycastle.asn1.DERPrintableString;
import org.bouncycastle.asn1.x500.X500Name;
import org.bouncycastle.asn1.x500.X500NameBuilder;
import org.bouncycastle.asn1.x500.style.BCStyle;
import org.bouncycastle.asn1.x509.BasicConstraints;
import org.bouncycastle.asn1.x509.Extension;
import org.bouncycastle.cert.CertIOException;
import org.bouncycastle.cert.X509v3CertificateBuilder;
import org.bouncycastle.cert.jcajce.JcaX509v3CertificateBuilder;

/**
 * The DERP "meta certificate" of spec §1.4: a throw-away self-signed certificate appended after the real chain in
 * every handshake. Over TLS 1.3 the chain is encrypted, so a client can read the server's DERP public key from the
 * subject and skip waiting for the HTTP 101 and the ServerKey frame ("fast start").
 * <p>
 * Clients read only the subject CN and the serial; nothing validates the certificate. The key is P-256 rather than
 * Go's Ed25519 because Conscrypt must encode it into the TLS chain and every TLS stack can parse P-256.
 */
public final class MetaCertificate
{
    /**
     * Subject CN prefix; the 64 lower-case hex characters of the server's DERP public key follow it.
     */
    public static final String COMMON_NAME_PREFIX = "derpkey";

    /**
     * Serial number: the DERP protocol version, which clients accept if it fits in 8 bits.
     */
    public static final int SERIAL_NUMBER = 2;

    /**
     * How far NotBefore and NotAfter lie from the creation time; clients never check them.
     */
    public static final Duration HALF_VALIDITY = Duration.ofDays(30);

    private static final int KEY_HEX_LENGTH = 64;

    private MetaCertificate()
    {
    }

    /**
     * Builds a new meta certificate with a fresh throw-away key, valid from 30 days ago to 30 days ahead.
     *
     * @param serverPublicKeyHex the server's DERP public key as 64 hex characters, either case.
     * @return a self-signed certificate whose only extension is BasicConstraints (CA=false).
     * @throws IllegalArgumentException if the key text is not exactly 64 hex characters.
     */
    public static X509Certificate create(final String serverPublicKeyHex)
    {
        return create(serverPublicKeyHex, Instant.now());
    }

    static X509Certificate create(final String serverPublicKeyHex, final Instant now)
    {
        final String keyHex = checkKeyHex(serverPublicKeyHex);
        final KeyPair keyPair = Certificates.newP256KeyPair();
        // The CN is 71 characters, over RFC 5280's 64-character bound that BouncyCastle's string path enforces.
        // Go does not check it and neither do clients, so pass the value as ASN.1, a PrintableString as Go writes.
        final X500Name subject = new X500NameBuilder(BCStyle.INSTANCE)
            .addRDN(BCStyle.CN, new DERPrintableString(COMMON_NAME_PREFIX + keyHex))
            .build();
        // X.509 times have one-second resolution; truncating keeps the dates equal to what was asked for.
        final Instant start = now.truncatedTo(ChronoUnit.SECONDS);
        final X509v3CertificateBuilder builder = new JcaX509v3CertificateBuilder(
            subject,
            BigInteger.valueOf(SERIAL_NUMBER),
            Date.from(start.minus(HALF_VALIDITY)),
            Date.from(start.plus(HALF_VALIDITY)),
            subject,
            keyPair.getPublic());
        try
        {
            // macOS wants BasicConstraints on a certificate whose subject equals its issuer. No key identifiers:
            // derpprobe skips expiry alarms only when SKID equals AKID, and leaving both out makes them equal.
            builder.addExtension(Extension.basicConstraints, true, new BasicConstraints(false));
        }
        catch (final CertIOException ex)
        {
            throw new IllegalStateException("cannot encode BasicConstraints", ex);
        }
        return Certificates.sign(builder, keyPair.getPrivate());
    }

    private static String checkKeyHex(final String keyHex)
    {
        if (null == keyHex || keyHex.length() != KEY_HEX_LENGTH || !isHex(keyHex))
        {
            throw new IllegalArgumentException("serverPublicKeyHex=" + keyHex);
        }
        return keyHex.toLowerCase(Locale.ROOT);
    }

    private static boolean isHex(final String text)
    {
        for (int i = 0; i < text.length(); i++)
        {
            // Not Character.digit: it accepts non-ASCII digits, which would end up inside the CN.
            final char c = text.charAt(i);
            if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F')))
            {
                return false;
            }
        }
        return true;
    }
}
