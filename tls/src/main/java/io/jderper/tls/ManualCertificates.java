package io.jderper.tls;

import java.io.IOException;
import java.net.InetAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.PrivateKey;
import java.security.Signature;
import java.security.cert.X509Certificate;
import java.time.Instant;
import java.util.List;
import java.util.Locale;
import java.util.Objects;
import java.util.function.Supplier;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * derper's {@code -certmode manual} (spec §5.2): a PEM certificate chain and key read once from the certificate
 * directory, named after the hostname, with a self-signed certificate created for an IP hostname that has none.
 */
public final class ManualCertificates
{
    /**
     * Extension of the PEM certificate chain file.
     */
    public static final String CERTIFICATE_SUFFIX = ".crt";

    /**
     * Extension of the PEM private key file.
     */
    public static final String KEY_SUFFIX = ".key";

    private static final Logger LOG = LoggerFactory.getLogger(ManualCertificates.class);

    private ManualCertificates()
    {
    }

    /**
     * Loads {@code <certdir>/<name>.crt} and {@code <certdir>/<name>.key}, where name is
     * {@link #fileBaseName(String)}. If the hostname is an IP literal and either file is missing, a self-signed
     * certificate for that IP is created first, as derper does.
     *
     * @param certdir  the certificate directory ({@code -certdir}); created if a certificate has to be made.
     * @param hostname the server's hostname or IP literal ({@code -hostname}).
     * @return the key and chain, checked to belong together and to be valid for the hostname.
     * @throws IOException              if the files are missing or unreadable, do not parse, do not belong together
     *                                  or the leaf is not valid for the hostname; the message names the files.
     * @throws IllegalArgumentException if the hostname leaves no usable file name.
     */
    public static ServerCertificate load(final Path certdir, final String hostname) throws IOException
    {
        Objects.requireNonNull(certdir, "certdir");
        final String name = fileBaseName(hostname);
        final Path certificateFile = certdir.resolve(name + CERTIFICATE_SUFFIX);
        final Path keyFile = certdir.resolve(name + KEY_SUFFIX);
        final boolean complete = Files.exists(certificateFile) && Files.exists(keyFile);
        final InetAddress ip = Hostnames.parseIp(hostname);

        if (!complete && null != ip)
        {
            final ServerCertificate created =
                SelfSignedIpCertificate.createFiles(certificateFile, keyFile, hostname, ip, Instant.now());
            LOG.info("created self-signed certificate for IP address {} in {} and {}",
                hostname, certificateFile, keyFile);
            return created;
        }
        if (!complete)
        {
            throw new IOException("no manual certificate for hostname \"" + hostname + "\": expected " +
                certificateFile + " (" + existence(certificateFile) + ") and " + keyFile + " (" +
                existence(keyFile) + ")");
        }

        final List<X509Certificate> chain = PemFiles.readCertificates(certificateFile);
        final PrivateKey key = PemFiles.readPrivateKey(keyFile);
        final X509Certificate leaf = chain.getFirst();
        checkKeyMatches(leaf, key, certificateFile, keyFile);
        if (!Hostnames.certificateMatches(leaf, hostname))
        {
            throw new IOException(certificateFile + ": certificate is not valid for hostname \"" + hostname +
                "\" (subject alternative names: " + Hostnames.describeSubjectAltNames(leaf) + ")");
        }
        return new ServerCertificate(key, chain);
    }

    /**
     * The SNI rule of manual mode (spec §5.2), as derper applies it: for a DNS hostname the client must send
     * exactly that name (compared without regard to case, since DNS names are case-insensitive), and a missing
     * SNI fails too; for an IP hostname any SNI or none is accepted, because clients send no SNI for IP literals.
     *
     * @param certificate the certificate returned by {@link #load(Path, String)}.
     * @param hostname    the same hostname.
     * @return a store presenting the certificate to every handshake the rule admits.
     */
    public static CertificateStore store(final ServerCertificate certificate, final String hostname)
    {
        Objects.requireNonNull(certificate, "certificate");
        return store(() -> certificate, hostname);
    }

