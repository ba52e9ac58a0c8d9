package io.jderper.server.cli;

import com.fasterxml.jackson.core.JacksonException;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.json.JsonMapper;
import com.fasterxml.jackson.dataformat.yaml.YAMLMapper;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;

/**
 * Flags from a YAML or JSON file (jderper's own {@code -config-file}; derper's {@code -c} is its key file, spec
 * §4.18) whose keys are flag names without dashes: {@code hostname: derp.example.com}, {@code verify-clients: true},
 * {@code mesh-with: [a, b]}. The whole file is checked when loaded: a key that names no flag, or a value of the wrong
 * type, stops the start with every problem found.
 */
public final class ConfigFileSettings implements SettingSource
{
    /** The flag naming the file; the file cannot name another. */
    public static final String FLAG = "config-file";

    /** Far more than any set of flags takes; a larger file is something else. */
    private static final long MAX_BYTES = 1 << 20;

    private final String origin;
    private final Map<String, String> values;

    private ConfigFileSettings(final String origin, final Map<String, String> values)
    {
        this.origin = origin;
        this.values = values;
    }

    /**
     * Reads and checks a config file: YAML or JSON by its extension ({@code .yaml}, {@code .yml}, {@code .json}),
     * else by its contents.
     *
     * @param file  the file.
     * @param flags the declared flags, for the names and kinds the keys must match.
     * @return its settings.
     * @throws GoFlags.FlagException if it cannot be read, does not parse, or sets something wrongly.
     */
    public static ConfigFileSettings load(final Path file, final GoFlags flags)
    {
        final String what = "-" + FLAG + " " + file;
        final String text;
        try
        {
            if (Files.size(file) > MAX_BYTES)
            {
                throw new GoFlags.FlagException(what + ": larger than " + MAX_BYTES + " bytes, not a config file");
            }
            text = Files.readString(file);
        }
        catch (final IOException ex)
        {
            throw new GoFlags.FlagException(what + ": cannot read it: " + ex);
        }
        final JsonNode root;
        try
        {
            root = mapperFor(file, text).readTree(text);
        }
        catch (final JacksonException ex)
        {
            throw new GoFlags.FlagException(what + ": not valid " + (isJson(file, text) ? "JSON" : "YAML") + ": " +
                ex.getOriginalMessage());
        }
        final Map<String, String> values = new LinkedHashMap<>();
        if (null == root || root.isMissingNode() || root.isNull())
        {
            // Empty, or comments only.
            return new ConfigFileSettings("file " + file, values);
        }
        if (!root.isObject())
        {
            throw new GoFlags.FlagException(what + ": want a mapping of flag names to values, such as " +
                "\"hostname: derp.example.com\"");
        }
        final List<String> problems = new ArrayList<>();
        for (final Iterator<Map.Entry<String, JsonNode>> it = root.fields(); it.hasNext(); )
        {
            final Map.Entry<String, JsonNode> entry = it.next();
            final String key = entry.getKey();
            final GoFlags.Kind kind = flags.kind(key);
            if (null == kind)
            {
                problems.add("unknown key \"" + key + "\"" + nearest(key, flags.declared())
                    .map(known -> " (did you mean \"" + known + "\"?)").orElse(""));
            }
            else if (FLAG.equals(key))
            {
                problems.add("\"" + FLAG + "\" cannot be set inside a config file");
            }
            else
            {
                try
                {
                    values.put(key, value(key, kind, entry.getValue()));
                }
                catch (final IllegalArgumentException ex)
                {
                    problems.add(ex.getMessage());
                }
            }
        }
        if (!problems.isEmpty())
        {
            throw new GoFlags.FlagException(what + ": " + String.join("; ", problems));
        }
        return new ConfigFileSettings("file " + file, values);
    }

    @Override
    public Optional<Setting> lookup(final String name)
    {
        return Optional.ofNullable(values.get(name)).map(value -> new Setting(value, origin));
    }

    private static boolean isJson(final Path file, final String text)
    {
        final String name = file.getFileName().toString().toLowerCase(Locale.ROOT);
        if (name.endsWith(".yaml") || name.endsWith(".yml"))
        {
            return false;
        }
        return name.endsWith(".json") || text.stripLeading().startsWith("{");
    }

