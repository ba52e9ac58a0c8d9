package io.jderper.server.admission;

import io.jderper.core.admission.NodeKeyList;
import io.jderper.server.FileStamp;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * The {@code -allowlist} file, read at start (a bad line stops the start, naming the line) and again whenever it
 * changes: a good new version replaces the list for every later handshake, a bad one is logged and the old list
 * stays.
 */
public final class NodeKeyListFile
{
    private static final Logger LOG = LoggerFactory.getLogger(NodeKeyListFile.class);

    private final Path path;
    private volatile NodeKeyList current;
    private FileStamp stamp;

    private NodeKeyListFile(final Path path, final NodeKeyList list, final FileStamp stamp)
    {
        this.path = path;
        this.current = list;
        this.stamp = stamp;
    }

    /**
     * @param path the file.
     * @return the loaded list.
     * @throws IOException naming the file and the first bad line, or why it cannot be read.
     */
    public static NodeKeyListFile load(final Path path) throws IOException
    {
        final FileStamp stamp = FileStamp.of(path);
        return new NodeKeyListFile(path, parse(path), stamp);
    }

    private static NodeKeyList parse(final Path path) throws IOException
    {
        try
        {
            return NodeKeyList.parse(Files.readAllLines(path, StandardCharsets.UTF_8));
        }
        catch (final IllegalArgumentException ex)
        {
            throw new IOException("-allowlist " + path + ": " + ex.getMessage(), ex);
        }
    }

    /**
     * @return the list in force.
     */
    public NodeKeyList current()
    {
        return current;
    }

    /**
     * Reads the file again if its time or size changed. Never throws: a bad version is logged and ignored.
     */
    public synchronized void reloadIfChanged()
    {
        try
        {
            final FileStamp now = FileStamp.of(path);
            if (now.equals(stamp))
            {
                return;
            }
            stamp = now;
            final NodeKeyList reloaded = parse(path);
            current = reloaded;
            LOG.info("-allowlist {} reloaded: {}", path, reloaded);
        }
        catch (final IOException | RuntimeException ex)
        {
            LOG.error("-allowlist {} not reloaded, the previous list ({}) stays in force: {}", path, current,
                ex.getMessage());
        }
    }

    @Override
    public String toString()
    {
        return path.toString();
    }
}
