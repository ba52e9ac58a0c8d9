package io.jderper.server;

import java.io.IOException;
import java.io.InputStream;
import java.util.Properties;

/**
 * The build's version, filtered into {@code jderper-version.properties} by Maven.
 */
public final class Version
{
    private Version()
    {
    }

    /**
     * @return the version string, or {@code "unknown"} when run from an unpackaged build.
     */
    public static String get()
    {
        try (InputStream in = Version.class.getResourceAsStream("/jderper-version.properties"))
        {
            if (null == in)
            {
                return "unknown";
            }
            final Properties properties = new Properties();
            properties.load(in);
            return properties.getProperty("version", "unknown");
        }
        catch (final IOException ex)
        {
            return "unknown";
        }
    }
}
