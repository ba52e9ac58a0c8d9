package io.jderper.transport.client;

import io.jderper.tls.TrustAnchors;

import javax.net.ssl.SSLEngine;
import javax.net.ssl.X509ExtendedTrustManager;
import java.io.IOException;
import java.net.Socket;
import java.nio.file.Path;
import java.security.cert.CertificateException;
import java.security.cert.X509Certificate;

/**
 * The JDK's PKIX trust manager over the CAs of one PEM file ({@link TrustAnchors}), usable under Conscrypt: for
 * TLS 1.3 Conscrypt names the key exchange {@code GENERIC}, which the JDK's server-certificate checks do not know and
 * reject as "Unknown authType"; the JDK's own engine says {@code UNKNOWN} in that case, so that is what the check is
 * given.
 */
final class CaFileTrustManager extends X509ExtendedTrustManager
{
    private static final String CONSCRYPT_TLS13 = "GENERIC";
    private static final String JDK_TLS13 = "UNKNOWN";

    private final X509ExtendedTrustManager delegate;

    private CaFileTrustManager(final X509ExtendedTrustManager delegate)
    {
        this.delegate = delegate;
    }

    /**
     * @param pemFile the CA certificates.
     * @return a trust manager anchored in exactly those certificates.
     * @throws IOException if the file cannot be read or holds no certificate.
     */
    static CaFileTrustManager of(final Path pemFile) throws IOException
    {
        return new CaFileTrustManager(TrustAnchors.fromPemFile(pemFile));
    }

    private static String jdkAuthType(final String authType)
    {
        return CONSCRYPT_TLS13.equals(authType) ? JDK_TLS13 : authType;
    }

    @Override
    public void checkServerTrusted(final X509Certificate[] chain, final String authType, final SSLEngine engine)
        throws CertificateException
    {
        delegate.checkServerTrusted(chain, jdkAuthType(authType), engine);
    }

    @Override
    public void checkServerTrusted(final X509Certificate[] chain, final String authType, final Socket socket)
        throws CertificateException
    {
        delegate.checkServerTrusted(chain, jdkAuthType(authType), socket);
    }

    @Override
    public void checkServerTrusted(final X509Certificate[] chain, final String authType) throws CertificateException
    {
        delegate.checkServerTrusted(chain, jdkAuthType(authType));
    }

    @Override
    public void checkClientTrusted(final X509Certificate[] chain, final String authType, final SSLEngine engine)
        throws CertificateException
    {
        throw new CertificateException("a DERP client does not authenticate clients");
    }

    @Override
    public void checkClientTrusted(final X509Certificate[] chain, final String authType, final Socket socket)
        throws CertificateException
    {
        throw new CertificateException("a DERP client does not authenticate clients");
    }

    @Override
    public void checkClientTrusted(final X509Certificate[] chain, final String authType) throws CertificateException
    {
        throw new CertificateException("a DERP client does not authenticate clients");
    }

    @Override
    public X509Certificate[] getAcceptedIssuers()
    {
        return delegate.getAcceptedIssuers();
    }
}
