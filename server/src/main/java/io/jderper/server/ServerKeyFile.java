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
import java.nio.file.StandardOpenOption;
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
        try
        {
            Files.createFile(path, PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-------")));
        }
        catch (final FileAlreadyExistsException ex)
        {
            // Another process won the race; use its key.
            return read(path);
        }
        Files.writeString(path, text, StandardCharsets.UTF_8, StandardOpenOption.TRUNCATE_EXISTING);
        LOG.info("wrote a new server key to {}", path);
        return key;
    }

    private static NodePrivateKey read(final Path path) throws IOException
    {
        final JsonNode root;
        try
        {
            root = JSON.readTree(Files.readAllBytes(path));
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
