package io.jderper.transport.io;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * The process's open-file limit, which caps how many connections the relay (or the load generator) can hold: one
 * descriptor per plain or JDK-TLS connection, three per Conscrypt connection (the socket and a pipe pair that
 * BoringSSL's per-connection state opens; Conscrypt frees it when the engine closes).
 */
public final class OpenFileLimit
{
    /** Descriptors a plain HTTP or JDK-TLS connection takes. */
    public static final int PER_CONNECTION = 1;
    /** Descriptors a Conscrypt TLS connection takes. */
    public static final int PER_CONSCRYPT_CONNECTION = 3;
    /** The JVM's own descriptors (jars, event loops, logs) and a margin. */
    public static final int BASE = 200;

    private OpenFileLimit()
    {
    }

    /**
     * @return the soft RLIMIT_NOFILE of this process, {@link Long#MAX_VALUE} if unlimited, or -1 if unknown (not
     *     Linux, or /proc not mounted).
     */
    public static long soft()
    {
        try
        {
            for (final String line : Files.readAllLines(Path.of("/proc/self/limits"), StandardCharsets.US_ASCII))
            {
                if (line.startsWith("Max open files"))
                {
                    final String[] parts = line.substring("Max open files".length()).trim().split("\\s+");
                    return "unlimited".equals(parts[0]) ? Long.MAX_VALUE : Long.parseLong(parts[0]);
                }
            }
        }
        catch (final IOException | RuntimeException ex)
        {
            // Not Linux, or /proc is not mounted: unknown.
        }
        return -1;
    }

    /**
     * @param limit         an open-file limit, as {@link #soft()} returns it.
     * @param perConnection descriptors each connection takes.
     * @return how many connections fit, or -1 if the limit is unknown.
     */
    public static long connectionsWithin(final long limit, final int perConnection)
    {
        if (limit < 0)
        {
            return -1;
        }
        if (limit == Long.MAX_VALUE)
        {
            return Long.MAX_VALUE;
        }
        return Math.max(0, (limit - BASE) / perConnection);
    }
}
