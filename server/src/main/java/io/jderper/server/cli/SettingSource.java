package io.jderper.server.cli;

import java.util.Optional;

/**
 * A place flags take values from when they are not on the command line: the environment or a config file. Sources
 * know nothing of particular flags, so a newly declared flag can be set everywhere without code of its own.
 */
public interface SettingSource
{
    /**
     * @param name a declared flag name, without dashes.
     * @return its value in the flag's own syntax and where it was found, or empty if this source does not set it.
     * @throws GoFlags.FlagException if this source sets it ambiguously.
     */
    Optional<Setting> lookup(String name);

    /**
     * A value found in a source.
     *
     * @param value  in the syntax the flag takes on the command line.
     * @param origin where it was found, for messages and the configuration summary: {@code env DERP_HOSTNAME}.
     */
    record Setting(String value, String origin)
    {
    }
}
