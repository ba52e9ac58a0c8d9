package io.jderper.core.key;

import org.bouncycastle.math.ec.rfc7748.X25519;

import java.security.SecureRandom;
import java.util.Arrays;

/**
 * A Curve25519 node private key: the server's identity and the key clients seal ClientInfo to (spec §3.1).
 */
public final class NodePrivateKey
{
    private static final String TEXT_PREFIX = "privkey:";
    private final byte[] scalar;
    private final NodePublicKey publicKey;

    private NodePrivateKey(final byte[] scalar)
    {
        this.scalar = scalar;
        final byte[] pub = new byte[X25519.POINT_SIZE];
        X25519.scalarMultBase(scalar, 0, pub, 0);
        this.publicKey = NodePublicKey.fromBytes(pub);
    }

    /**
     * @param random source of randomness.
     * @return a fresh clamped key, as Tailscale generates them.
     */
    public static NodePrivateKey generate(final SecureRandom random)
    {
        final byte[] raw = new byte[X25519.SCALAR_SIZE];
        random.nextBytes(raw);
        clamp(raw);
        return new NodePrivateKey(raw);
    }

    /**
     * @param raw 32 bytes; copied and clamped.
     * @return the key.
     */
    public static NodePrivateKey fromBytes(final byte[] raw)
    {
        if (raw.length != X25519.SCALAR_SIZE)
        {
            throw new IllegalArgumentException("private key length=" + raw.length + ", want 32");
        }
        final byte[] copy = raw.clone();
        clamp(copy);
        return new NodePrivateKey(copy);
    }

    /**
     * @param text {@code privkey:<64 hex>} as in derper's config file.
     * @return the key.
     */
    public static NodePrivateKey parse(final String text)
    {
        if (null == text || !text.startsWith(TEXT_PREFIX))
        {
            throw new IllegalArgumentException("private key must start with \"" + TEXT_PREFIX + "\"");
        }
        return fromBytes(KeyHex.decode("private key", text.substring(TEXT_PREFIX.length())));
    }

    private static void clamp(final byte[] raw)
    {
        raw[0] &= (byte)248;
        raw[31] = (byte)((raw[31] & 127) | 64);
    }

    /**
     * @return the matching public key.
     */
    public NodePublicKey publicKey()
    {
        return publicKey;
    }

    /**
     * Computes the raw X25519 shared secret with a peer.
     *
     * @param peer      32-byte peer public key.
     * @param peerOffset offset of the key in {@code peer}.
     * @param out       receives 32 bytes.
     */
    public void sharedSecret(final byte[] peer, final int peerOffset, final byte[] out)
    {
        X25519.scalarMult(scalar, 0, peer, peerOffset, out, 0);
    }

    /**
     * @return the {@code privkey:<hex>} text form for the config file.
     */
    public String toText()
    {
        return TEXT_PREFIX + KeyHex.encode(scalar);
    }

    @Override
    public boolean equals(final Object o)
    {
        return o instanceof NodePrivateKey other && Arrays.equals(scalar, other.scalar);
    }

    @Override
    public int hashCode()
    {
        return publicKey.hashCode();
    }

    @Override
    public String toString()
    {
        // Never print the secret.
        return "privkey:<redacted> for " + publicKey;
    }
}
