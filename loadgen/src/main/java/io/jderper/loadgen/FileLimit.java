package io.jderper.loadgen;

import io.jderper.transport.io.OpenFileLimit;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Locale;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicLong;

import static io.jderper.transport.io.OpenFileLimit.BASE;
import static io.jderper.transport.io.OpenFileLimit.PER_CONNECTION;
import static io.jderper.transport.io.OpenFileLimit.PER_CONSCRYPT_CONNECTION;

/**
 * The open-file limit: every connection takes a file descriptor, and with Conscrypt two more (BoringSSL's
 * {@code AppData} opens a pipe pair per SSL object), so 10,000 TLS clients need about 30,000. Warns before the run
 * when the limit is too low and turns EMFILE failures into one clear reason.
 */
final class FileLimit
{

    /** Open descriptors this close to the limit count as having reached it. */
    static final int NEAR = 16;

    private final AtomicLong exhaustions = new AtomicLong();
    private volatile long maxOpen;
    private final long limit = OpenFileLimit.soft();
    private volatile int perConnection = PER_CONNECTION;

    /**
     * @param text a failure message.
     * @return whether it says the process ran out of file descriptors (EMFILE), directly or as Conscrypt reports it.
     */
    static boolean isOutOfFiles(final String text)
    {
        final String lower = text.toLowerCase(Locale.ROOT);
        return lower.contains("too many open files") || lower.contains("unable to create application data");
    }

    /**
     * @param settings  the run.
     * @param conscrypt whether TLS runs on Conscrypt.
     * @return a warning if the limit cannot hold every connection.
     */
    Optional<String> check(final LoadSettings settings, final boolean conscrypt)
    {
        final boolean tls = "https".equalsIgnoreCase(settings.url().getScheme());
        perConnection = tls && conscrypt ? PER_CONSCRYPT_CONNECTION : PER_CONNECTION;
        final long connections = connections(settings);
        final long needed = connections * perConnection + BASE;
        if (limit <= 0 || needed <= limit)
        {
            return Optional.empty();
        }
        return Optional.of("loadgen: WARNING: " + connections + " connections need about " + needed +
            " file descriptors (" + perConnection + " each" + (tls && conscrypt ? ": Conscrypt adds a pipe pair" : "") +
            "), but the open-file limit is " + limit + ": expect EMFILE after about " +
            (limit - BASE) / perConnection + " connections; raise it (ulimit -n), lower --clients" +
            (tls && conscrypt ? " or use --tls-provider openssl" : ""));
    }

    /**
     * @param settings the run.
     * @return whether every connection of the run fits under the limit with Conscrypt's three descriptors each.
     */
    boolean fitsConscrypt(final LoadSettings settings)
    {
        return limit <= 0 || connections(settings) * PER_CONSCRYPT_CONNECTION + BASE <= limit;
    }

    private static long connections(final LoadSettings settings)
    {
        return settings.clients() + (Scenario.CHURN == settings.scenario() ? settings.connectConcurrency() : 0);
    }

    /**
     * Counts this process's open descriptors and remembers the most seen; once a second at most (a directory listing).
     */
    void sample()
    {
        try (var entries = Files.list(Path.of("/proc/self/fd")))
        {
            final long open = entries.count();
            if (open > maxOpen)
            {
                maxOpen = open;
            }
        }
        catch (final IOException | RuntimeException ex)
        {
            // Not Linux, or out of descriptors for the listing itself: then the limit was reached.
            if (limit > 0)
            {
                maxOpen = Math.max(maxOpen, limit);
            }
        }
    }

    /**
     * @return whether the open descriptors came within {@link #NEAR} of the limit at some reading.
     */
    boolean reachedLimit()
    {
        return limit > 0 && maxOpen >= limit - NEAR;
    }

    long maxOpen()
    {
        return maxOpen;
    }

    void exhausted()
    {
        exhaustions.incrementAndGet();
    }

    long exhaustions()
    {
        return exhaustions.get();
    }

    long limit()
    {
        return limit;
    }

    /**
     * @param connected  connections that were made.
     * @param errors     connection errors.
     * @param conscrypt  whether TLS ran on Conscrypt.
     * @return the one-line reason for a run that hit EMFILE.
     */
    String describe(final long connected, final long errors, final boolean conscrypt)
    {
        return "loadgen ran out of file descriptors (EMFILE: too many open files, " + maxOpen + " open at most) with " +
            connected +
            " connections made and " + errors + " errors; the open-file limit is " + limit + " and each connection " +
            "takes " + perConnection + (conscrypt ? " (socket + Conscrypt pipe pair)" : "") +
            ": raise it with ulimit -n" + (conscrypt ? ", use --tls-provider openssl" : "") + " or lower --clients";
    }
}
