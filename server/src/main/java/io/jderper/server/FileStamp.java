package io.jderper.server;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.BasicFileAttributes;
import java.nio.file.attribute.FileTime;

/**
 * What a configuration file looked like when it was last read: a watcher reads it again when either changes.
 *
 * @param modified its modification time.
 * @param size     its length in bytes.
 */
public record FileStamp(FileTime modified, long size)
{
    /**
     * @param path a file.
     * @return its stamp now.
     * @throws IOException if it cannot be looked at (gone, no permission).
     */
    public static FileStamp of(final Path path) throws IOException
    {
        final BasicFileAttributes attributes = Files.readAttributes(path, BasicFileAttributes.class);
        return new FileStamp(attributes.lastModifiedTime(), attributes.size());
    }
}
