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
    private static final Pattern DURATION_PART = Pattern.compile("(\\d+(?:\\.\\d*)?|\\.\\d+)(ns|us|µs|μs|ms|s|m|h)");

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
            if (null == kind && ("h".equals(body) || "help".equals(body)))
            {
                throw new HelpRequested();
            }
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
            return parseGoInt(value);
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

    /**
     * Parses an int as Go's strconv.ParseInt with base 0 does: optional sign, {@code 0x}, {@code 0o}, {@code 0b}
     * or leading-{@code 0} octal prefixes, underscores only between digits after a prefix.
     */
    static int parseGoInt(final String text)
    {
        String s = text;
        boolean negative = false;
        if (s.startsWith("-") || s.startsWith("+"))
        {
            negative = s.startsWith("-");
            s = s.substring(1);
        }
        int radix = 10;
        final String lower = s.toLowerCase(Locale.ROOT);
        if (lower.startsWith("0x") || lower.startsWith("0o") || lower.startsWith("0b"))
        {
            radix = lower.charAt(1) == 'x' ? 16 : lower.charAt(1) == 'o' ? 8 : 2;
            s = s.substring(2);
            if (s.startsWith("_"))
            {
                s = s.substring(1);
            }
        }
        else if (s.length() > 1 && s.startsWith("0"))
        {
            radix = 8;
            s = s.substring(1);
        }
        if (s.contains("_"))
        {
            if (10 == radix || s.startsWith("_") || s.endsWith("_") || s.contains("__"))
            {
                throw new NumberFormatException(text);
            }
            s = s.replace("_", "");
        }
        if (s.isEmpty() || !Character.isLetterOrDigit(s.charAt(0)))
        {
            throw new NumberFormatException(text);
        }
        final long value = Long.parseLong(s, radix);
        final long signed = negative ? -value : value;
        if (signed < Integer.MIN_VALUE || signed > Integer.MAX_VALUE)
        {
            throw new NumberFormatException(text);
        }
        return (int)signed;
    }

    static boolean parseBool(final String name, final String value)
    {
        return switch (value)
        {
            case "1", "t", "T", "true", "TRUE", "True" -> true;
            case "0", "f", "F", "false", "FALSE", "False" -> false;
            default -> throw new FlagException("invalid boolean value \"" + value + "\" for -" + name + ": parse error");
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
        java.math.BigDecimal nanos = java.math.BigDecimal.ZERO;
        while (at < s.length())
        {
            if (!matcher.find(at) || matcher.start() != at)
            {
                throw new IllegalArgumentException("invalid duration \"" + text + "\"");
            }
            final long unitNanos = switch (matcher.group(2))
            {
                case "ns" -> 1L;
                case "us", "µs", "μs" -> 1_000L;
                case "ms" -> 1_000_000L;
                case "s" -> 1_000_000_000L;
                case "m" -> 60_000_000_000L;
                default -> 3_600_000_000_000L;
            };
            // Go truncates each part's fraction toward zero and refuses totals past int64 nanoseconds.
            nanos = nanos.add(new java.math.BigDecimal(matcher.group(1)).multiply(java.math.BigDecimal.valueOf(unitNanos))
                .setScale(0, java.math.RoundingMode.DOWN));
            at = matcher.end();
        }
        final long total;
        try
        {
            total = nanos.longValueExact();
        }
        catch (final ArithmeticException ex)
        {
            throw new IllegalArgumentException("invalid duration \"" + text + "\"");
        }
        final Duration duration = Duration.ofNanos(total);
        return negative ? duration.negated() : duration;
    }

    /**
     * @return the declared flag names, in declaration order.
     */
    public Set<String> declared()
    {
        return declared.keySet();
    }

    /**
     * {@code -h} or {@code -help} was given: print usage and exit successfully, as Go programs do.
     */
    public static final class HelpRequested extends RuntimeException
    {
        HelpRequested()
        {
            super("help requested", null, false, false);
        }
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
