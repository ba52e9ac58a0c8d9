package io.jderper.server;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.jderper.core.key.NodePrivateKey;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.SecureRandom;

/**
 * derper's config file (spec §4.18): a JSON object holding the server's private key, created once with mode 0600
 * and read on every start so the server key stays the same across restarts.
 */
public final class ServerKeyFile
{
    private static final Logger LOG = LoggerFactory.getLogger(ServerKeyFile.class);
    private static final ObjectMapper JSON = new ObjectMapper();

    private ServerKeyFile()
    {
    }

    /**
     * Reads the key, or generates and writes one if the file does not exist.
     *
     * @param path   the config file.
     * @param random key source.
     * @return the server's private key.
     * @throws IOException if the file exists but cannot be read or parsed, or cannot be written.
     */
    public static NodePrivateKey loadOrCreate(final Path path, final SecureRandom random) throws IOException
    {
        if (Files.exists(path))
        {
            return read(path);
        }
        final NodePrivateKey key = NodePrivateKey.generate(random);
        final Path parent = path.toAbsolutePath().getParent();
        if (null != parent)
        {
            Files.createDirectories(parent);
        }
        final String text = "{\n\t\"PrivateKey\": \"" + key.toText() + "\"\n}";
        // Write a private temporary file whole, then link it into place: a crash never leaves a half-written
        // key, and if another process created the file first, its key wins.
        final Path temporary = Files.createTempFile(null == parent ? Path.of(".") : parent, ".derper-key", ".tmp",
            PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-------")));
        try
        {
            Files.writeString(temporary, text, StandardCharsets.UTF_8);
            try
            {
                Files.createLink(path, temporary);
            }
            catch (final FileAlreadyExistsException ex)
            {
                return read(path);
            }
        }
        finally
        {
            Files.deleteIfExists(temporary);
        }
        LOG.info("wrote a new server key to {}", path);
        return key;
    }

    private static NodePrivateKey read(final Path path) throws IOException
    {
        final byte[] bytes;
        try
        {
            bytes = Files.readAllBytes(path);
        }
        catch (final IOException ex)
        {
            throw new IOException("config file " + path + " cannot be read: " + ex, ex);
        }
        final JsonNode root;
        try
        {
            root = JSON.readTree(bytes);
        }
        catch (final IOException ex)
        {
            throw new IOException("config file " + path + " is not valid JSON: " + ex.getMessage(), ex);
        }
        final JsonNode privateKey = null == root ? null : root.get("PrivateKey");
        if (null == privateKey || !privateKey.isTextual())
        {
            throw new IOException("config file " + path + " has no \"PrivateKey\" string");
        }
        try
        {
            return NodePrivateKey.parse(privateKey.asText());
        }
        catch (final IllegalArgumentException ex)
        {
            throw new IOException("config file " + path + ": " + ex.getMessage(), ex);
        }
    }
}
