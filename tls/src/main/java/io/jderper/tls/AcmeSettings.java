package io.jderper.tls;

import org.shredzone.acme4j.connector.HttpConnector;
import org.shredzone.acme4j.connector.NetworkSettings;
import org.shredzone.acme4j.provider.AcmeProvider;
import org.shredzone.acme4j.provider.GenericAcmeProvider;

import javax.net.ssl.SSLContext;
import javax.net.ssl.TrustManager;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.util.Base64;
import java.util.Objects;
import java.util.Optional;

/**
 * Where and how to get ACME certificates.
 *
 * @param directory              the ACME directory URL.
 * @param directoryCa            trust for the directory's HTTPS instead of the system's CAs (a private or test CA).
 * @param certdir                where the account key and certificates are kept.
 * @param hostname               the name (or IP) to certify.
 * @param email                  the account's contact address, if any.
 * @param externalAccountBinding the EAB key, which Google's CA requires.
 * @param http01                 whether the plain HTTP port answers http-01; else tls-alpn-01 on the TLS port.
 */
public record AcmeSettings(URI directory, Optional<Path> directoryCa, Path certdir, String hostname,
    Optional<String> email, Optional<ExternalAccountBinding> externalAccountBinding, boolean http01)
{
    /** Let's Encrypt's production directory, derper's for {@code -certmode letsencrypt}. */
    public static final URI LETS_ENCRYPT = URI.create("https://acme-v02.api.letsencrypt.org/directory");
    /** Google Trust Services' directory, derper's for {@code -certmode gcp}. */
    public static final URI GOOGLE = URI.create("https://dv.acme-v02.api.pki.goog/directory");

    /**
     * Validates the settings.
     */
    public AcmeSettings
    {
        Objects.requireNonNull(directory, "directory");
        Objects.requireNonNull(certdir, "certdir");
        Objects.requireNonNull(hostname, "hostname");
        if (!"https".equalsIgnoreCase(directory.getScheme()))
        {
            throw new IllegalArgumentException("the ACME directory must be https, got " + directory);
        }
    }

    /**
     * An EAB key pair of identifier and MAC key.
     *
     * @param keyId  the key identifier.
     * @param macKey the base64url MAC key, as CAs hand it out.
     */
    public record ExternalAccountBinding(String keyId, String macKey)
    {
        /**
         * Checks the key decodes, as derper does before it starts.
         */
        public ExternalAccountBinding
        {
            if (keyId.isBlank())
            {
                throw new IllegalArgumentException("the EAB key identifier is empty");
            }
            try
            {
                Base64.getUrlDecoder().decode(macKey.replace("=", ""));
            }
            catch (final IllegalArgumentException ex)
            {
                throw new IllegalArgumentException("the EAB MAC key is not base64url: " + ex.getMessage());
            }
        }
    }

    /**
     * @return the acme4j provider for the directory, trusting {@link #directoryCa} if given.
     */
    AcmeProvider provider()
    {
        final Optional<SSLContext> ssl = directoryCa.map(AcmeSettings::trusting);
        return new GenericAcmeProvider()
        {
            @Override
            protected HttpConnector createHttpConnector(final NetworkSettings settings)
            {
                return new HttpConnector(settings)
                {
                    @Override
                    public HttpClient.Builder createClientBuilder()
                    {
                        final HttpClient.Builder builder = super.createClientBuilder();
                        ssl.ifPresent(builder::sslContext);
                        return builder;
                    }
                };
            }
        };
    }

    private static SSLContext trusting(final Path pem)
    {
        try
        {
            final SSLContext context = SSLContext.getInstance("TLS");
            context.init(null, new TrustManager[] {TrustAnchors.fromPemFile(pem)}, null);
            return context;
        }
        catch (final IOException | GeneralSecurityException ex)
        {
            throw new IllegalArgumentException("cannot trust the CA file " + pem + ": " + ex.getMessage(), ex);
        }
    }
}
