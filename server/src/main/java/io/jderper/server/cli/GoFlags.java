package io.jderper.server.cli;

import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * A command-line parser with the syntax of Go's {@code flag} package, so derper's command lines work unchanged:
 * {@code -x} or {@code --x}; {@code -x=value} or {@code -x value}; booleans as {@code -x} or {@code -x=false}
 * (never {@code -x false}); parsing stops at {@code --} or the first argument that is not a flag.
 */
public final class GoFlags
{
    private static final Pattern DURATION_PART = Pattern.compile("(\\d+(?:\\.\\d*)?|\\.\\d+)(ns|us|µs|ms|s|m|h)");

    private final Map<String, Kind> declared = new LinkedHashMap<>();
    private final Map<String, String> values = new LinkedHashMap<>();
    private final List<String> positional = new ArrayList<>();

    /** Whether a flag takes a value or is a switch. */
    public enum Kind
    {
        /** {@code -x} or {@code -x=bool}. */
        BOOLEAN,
        /** {@code -x value} or {@code -x=value}. */
        VALUE
    }

    /**
     * @param name flag name without dashes.
     * @param kind its kind.
     * @return this.
     */
    public GoFlags declare(final String name, final Kind kind)
    {
        declared.put(name, kind);
        return this;
    }

    /**
     * @param args the command line.
     * @return this, with values set.
     * @throws FlagException for an unknown flag, a missing value or a malformed boolean.
     */
    public GoFlags parse(final String[] args)
    {
        int i = 0;
        while (i < args.length)
        {
            final String arg = args[i];
            if ("--".equals(arg))
            {
                i++;
                break;
            }
            if (arg.length() < 2 || arg.charAt(0) != '-')
            {
                break;
            }
            String body = arg.substring(arg.startsWith("--") ? 2 : 1);
            if (body.isEmpty() || body.startsWith("-") || body.startsWith("="))
            {
                throw new FlagException("bad flag syntax: " + arg);
            }
            String value = null;
            final int eq = body.indexOf('=');
            if (eq >= 0)
            {
                value = body.substring(eq + 1);
                body = body.substring(0, eq);
            }
            final Kind kind = declared.get(body);
            if (null == kind)
            {
                throw new FlagException("flag provided but not defined: -" + body);
            }
            if (Kind.BOOLEAN == kind)
            {
                values.put(body, null == value ? "true" : String.valueOf(parseBool(body, value)));
            }
            else
            {
                if (null == value)
                {
                    if (i + 1 >= args.length)
                    {
                        throw new FlagException("flag needs an argument: -" + body);
                    }
                    value = args[++i];
                }
                values.put(body, value);
            }
            i++;
        }
        for (; i < args.length; i++)
        {
            positional.add(args[i]);
        }
        return this;
    }

    /**
     * @return the names of the flags given on the command line.
     */
    public Set<String> given()
    {
        return values.keySet();
    }

    /**
     * @param name a flag name.
     * @return whether it was given.
     */
    public boolean isSet(final String name)
    {
        return values.containsKey(name);
    }

    /**
     * @param name     a flag name.
     * @param fallback default.
     * @return its value.
     */
    public String string(final String name, final String fallback)
    {
        return values.getOrDefault(name, fallback);
    }

    /**
     * @param name     a boolean flag.
     * @param fallback default.
     * @return its value.
     */
    public boolean bool(final String name, final boolean fallback)
    {
        final String value = values.get(name);
        return null == value ? fallback : Boolean.parseBoolean(value);
    }

    /**
     * @param name     an int flag.
     * @param fallback default.
     * @return its value.
     */
    public int integer(final String name, final int fallback)
    {
        final String value = values.get(name);
        if (null == value)
        {
            return fallback;
        }
        try
        {
            return Integer.decode(value.trim());
        }
        catch (final NumberFormatException ex)
        {
            throw new FlagException("invalid value \"" + value + "\" for flag -" + name + ": parse error");
        }
    }

    /**
     * @param name     a duration flag in Go syntax ({@code 2s}, {@code 1m30s}, {@code 500ms}, {@code 0}).
     * @param fallback default.
     * @return its value.
     */
    public Duration duration(final String name, final Duration fallback)
    {
        final String value = values.get(name);
        if (null == value)
        {
            return fallback;
        }
        try
        {
            return parseDuration(value);
        }
        catch (final IllegalArgumentException ex)
        {
            throw new FlagException("invalid value \"" + value + "\" for flag -" + name + ": " + ex.getMessage());
        }
    }

    /**
     * @return arguments after the flags.
     */
    public List<String> positional()
    {
        return List.copyOf(positional);
    }

    static boolean parseBool(final String name, final String value)
    {
        return switch (value)
        {
            case "1", "t", "T", "true", "TRUE", "True" -> true;
            case "0", "f", "F", "false", "FALSE", "False" -> false;
            default -> throw new FlagException("invalid boolean value \"" + value + "\" for -" + name);
        };
    }

    /**
     * Parses a Go duration string.
     *
     * @param text such as {@code 1h2m3.5s}; {@code 0} alone is allowed without a unit.
     * @return the duration.
     */
    public static Duration parseDuration(final String text)
    {
        String s = text.trim();
        boolean negative = false;
        if (s.startsWith("-") || s.startsWith("+"))
        {
            negative = s.startsWith("-");
            s = s.substring(1);
        }
        if ("0".equals(s))
        {
            return Duration.ZERO;
        }
        if (s.isEmpty())
        {
            throw new IllegalArgumentException("invalid duration \"" + text + "\"");
        }
        final Matcher matcher = DURATION_PART.matcher(s);
        int at = 0;
        double nanos = 0;
        while (at < s.length())
        {
            if (!matcher.find(at) || matcher.start() != at)
            {
                throw new IllegalArgumentException("invalid duration \"" + text + "\"");
            }
            final double amount = Double.parseDouble(matcher.group(1));
            nanos += amount * switch (matcher.group(2).toLowerCase(Locale.ROOT))
            {
                case "ns" -> 1d;
                case "us", "µs" -> 1e3;
                case "ms" -> 1e6;
                case "s" -> 1e9;
                case "m" -> 60e9;
                default -> 3600e9;
            };
            at = matcher.end();
        }
        final Duration duration = Duration.ofNanos(Math.round(nanos));
        return negative ? duration.negated() : duration;
    }

    /**
     * A command line that does not parse; the message is what Go's flag package would print.
     */
    public static final class FlagException extends IllegalArgumentException
    {
        /**
         * @param message what is wrong.
         */
        public FlagException(final String message)
        {
            super(message);
        }
    }
}
