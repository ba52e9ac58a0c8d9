package io.jderper.server;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermission;
import java.util.Set;

/**
 * Files that hold a secret (the mesh key, the bearer token): read whole, surrounding whitespace trimmed, with a
 * warning when people other than the owner can read them.
 */
public final class SecretFiles
{
    private static final Logger LOG = LoggerFactory.getLogger(SecretFiles.class);

    private SecretFiles()
    {
    }

    /**
     * @param path the file.
     * @param flag the flag that named it, for messages.
     * @return its text, whitespace trimmed.
     * @throws IOException naming the flag and file if it cannot be read.
     */
    public static String read(final Path path, final String flag) throws IOException
    {
        final String text;
        try
        {
            text = Files.readString(path, StandardCharsets.UTF_8).strip();
        }
        catch (final IOException ex)
        {
            throw new IOException(flag + " " + path + ": cannot read it (" + ex + ")", ex);
        }
        warnIfReadableByOthers(path, flag);
        return text;
    }

    /**
     * Logs a warning if the file's group or everyone may read it.
     *
     * @param path the file.
     * @param flag the flag that named it.
     */
    public static void warnIfReadableByOthers(final Path path, final String flag)
    {
        try
        {
            final Set<PosixFilePermission> permissions = Files.getPosixFilePermissions(path);
            if (permissions.contains(PosixFilePermission.GROUP_READ) ||
                permissions.contains(PosixFilePermission.OTHERS_READ))
            {
                LOG.warn("{} {} can be read by its group or by everyone, and it holds a secret: chmod 600 it", flag,
                    path);
            }
        }
        catch (final IOException | UnsupportedOperationException ex)
        {
            LOG.debug("cannot read the permissions of {}: {}", path, ex.toString());
        }
    }

    /**
     * @param path the {@code -bearer-token-file}.
     * @return the token.
     * @throws IOException if it cannot be read or is not a usable token.
     */
    public static String readBearerToken(final Path path) throws IOException
    {
        final String token = read(path, "-bearer-token-file");
        if (token.length() < 16 || token.chars().anyMatch(c -> c <= ' ' || c >= 0x7F))
        {
            throw new IOException("-bearer-token-file " + path + ": want at least 16 printable ASCII characters " +
                "without spaces (e.g. openssl rand -hex 32)");
        }
        return token;
    }
}
