package io.jderper.server;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HexFormat;
import java.util.Optional;

/**
 * The region's mesh pre-shared key (spec §4.7): 64 hexadecimal characters, whitespace trimmed, as derper's
 * {@code -mesh-psk-file} (or {@code TAILSCALE_DERPER_MESH_KEY} with {@code -dev}). Whoever holds it may watch every
 * connection of the region and inject packets from any key, so a file others can read is worth a warning.
 */
public final class MeshKeyFile
{
    /** derper's environment variable for the mesh key in {@code -dev} mode. */
    public static final String DEV_ENVIRONMENT_VARIABLE = "TAILSCALE_DERPER_MESH_KEY";

    private static final int KEY_LENGTH = 32;

    private MeshKeyFile()
    {
    }

    /**
     * derper's default {@code -mesh-psk-file}: the first of {@code /home/derp/keys/derp-mesh.key} and
     * {@code $HOME/keys/derp-mesh.key} that exists, else none.
     *
     * @param home the user's home directory, or null.
     * @return the default path, or empty.
     */
    public static Optional<Path> defaultPath(final String home)
    {
        final Path derpUser = Path.of("/home/derp/keys/derp-mesh.key");
        if (Files.exists(derpUser))
        {
            return Optional.of(derpUser);
        }
        if (null != home && !home.isEmpty())
        {
            final Path own = Path.of(home, "keys", "derp-mesh.key");
            if (Files.exists(own))
            {
                return Optional.of(own);
            }
        }
        return Optional.empty();
    }

    /**
     * @param path the key file.
     * @return the 32-byte key.
     * @throws IOException if the file cannot be read or does not hold a key; the message names the flag, the file
     *                     and the reason.
     */
    public static byte[] read(final Path path) throws IOException
    {
        final String text = SecretFiles.read(path, "-mesh-psk-file");
        try
        {
            return parse(text);
        }
        catch (final IllegalArgumentException ex)
        {
            throw new IOException("-mesh-psk-file " + path + ": " + ex.getMessage());
        }
    }

    /**
     * @param text the key as hex, surrounding whitespace allowed.
     * @return the 32 bytes.
     * @throws IllegalArgumentException if it is not 64 hexadecimal digits or is all zero (a zero key never matches).
     */
    public static byte[] parse(final String text)
    {
        final String hex = text.strip();
        if (hex.length() != 2 * KEY_LENGTH)
        {
            throw new IllegalArgumentException("invalid mesh key: must be a 64-digit hexadecimal number, got " +
                hex.length() + " characters");
        }
        final byte[] key;
        try
        {
            key = HexFormat.of().parseHex(hex);
        }
        catch (final IllegalArgumentException ex)
        {
            throw new IllegalArgumentException("invalid mesh key: must be a 64-digit hexadecimal number", ex);
        }
        boolean zero = true;
        for (final byte b : key)
        {
            zero &= 0 == b;
        }
        if (zero)
        {
            throw new IllegalArgumentException("invalid mesh key: all zero, which derper treats as no key");
        }
        return key;
    }
}