    private static ObjectMapper mapperFor(final Path file, final String text)
    {
        // A key given twice is a mistake whichever value was meant; Jackson would keep the last one silently.
        return (isJson(file, text) ? JsonMapper.builder() : YAMLMapper.builder())
            .enable(DeserializationFeature.FAIL_ON_READING_DUP_TREE_KEY).build();
    }

    /**
     * @return the value in the flag's command-line syntax.
     * @throws IllegalArgumentException naming the key if the value's type does not suit the flag.
     */
    private static String value(final String key, final GoFlags.Kind kind, final JsonNode node)
    {
        return switch (kind)
        {
            case BOOLEAN ->
            {
                if (node.isBoolean())
                {
                    yield node.asText();
                }
                if (node.isTextual())
                {
                    try
                    {
                        yield String.valueOf(GoFlags.parseBool(key, node.asText()));
                    }
                    catch (final GoFlags.FlagException ex)
                    {
                        throw new IllegalArgumentException("\"" + key + "\" must be true or false, got \"" +
                            node.asText() + "\"");
                    }
                }
                throw new IllegalArgumentException("\"" + key + "\" must be true or false, got " + describe(node));
            }
            case VALUE ->
            {
                if (node.isTextual() || node.isNumber())
                {
                    yield node.asText();
                }
                throw new IllegalArgumentException("\"" + key + "\" must be a string or a number, got " +
                    describe(node));
            }
            case LIST ->
            {
                if (node.isTextual())
                {
                    yield node.asText();
                }
                if (!node.isArray())
                {
                    throw new IllegalArgumentException("\"" + key + "\" must be a list or a comma-separated " +
                        "string, got " + describe(node));
                }
                final List<String> items = new ArrayList<>();
                for (final JsonNode item : node)
                {
                    if (!item.isTextual() && !item.isNumber())
                    {
                        throw new IllegalArgumentException("\"" + key + "\" must list strings, got " +
                            describe(item) + " in the list");
                    }
                    items.add(item.asText());
                }
                yield String.join(",", items);
            }
        };
    }

    private static String describe(final JsonNode node)
    {
        if (node.isNull())
        {
            return "no value";
        }
        if (node.isArray())
        {
            return "a list";
        }
        if (node.isObject())
        {
            return "a mapping";
        }
        return (node.isTextual() ? "the string \"" : node.isBoolean() ? "the boolean " : "the number ") +
            node.asText() + (node.isTextual() ? "\"" : "");
    }

    /**
     * @return the declared name a misspelt key most likely meant: the same but for case, underscores or a
     *     {@code DERP_} prefix, or at most two letters off.
     */
    private static Optional<String> nearest(final String key, final Iterable<String> declared)
    {
        final String wanted = normalise(key);
        String best = null;
        int bestDistance = 3;
        for (final String name : declared)
        {
            final int distance = distance(wanted, normalise(name));
            if (distance < bestDistance && !FLAG.equals(name))
            {
                best = name;
                bestDistance = distance;
            }
        }
        return Optional.ofNullable(best);
    }

    private static String normalise(final String key)
    {
        final String lower = key.toLowerCase(Locale.ROOT).replace("_", "").replace("-", "");
        return lower.startsWith("derp") && lower.length() > 4 && !lower.startsWith("derpmap") ? lower.substring(4) :
            lower;
    }

    /** Levenshtein distance. */
    private static int distance(final String a, final String b)
    {
        int[] previous = new int[b.length() + 1];
        int[] current = new int[b.length() + 1];
        for (int j = 0; j <= b.length(); j++)
        {
            previous[j] = j;
        }
        for (int i = 1; i <= a.length(); i++)
        {
            current[0] = i;
            for (int j = 1; j <= b.length(); j++)
            {
                final int substitution = previous[j - 1] + (a.charAt(i - 1) == b.charAt(j - 1) ? 0 : 1);
                current[j] = Math.min(substitution, Math.min(previous[j], current[j - 1]) + 1);
            }
            final int[] swap = previous;
            previous = current;
            current = swap;
        }
        return previous[b.length()];
    }
}
