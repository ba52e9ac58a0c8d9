package io.jderper.transport.client;

import io.jderper.tls.ServerCertificate;

import java.nio.file.Path;
import java.util.Locale;
import java.util.Objects;

/**
 * How a DERP client decides whether to trust the server's TLS certificate (spec §5.4). Values are compared by
 * content, so {@link DerpClients} can share one TLS context between every client with equal trust.
 */
public final class DerpTrust
{
    /** The kinds of trust. */
    public enum Kind
    {
        /** The JVM's default trust store plus host name verification. */
        SYSTEM,
        /** The certificates of a PEM file as the only trust anchors, plus host name verification. */
        CA_FILE,
        /** Tailscale's {@code sha256-raw:} pin: no CA, exactly one non-meta certificate with this SHA-256. */
        SHA256_RAW
    }

    private static final DerpTrust SYSTEM = new DerpTrust(Kind.SYSTEM, null, null);
    private static final int SHA256_HEX_LENGTH = 64;

    private final Kind kind;
    private final Path caFile;
    private final String sha256Hex;

    private DerpTrust(final Kind kind, final Path caFile, final String sha256Hex)
    {
        this.kind = kind;
        this.caFile = caFile;
        this.sha256Hex = sha256Hex;
    }

    /**
     * @return trust in the JVM's default CAs, with the certificate checked against the host name.
     */
    public static DerpTrust system()
    {
        return SYSTEM;
    }

    /**
     * @param pemFile PEM file holding one or more CA certificates (a self-signed leaf works too).
     * @return trust in exactly those certificates, with the certificate checked against the host name.
     */
    public static DerpTrust caFile(final Path pemFile)
    {
        Objects.requireNonNull(pemFile, "pemFile");
        return new DerpTrust(Kind.CA_FILE, pemFile.toAbsolutePath().normalize(), null);
    }

    /**
     * Pins the server's leaf as Tailscale does for a DERP map {@code CertName} of {@code sha256-raw:<hex>}: every
     * certificate whose subject CN starts with {@code derpkey} is ignored, exactly one must remain, the SHA-256 of
     * its DER encoding must equal the pin, it must be valid for the dialled host name and within its dates.
     *
     * @param certName {@code sha256-raw:} followed by 64 hex characters, either case.
     * @return the pin.
     * @throws IllegalArgumentException if the text is not such a pin.
     */
    public static DerpTrust sha256Raw(final String certName)
    {
        if (null == certName || !certName.startsWith(ServerCertificate.SHA256_RAW_PREFIX))
        {
            throw new IllegalArgumentException("certName=" + certName + ", want " +
                ServerCertificate.SHA256_RAW_PREFIX + "<64 hex>");
        }
        final String hex = certName.substring(ServerCertificate.SHA256_RAW_PREFIX.length()).toLowerCase(Locale.ROOT);
        if (hex.length() != SHA256_HEX_LENGTH || !isHex(hex))
        {
            throw new IllegalArgumentException("certName=" + certName + ": the pin must be 64 hex characters");
        }
        return new DerpTrust(Kind.SHA256_RAW, null, hex);
    }

    private static boolean isHex(final String text)
    {
        for (int i = 0; i < text.length(); i++)
        {
            final char c = text.charAt(i);
            if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f')))
            {
                return false;
            }
        }
        return true;
    }

    /**
     * @return which kind of trust this is.
     */
    public Kind kind()
    {
        return kind;
    }

    /**
     * @return the PEM file for {@link Kind#CA_FILE}, else null.
     */
    public Path caFile()
    {
        return caFile;
    }

    /**
     * @return the lower-case hex pin for {@link Kind#SHA256_RAW}, else null.
     */
    public String sha256Hex()
    {
        return sha256Hex;
    }

    @Override
    public boolean equals(final Object o)
    {
        return o instanceof DerpTrust other && kind == other.kind && Objects.equals(caFile, other.caFile) &&
            Objects.equals(sha256Hex, other.sha256Hex);
    }

    @Override
    public int hashCode()
    {
        return Objects.hash(kind, caFile, sha256Hex);
    }

    @Override
    public String toString()
    {
        return switch (kind)
        {
            case SYSTEM -> "system trust";
            case CA_FILE -> "CA file " + caFile;
            case SHA256_RAW -> ServerCertificate.SHA256_RAW_PREFIX + sha256Hex;
        };
    }
}
