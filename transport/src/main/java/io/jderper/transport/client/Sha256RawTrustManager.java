package io.jderper.transport.client;

import io.jderper.tls.MetaCertificate;

import javax.net.ssl.SSLEngine;
import javax.net.ssl.SSLSession;
import javax.net.ssl.SSLSocket;
import javax.net.ssl.X509ExtendedTrustManager;
import java.net.Socket;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.security.cert.CertificateEncodingException;
import java.security.cert.CertificateException;
import java.security.cert.X509Certificate;
import java.time.InstantSource;
import java.util.Date;
import java.util.HexFormat;

/**
 * Tailscale's {@code sha256-raw:} check ({@code tlsdial.SetConfigExpectedCertHash}, spec §5.4 rule 5), as a trust
 * manager: no CA validation; of the presented certificates, those whose subject CN starts with {@code derpkey} (the
 * meta certificate) are ignored, exactly one must remain, hex(SHA-256(DER)) must equal the pin, the certificate must
 * be valid for the dialled host (when the engine knows it) and the current time within its validity dates.
 *
 * <p>It is an {@link X509ExtendedTrustManager} so that the JDK uses it as it is rather than wrapping it in its own
 * host name checks.
 */
final class Sha256RawTrustManager extends X509ExtendedTrustManager
{
    private static final HexFormat HEX = HexFormat.of();
    private static final X509Certificate[] NO_ISSUERS = new X509Certificate[0];

    private final String wantHex;
    private final InstantSource clock;

    /**
     * @param wantHex lower-case hex of the pinned certificate's SHA-256.
     * @param clock   time source for the validity check.
     */
    Sha256RawTrustManager(final String wantHex, final InstantSource clock)
    {
        this.wantHex = wantHex;
        this.clock = clock;
    }

    /**
     * The check itself.
     *
     * @param chain the presented certificates, in the order the server sent them.
     * @param host  the dialled host name or IP, or null if unknown (then no host check, as Go with no ServerName).
     * @throws CertificateException saying which rule failed.
     */
    void verify(final X509Certificate[] chain, final String host) throws CertificateException
    {
        if (null == chain || 0 == chain.length)
        {
            throw new CertificateException("sha256-raw: no certs presented");
        }
        X509Certificate good = null;
        for (final X509Certificate certificate : chain)
        {
            if (PeerCertificates.commonName(certificate).startsWith(MetaCertificate.COMMON_NAME_PREFIX))
            {
                continue;
            }
            if (null != good)
            {
                throw new CertificateException("sha256-raw: unexpected multiple certs presented");
            }
            final String gotHex = sha256Hex(certificate);
            if (!wantHex.equals(gotHex))
            {
                throw new CertificateException("sha256-raw: cert hash does not match expected cert hash (got " +
                    gotHex + ", want " + wantHex + ")");
            }
            if (null != host && !host.isEmpty() && !PeerCertificates.matchesHost(certificate, host))
            {
                throw new CertificateException("sha256-raw: cert does not match server name \"" + host + "\"");
            }
            final Date now = Date.from(clock.instant());
            if (now.after(certificate.getNotAfter()))
            {
                throw new CertificateException("sha256-raw: cert expired " + certificate.getNotAfter().toInstant());
            }
            if (now.before(certificate.getNotBefore()))
            {
                throw new CertificateException("sha256-raw: cert not yet valid until " +
                    certificate.getNotBefore().toInstant() + "; is the clock correct?");
            }
            good = certificate;
        }
        if (null == good)
        {
            throw new CertificateException("sha256-raw: expected cert not presented");
        }
    }

    private static String sha256Hex(final X509Certificate certificate) throws CertificateEncodingException
    {
        try
        {
            return HEX.formatHex(MessageDigest.getInstance("SHA-256").digest(certificate.getEncoded()));
        }
        catch (final NoSuchAlgorithmException ex)
        {
            throw new IllegalStateException("the JDK has no SHA-256", ex);
        }
    }

    @Override
    public void checkServerTrusted(final X509Certificate[] chain, final String authType, final SSLEngine engine)
        throws CertificateException
    {
        verify(chain, null == engine ? null : engine.getPeerHost());
    }

    @Override
    public void checkServerTrusted(final X509Certificate[] chain, final String authType, final Socket socket)
        throws CertificateException
    {
        String host = null;
        if (socket instanceof SSLSocket ssl)
        {
            final SSLSession session = ssl.getHandshakeSession();
            host = null == session ? null : session.getPeerHost();
        }
        verify(chain, host);
    }

    @Override
    public void checkServerTrusted(final X509Certificate[] chain, final String authType) throws CertificateException
    {
        verify(chain, null);
    }

    @Override
    public void checkClientTrusted(final X509Certificate[] chain, final String authType, final SSLEngine engine)
        throws CertificateException
    {
        throw new CertificateException("a DERP client trusts no client certificates");
    }

    @Override
    public void checkClientTrusted(final X509Certificate[] chain, final String authType, final Socket socket)
        throws CertificateException
    {
        throw new CertificateException("a DERP client trusts no client certificates");
    }

    @Override
    public void checkClientTrusted(final X509Certificate[] chain, final String authType) throws CertificateException
    {
        throw new CertificateException("a DERP client trusts no client certificates");
    }

    @Override
    public X509Certificate[] getAcceptedIssuers()
    {
        return NO_ISSUERS;
    }
}
