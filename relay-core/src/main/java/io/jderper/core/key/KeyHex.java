package io.jderper.core.key;

import java.util.HexFormat;

/**
 * Hex text forms of 32-byte keys: lower-case on output, either case on input (spec §3.1).
 */
public final class KeyHex
{
    private static final HexFormat HEX = HexFormat.of();

    private KeyHex()
    {
    }

    /**
     * @param key 32 raw bytes.
     * @return 64 lower-case hex characters.
     */
    public static String encode(final byte[] key)
    {
        return HEX.formatHex(key);
    }

    /**
     * @param name what the text is, for the error message.
     * @param text 64 hex characters, either case.
     * @return 32 raw bytes.
     * @throws IllegalArgumentException if the text is not exactly 64 hex characters.
     */
    public static byte[] decode(final String name, final String text)
    {
        if (null == text || text.length() != 64)
        {
            throw new IllegalArgumentException(name + " must be 64 hex characters, got length=" +
                (null == text ? "null" : text.length()));
        }
        try
        {
            return HEX.parseHex(text.toLowerCase(java.util.Locale.ROOT));
        }
        catch (final IllegalArgumentException ex)
        {
            throw new IllegalArgumentException(name + " is not hex: " + ex.getMessage(), ex);
        }
    }
}
