package io.jderper.core.key;

import io.jderper.core.protocol.ProtocolLimits;
import org.agrona.DirectBuffer;

import java.util.Arrays;

/**
 * A node public key held as a value, for the control plane (logs, registration, configuration).
 * The packet path never creates one: it reads keys straight from frame bytes.
 */
public final class NodePublicKey
{
    private final byte[] bytes;

    private NodePublicKey(final byte[] bytes)
    {
        this.bytes = bytes;
    }

    /**
     * @param raw 32 bytes; copied.
     * @return the key.
     */
    public static NodePublicKey fromBytes(final byte[] raw)
    {
        if (raw.length != ProtocolLimits.KEY_LENGTH)
        {
            throw new IllegalArgumentException("key length=" + raw.length + ", want 32");
        }
        return new NodePublicKey(raw.clone());
    }

    /**
     * @param buffer holding a key.
     * @param offset of its first byte.
     * @return a copy of the 32 bytes at {@code offset}.
     */
    public static NodePublicKey fromBuffer(final DirectBuffer buffer, final int offset)
    {
        final byte[] raw = new byte[ProtocolLimits.KEY_LENGTH];
        buffer.getBytes(offset, raw);
        return new NodePublicKey(raw);
    }

    /**
     * @param text {@code nodekey:<64 hex>} or the bare 64 hex characters.
     * @return the key.
     */
    public static NodePublicKey parse(final String text)
    {
        final String hex = text.startsWith("nodekey:") ? text.substring("nodekey:".length()) : text;
        return new NodePublicKey(KeyHex.decode("node public key", hex));
    }

    /**
     * @return the first 8 bytes as a big-endian long, the fingerprint the relay keeps per remote sender.
     */
    public long prefix()
    {
        long prefix = 0;
        for (int i = 0; i < Long.BYTES; i++)
        {
            prefix = (prefix << 8) | (bytes[i] & 0xFF);
        }
        return prefix;
    }

    /**
     * @return a copy of the raw bytes.
     */
    public byte[] toBytes()
    {
        return bytes.clone();
    }

    /**
     * @param target to copy into.
     * @param offset where the key starts in {@code target}.
     */
    public void copyTo(final byte[] target, final int offset)
    {
        System.arraycopy(bytes, 0, target, offset, bytes.length);
    }

    /**
     * @return true for the all-zero key, which means "unset" and is never a valid client identity.
     */
    public boolean isZero()
    {
        int acc = 0;
        for (final byte b : bytes)
        {
            acc |= b;
        }
        return 0 == acc;
    }

    /**
     * @return 64 lower-case hex characters.
     */
    public String toHex()
    {
        return KeyHex.encode(bytes);
    }

    /**
     * @return a short form for logs: the first 8 hex characters, as Tailscale's ShortString does.
     */
    public String toShortString()
    {
        return "[" + toHex().substring(0, 8) + "]";
    }

    @Override
    public boolean equals(final Object o)
    {
        return o instanceof NodePublicKey other && Arrays.equals(bytes, other.bytes);
    }

    @Override
    public int hashCode()
    {
        return Arrays.hashCode(bytes);
    }

    @Override
    public String toString()
    {
        return "nodekey:" + toHex();
    }
}
