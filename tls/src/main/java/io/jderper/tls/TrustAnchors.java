package io.jderper.tls;

import javax.net.ssl.TrustManager;
import javax.net.ssl.TrustManagerFactory;
import javax.net.ssl.X509ExtendedTrustManager;
import java.io.IOException;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.KeyStore;
import java.security.cert.X509Certificate;

/**
 * The JDK's PKIX trust manager anchored in exactly the CA certificates of one PEM file: for a private CA, a test CA,
 * or a self-signed leaf used as its own anchor.
 */
public final class TrustAnchors
{
    private TrustAnchors()
    {
    }

    /**
     * @param pemFile the CA certificates, as PEM CERTIFICATE blocks (other blocks are skipped).
     * @return a trust manager that trusts chains ending in one of them.
     * @throws IOException if the file cannot be read, holds no certificate, or the JDK cannot build the manager.
     */
    public static X509ExtendedTrustManager fromPemFile(final Path pemFile) throws IOException
    {
        try
        {
            final KeyStore anchors = KeyStore.getInstance(KeyStore.getDefaultType());
            anchors.load(null, null);
            int count = 0;
            for (final X509Certificate certificate : PemFiles.readCertificates(pemFile))
            {
                anchors.setCertificateEntry("ca" + count++, certificate);
            }
            final TrustManagerFactory factory = TrustManagerFactory.getInstance(
                TrustManagerFactory.getDefaultAlgorithm());
            factory.init(anchors);
            for (final TrustManager manager : factory.getTrustManagers())
            {
                if (manager instanceof X509ExtendedTrustManager extended)
                {
                    return extended;
                }
            }
            throw new IOException("the JDK offers no X509ExtendedTrustManager");
        }
        catch (final GeneralSecurityException ex)
        {
            throw new IOException("cannot trust the CA certificates in " + pemFile + ": " + ex.getMessage(), ex);
        }
    }
}