    /**
     * The same SNI rule over a certificate that may change between handshakes (hot reload).
     *
     * @param certificate gives the certificate to present now; called once per handshake, must not block.
     * @param hostname    the {@code -hostname} value.
     * @return a store presenting the current certificate to every handshake the rule admits.
     */
    public static CertificateStore store(final Supplier<ServerCertificate> certificate, final String hostname)
    {
        Objects.requireNonNull(certificate, "certificate");
        Objects.requireNonNull(hostname, "hostname");
        if (null != Hostnames.parseIp(hostname))
        {
            return requestedServerName -> certificate.get();
        }
        return requestedServerName ->
            hostname.equalsIgnoreCase(requestedServerName) ? certificate.get() : refuse(requestedServerName, hostname);
    }

    /**
     * derper's file name for a hostname: every character outside {@code [A-Za-z0-9.-]} removed, so
     * {@code "::1"} becomes {@code "1"} and {@code "derp.example.com"} stays as it is.
     *
     * @param hostname the {@code -hostname} value.
     * @return the base name of the {@code .crt} and {@code .key} files.
     * @throws IllegalArgumentException if nothing is left, which would name hidden files {@code .crt}/{@code .key}.
     */
    public static String fileBaseName(final String hostname)
    {
        final StringBuilder name = new StringBuilder(null == hostname ? 0 : hostname.length());
        if (null != hostname)
        {
            for (int i = 0; i < hostname.length(); i++)
            {
                final char c = hostname.charAt(i);
                if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' || c == '-')
                {
                    name.append(c);
                }
            }
        }
        if (name.isEmpty())
        {
            throw new IllegalArgumentException("hostname=" + hostname);
        }
        return name.toString();
    }

    private static ServerCertificate refuse(final String requestedServerName, final String hostname)
    {
        if (LOG.isDebugEnabled())
        {
            LOG.debug("refusing TLS handshake: SNI {} is not {}",
                null == requestedServerName ? "(none)" : '"' + requestedServerName.toLowerCase(Locale.ROOT) + '"',
                hostname);
        }
        return null;
    }

    private static String existence(final Path file)
    {
        return Files.exists(file) ? "present" : "missing";
    }

    /**
     * A key that does not match the leaf would only show up as failed handshakes, so prove they belong together
     * by signing with one and verifying with the other, as Go's {@code tls.X509KeyPair} insists on too.
     */
    private static void checkKeyMatches(
        final X509Certificate leaf, final PrivateKey key, final Path certificateFile, final Path keyFile)
        throws IOException
    {
        final String algorithm = Certificates.signatureAlgorithm(key);
        final String mismatch = keyFile + ": private key does not match the certificate in " + certificateFile;
        if (null == algorithm)
        {
            return;
        }
        if (!Certificates.sameKeyFamily(key.getAlgorithm(), leaf.getPublicKey().getAlgorithm()))
        {
            throw new IOException(mismatch + " (" + key.getAlgorithm() + " key, " +
                leaf.getPublicKey().getAlgorithm() + " certificate)");
        }
        try
        {
            final byte[] probe = new byte[32];
            Certificates.RANDOM.nextBytes(probe);
            final Signature signer = Signature.getInstance(algorithm);
            signer.initSign(key);
            signer.update(probe);
            final byte[] signature = signer.sign();
            final Signature verifier = Signature.getInstance(algorithm);
            verifier.initVerify(leaf.getPublicKey());
            verifier.update(probe);
            if (!verifier.verify(signature))
            {
                throw new IOException(mismatch);
            }
        }
        catch (final GeneralSecurityException ex)
        {
            throw new IOException(mismatch + " (" + ex.getMessage() + ")", ex);
        }
    }
}
