package io.jderper.server.limits;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.jderper.core.ratelimit.ReceiveRateLimit;
import io.jderper.core.router.Router;
import io.jderper.server.FileStamp;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Iterator;
import java.util.Map;

/**
 * derper's {@code -rate-config} file (spec §4.8): {@code {"PerClientRateLimitBytesPerSec": N,
 * "PerClientRateBurstBytes": M}}, both optional. Read at start (an unreadable file stops the start), then again on
 * SIGHUP, as derper does, and whenever it changes; a bad version is logged and the limit in force stays.
 */
public final class RateConfigFile
{
    private static final Logger LOG = LoggerFactory.getLogger(RateConfigFile.class);
    private static final ObjectMapper JSON = new ObjectMapper();

    private final Path path;
    private final Router<?> router;
    private FileStamp stamp;
    private boolean missing;

    private RateConfigFile(final Path path, final Router<?> router)
    {
        this.path = path;
        this.router = router;
    }

    /**
     * Reads the file and applies it.
     *
     * @param path   the file.
     * @param router where the limit applies.
     * @return the file, for reloads.
     * @throws IOException naming the file and what is wrong with it.
     */
    public static RateConfigFile load(final Path path, final Router<?> router) throws IOException
    {
        final RateConfigFile file = new RateConfigFile(path, router);
        file.apply();
        return file;
    }

    /**
     * @param text the file's content.
     * @return the limit it asks for, as derper applies it.
     * @throws IOException if it is not derper's JSON.
     */
    static ReceiveRateLimit parse(final byte[] text) throws IOException
    {
        final JsonNode root = JSON.readTree(text);
        if (null == root || !root.isObject())
        {
            throw new IOException("want a JSON object like {\"PerClientRateLimitBytesPerSec\": 1000000}");
        }
        long rate = 0;
        long burst = 0;
        // Go's decoder matches names without regard to case and ignores unknown ones.
        final Iterator<Map.Entry<String, JsonNode>> fields = root.fields();
        while (fields.hasNext())
        {
            final Map.Entry<String, JsonNode> field = fields.next();
            if ("PerClientRateLimitBytesPerSec".equalsIgnoreCase(field.getKey()))
            {
                rate = unsigned(field.getKey(), field.getValue());
            }
            else if ("PerClientRateBurstBytes".equalsIgnoreCase(field.getKey()))
            {
                burst = unsigned(field.getKey(), field.getValue());
            }
        }
        return ReceiveRateLimit.of(rate, burst);
    }

    private static long unsigned(final String name, final JsonNode value) throws IOException
    {
        if (!value.isIntegralNumber() || !value.canConvertToLong() || value.asLong() < 0)
        {
            throw new IOException(name + " must be a whole number of bytes, 0 or more, got " + value);
        }
        return value.asLong();
    }

    private void apply() throws IOException
    {
        final FileStamp read;
        final byte[] text;
        try
        {
            read = FileStamp.of(path);
            text = Files.readAllBytes(path);
        }
        catch (final IOException ex)
        {
            throw new IOException("-rate-config " + path + ": cannot read it (" + ex + ")", ex);
        }
        stamp = read;
        final ReceiveRateLimit limit;
        try
        {
            limit = parse(text);
        }
        catch (final IOException ex)
        {
            throw new IOException("-rate-config " + path + ": " + ex.getMessage(), ex);
        }
        router.setReceiveRateLimit(limit);
        LOG.info("rate config applied: client-rate={} bytes/sec, client-burst={} bytes", limit.bytesPerSecond(),
            limit.burstBytes());
    }

    /**
     * Reads and applies the file again (SIGHUP). Never throws: a bad version is logged and ignored.
     */
    public synchronized void reload()
    {
        try
        {
            apply();
        }
        catch (final IOException ex)
        {
            LOG.error("rate config reload failed, {} stays in force: {}", router.receiveRateLimit(), ex.getMessage());
        }
    }

    /**
     * Reloads if the file's time or size changed.
     */
    public synchronized void reloadIfChanged()
    {
        final FileStamp now;
        try
        {
            now = FileStamp.of(path);
        }
        catch (final IOException ex)
        {
            if (!missing)
            {
                missing = true;
                LOG.error("-rate-config {} cannot be read ({}); {} stays in force", path, ex, router.receiveRateLimit());
            }
            return;
        }
        missing = false;
        if (!now.equals(stamp))
        {
            reload();
        }
    }

    @Override
    public String toString()
    {
        return path.toString();
    }
}
