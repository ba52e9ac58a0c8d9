package io.jderper.tls;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.Arrays;
import java.util.Objects;

/**
 * Manual mode with hot reload: the certificate and key files are read again when their contents change, and the next
 * handshakes present the new certificate while established connections keep theirs. A pair that does not load (half
 * written, mismatched, expired for the hostname) is refused with its reason logged once, and the current certificate
 * stays in service. {@link #reloadIfChanged()} is the check; the caller decides how often it runs.
 */
public final class ManualCertificateReloader implements CertificateStore
{
    private static final Logger LOG = LoggerFactory.getLogger(ManualCertificateReloader.class);
    /** Larger files are not a certificate or key; they are refused unread. */
    private static final long MAX_FILE_BYTES = 1 << 20;
    private static final byte[] UNREADABLE = new byte[0];

    /** What one check did. */
    public enum Outcome
    {
        /** The files hold what is being served. */
        UNCHANGED,
        /** New files loaded; new handshakes present them. */
        RELOADED,
        /** The files changed but do not load; the previous certificate stays. */
        REFUSED
    }

    private final Path certdir;
    private final String hostname;
    private final Path certificateFile;
    private final Path keyFile;
    private final CertificateStore sniRule;
    private volatile ServerCertificate current;
    /** Digest of the files the current certificate came from; only the checking thread uses it. */
    private byte[] served;
    /** Digest of the last contents refused (empty: a file was unreadable), or null; checking thread only. */
    private byte[] refused;

    private ManualCertificateReloader(final Path certdir, final String hostname, final ServerCertificate initial,
        final byte[] digest)
    {
        this.certdir = certdir;
        this.hostname = hostname;
        final String name = ManualCertificates.fileBaseName(hostname);
        this.certificateFile = certdir.resolve(name + ManualCertificates.CERTIFICATE_SUFFIX);
        this.keyFile = certdir.resolve(name + ManualCertificates.KEY_SUFFIX);
        this.current = initial;
        this.served = digest;
        this.sniRule = ManualCertificates.store(this::current, hostname);
    }

    /**
     * Loads the manual certificate as {@link ManualCertificates#load} does (creating a self-signed one for an IP
     * hostname that has none).
     *
     * @param certdir  the certificate directory.
     * @param hostname the server's hostname or IP literal.
     * @return the reloader, serving the loaded certificate.
     * @throws IOException as {@link ManualCertificates#load} does.
     */
    public static ManualCertificateReloader load(final Path certdir, final String hostname) throws IOException
    {
        Objects.requireNonNull(certdir, "certdir");
        final ServerCertificate initial = ManualCertificates.load(certdir, hostname);
        final String name = ManualCertificates.fileBaseName(hostname);
        final byte[] digest = digest(certdir.resolve(name + ManualCertificates.CERTIFICATE_SUFFIX),
            certdir.resolve(name + ManualCertificates.KEY_SUFFIX));
        return new ManualCertificateReloader(certdir, hostname, initial, digest);
    }

    /**
     * @return the certificate new handshakes get.
     */
    public ServerCertificate current()
    {
        return current;
    }

    @Override
    public ServerCertificate select(final String requestedServerName)
    {
        return sniRule.select(requestedServerName);
    }

    /**
     * Reads both files and, if their contents differ from the last look, loads them. Not for concurrent use: one
     * thread checks.
     *
     * @return what happened.
     */
    public Outcome reloadIfChanged()
    {
        final byte[] digest;
        try
        {
            digest = digest(certificateFile, keyFile);
        }
        catch (final IOException ex)
        {
            return refuse(UNREADABLE, "cannot read " + (ex instanceof NoSuchFileException missing ?
                missing.getFile() + " (missing)" : ex.getMessage()));
        }
        if (Arrays.equals(digest, served))
        {
            refused = null;
            return Outcome.UNCHANGED;
        }
        if (Arrays.equals(digest, refused))
        {
            return Outcome.REFUSED;
        }
        final ServerCertificate loaded;
        try
        {
            loaded = ManualCertificates.load(certdir, hostname);
        }
        catch (final IOException | RuntimeException ex)
        {
            return refuse(digest, ex.getMessage());
        }
        served = digest;
        refused = null;
        current = loaded;
        LOG.info("reloaded the certificate for {} from {}: subject {}, valid until {}{}", hostname, certificateFile,
            loaded.leaf().getSubjectX500Principal(), loaded.leaf().getNotAfter().toInstant(),
            loaded.selfSignedIp() ? "; new DERP map pin CertName \"" + loaded.sha256RawPin() + "\"" : "");
        return Outcome.RELOADED;
    }

    private Outcome refuse(final byte[] digest, final String reason)
    {
        // Said once per content, not on every check, while the files stay wrong.
        if (!Arrays.equals(digest, refused))
        {
            LOG.warn("certificate files for {} changed but do not load; still serving the previous certificate " +
                "(subject {}): {}", hostname, current.leaf().getSubjectX500Principal(), reason);
            refused = digest;
        }
        return Outcome.REFUSED;
    }

    private static byte[] digest(final Path certificateFile, final Path keyFile) throws IOException
    {
        try
        {
            for (final Path file : new Path[] {certificateFile, keyFile})
            {
                if (Files.size(file) > MAX_FILE_BYTES)
                {
                    throw new IOException(file + " is larger than " + MAX_FILE_BYTES + " bytes");
                }
            }
            final MessageDigest sha256 = MessageDigest.getInstance("SHA-256");
            sha256.update(Files.readAllBytes(certificateFile));
            sha256.update((byte)0);
            sha256.update(Files.readAllBytes(keyFile));
            return sha256.digest();
        }
        catch (final NoSuchAlgorithmException ex)
        {
            throw new IllegalStateException("every JDK has SHA-256", ex);
        }
    }

    @Override
    public String toString()
    {
        return "ManualCertificateReloader{" + certificateFile + ", " + keyFile + '}';
    }
}
