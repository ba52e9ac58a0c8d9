package io.jderper.server.cli;

import java.util.ArrayList;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.TreeSet;

/**
 * Flags from environment variables: {@code DERP_} and the flag's name upper-cased with dashes as underscores
 * ({@code -verify-client-url} is {@code DERP_VERIFY_CLIENT_URL}), plus the names that common derper container images
 * use ({@code DERP_DOMAIN} for {@code -hostname}, {@code DERP_ADDR} for {@code -a}, ...). An empty variable counts as
 * unset, since images declare every variable they know with an empty default. Values take the flag's syntax.
 */
public final class EnvironmentSettings implements SettingSource
{
    /** What every variable name starts with. */
    public static final String PREFIX = "DERP_";

    /** Names container images give some flags, beside the generic one. */
    private static final Map<String, List<String>> ALIASES = Map.of(
        "a", List.of("DERP_ADDR"),
        "hostname", List.of("DERP_DOMAIN", "DERP_HOST"),
        "certmode", List.of("DERP_CERT_MODE"),
        "certdir", List.of("DERP_CERT_DIR", "DERP_CERTS"));

    private final Map<String, String> environment;

    /**
     * @param environment the process environment, or a test's.
     */
    public EnvironmentSettings(final Map<String, String> environment)
    {
        this.environment = Map.copyOf(environment);
    }

    /**
     * @param flag a flag name.
     * @return the variables that set it: the generic name first, then its aliases.
     */
    public static List<String> variables(final String flag)
    {
        final List<String> names = new ArrayList<>();
        names.add(PREFIX + flag.toUpperCase(Locale.ROOT).replace('-', '_'));
        names.addAll(ALIASES.getOrDefault(flag, List.of()));
        return names;
    }

    @Override
    public Optional<Setting> lookup(final String name)
    {
        final Map<String, String> set = new LinkedHashMap<>();
        for (final String variable : variables(name))
        {
            final String value = environment.get(variable);
            if (null != value && !value.isEmpty())
            {
                set.put(variable, value);
            }
        }
        if (set.isEmpty())
        {
            return Optional.empty();
        }
        if (set.values().stream().distinct().count() > 1)
        {
            final List<String> assignments = set.entrySet().stream()
                .map(variable -> variable.getKey() + "=\"" + variable.getValue() + "\"").toList();
            throw new GoFlags.FlagException("-" + name + " is set differently by the environment variables " +
                String.join(" and ", assignments) + ": set only one of them");
        }
        return Optional.of(new Setting(set.values().iterator().next(), "env " + String.join(", ", set.keySet())));
    }

    /**
     * @param flags the declared flag names.
     * @return the set {@code DERP_} variables that name no flag, sorted: probably misspelt.
     */
    public List<String> unknown(final Collection<String> flags)
    {
        final TreeSet<String> known = new TreeSet<>();
        flags.forEach(flag -> known.addAll(variables(flag)));
        final TreeSet<String> unknown = new TreeSet<>();
        environment.forEach((variable, value) ->
        {
            if (variable.startsWith(PREFIX) && !known.contains(variable) && !value.isEmpty())
            {
                unknown.add(variable);
            }
        });
        return List.copyOf(unknown);
    }
}
