package io.jderper.tls;

import java.security.PrivateKey;
import java.security.cert.X509Certificate;
import java.util.List;
import java.util.Objects;

/**
 * A server's private key and its certificate chain, leaf first, without the meta certificate.
 *
 * @param key   the private key matching the leaf's public key.
 * @param chain the leaf followed by any intermediates; never empty.
 */
public record ServerCertificate(PrivateKey key, List<X509Certificate> chain)
{
    /**
     * Prefix of a {@code CertName} value that pins the leaf instead of validating it against CAs (spec §5.4).
     */
    public static final String SHA256_RAW_PREFIX = "sha256-raw:";

    /**
     * @param key   the private key matching the leaf's public key.
     * @param chain the leaf followed by any intermediates; copied.
     * @throws IllegalArgumentException if the chain is empty.
     */
    public ServerCertificate
    {
        Objects.requireNonNull(key, "key");
        chain = List.copyOf(chain);
        if (chain.isEmpty())
        {
            throw new IllegalArgumentException("chain=[]");
        }
    }

    /**
     * @return the first certificate of the chain, the one issued to this server.
     */
    public X509Certificate leaf()
    {
        return chain.getFirst();
    }

    /**
     * The DERP map {@code CertName} that lets clients accept this leaf without a CA (spec §5.4 rule 5).
     *
     * @return {@code "sha256-raw:"} followed by lower-case hex of SHA-256 over the leaf's DER encoding.
     */
    public String sha256RawPin()
    {
        return SHA256_RAW_PREFIX + Certificates.sha256Hex(leaf());
    }

    /**
     * Whether clients can only reach this server through a {@code sha256-raw:} pin: the leaf is self-signed and
     * issued to an IP address, as derper's manual mode creates for an IP hostname. The caller should then print
     * the DERP map entry with {@link #sha256RawPin()} as {@code CertName}.
     *
     * @return true for a self-signed leaf with at least one IP address SAN.
     */
    public boolean selfSignedIp()
    {
        return Certificates.isSelfSigned(leaf()) && Hostnames.hasIpAddressSan(leaf());
    }

    // The record's generated toString would print the key, and some JDK keys print their private exponent.
    @Override
    public String toString()
    {
        return "ServerCertificate{leaf=" + leaf().getSubjectX500Principal() + ", chainLength=" + chain.size() +
            ", key=" + key.getAlgorithm() + '}';
    }
}
