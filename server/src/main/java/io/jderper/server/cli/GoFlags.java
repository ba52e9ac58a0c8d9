package io.jderper.server.cli;

import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.function.Supplier;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * A command-line parser with the syntax of Go's {@code flag} package, so derper's command lines work unchanged:
 * {@code -x} or {@code --x}; {@code -x=value} or {@code -x value}; booleans as {@code -x} or {@code -x=false}
 * (never {@code -x false}); parsing stops at {@code --} or the first argument that is not a flag.
 * <p>
 * A flag not on the command line may take its value from {@link SettingSource}s ({@link #fallBackTo}), and every
 * value remembers where it came from ({@link #origin}), so that errors and the configuration summary can say so.
 */
public final class GoFlags
{
    /** The origin of a value given on the command line. */
    public static final String FROM_FLAG = "flag";
    /** The origin of a value no source gave. */
    public static final String FROM_DEFAULT = "default";

    private static final Pattern DURATION_PART = Pattern.compile("(\\d+(?:\\.\\d*)?|\\.\\d+)(ns|us|µs|μs|ms|s|m|h)");

    private final Map<String, Kind> declared = new LinkedHashMap<>();
    private final Map<String, String> values = new LinkedHashMap<>();
    private final Map<String, String> origins = new LinkedHashMap<>();
    /** The fallback each accessor was asked with, for flags no source set: what the summary shows as the default. */
    private final Map<String, String> defaults = new LinkedHashMap<>();
    private final List<String> positional = new ArrayList<>();

    /** Whether a flag takes a value or is a switch. */
    public enum Kind
    {
        /** {@code -x} or {@code -x=bool}. */
        BOOLEAN,
        /** {@code -x value} or {@code -x=value}. */
        VALUE,
        /** A comma-separated list: a value on the command line, and a list or a string in a config file. */
        LIST
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
            origins.put(body, FROM_FLAG);
            i++;
        }
        for (; i < args.length; i++)
        {
            positional.add(args[i]);
        }
        return this;
    }

    /**
     * Takes the value of every declared flag not given on the command line from the first source that sets it.
     *
     * @param sources in order of precedence, highest first.
     * @return this.
     * @throws FlagException if a source sets a boolean flag to something that is not a boolean, or cannot decide.
     */
    public GoFlags fallBackTo(final List<SettingSource> sources)
    {
        for (final Map.Entry<String, Kind> flag : declared.entrySet())
        {
            final String name = flag.getKey();
            if (values.containsKey(name))
            {
                continue;
            }
            for (final SettingSource source : sources)
            {
                final Optional<SettingSource.Setting> setting = source.lookup(name);
                if (setting.isPresent())
                {
                    final String value = setting.get().value();
                    origins.put(name, setting.get().origin());
                    values.put(name, Kind.BOOLEAN == flag.getValue() ?
                        String.valueOf(explain(() -> parseBool(name, value))) : value);
                    break;
                }
            }
        }
        return this;
    }

    /**
     * @param name a flag name.
     * @return where its value came from: {@link #FROM_FLAG}, a source's origin such as {@code env DERP_HOSTNAME},
     *     or {@link #FROM_DEFAULT}.
     */
    public String origin(final String name)
    {
        return origins.getOrDefault(name, FROM_DEFAULT);
    }

    /**
     * @param name a flag name.
     * @return its value as given, or else the default an accessor was asked for it with; empty if neither.
     */
    public Optional<String> effective(final String name)
    {
        return Optional.ofNullable(values.getOrDefault(name, defaults.get(name)));
    }

    /**
     * Runs a step that reads flags and adds, to a {@link FlagException} it throws, where each flag the message names
     * got its value when that was not the command line: {@code (-stun-port is from env DERP_STUN_PORT)}.
     *
     * @param step reads flags.
     * @param <T>  its result.
     * @return its result.
     */
    public <T> T explain(final Supplier<T> step)
    {
        try
        {
            return step.get();
        }
        catch (final FlagException ex)
        {
            final StringBuilder message = new StringBuilder(ex.getMessage());
            for (final Map.Entry<String, String> origin : origins.entrySet())
            {
                final String note = "-" + origin.getKey() + " is from " + origin.getValue();
                if (!FROM_FLAG.equals(origin.getValue()) && !message.toString().contains(note) &&
                    Pattern.compile("(?<![\\w-])--?" + Pattern.quote(origin.getKey()) + "(?![\\w-])")
                        .matcher(ex.getMessage()).find())
                {
                    message.append(" (").append(note).append(')');
                }
            }
            throw new FlagException(message.toString());
        }
    }

    /**
     * @return the names of the flags set, on the command line or by a {@link SettingSource}.
     */
    public Set<String> given()
    {
        return values.keySet();
    }

    /**
     * @param name a flag name.
     * @return whether it was set, on the command line or by a {@link SettingSource}.
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
        defaults.putIfAbsent(name, fallback);
        return values.getOrDefault(name, fallback);
    }

    /**
     * @param name     a boolean flag.
     * @param fallback default.
     * @return its value.
     */
    public boolean bool(final String name, final boolean fallback)
    {
        defaults.putIfAbsent(name, String.valueOf(fallback));
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
        defaults.putIfAbsent(name, String.valueOf(fallback));
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
        defaults.putIfAbsent(name, formatDuration(fallback));
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
        return goBool(value).orElseThrow(() ->
            new FlagException("invalid boolean value \"" + value + "\" for -" + name + ": parse error"));
    }

    /**
     * Go's {@code strconv.ParseBool}, which derper's flags and environment knobs use.
     *
     * @param value text such as {@code true}, {@code 1} or {@code F}.
     * @return its value, or empty if Go would refuse it.
     */
    public static Optional<Boolean> goBool(final String value)
    {
        return switch (value)
        {
            case "1", "t", "T", "true", "TRUE", "True" -> Optional.of(true);
            case "0", "f", "F", "false", "FALSE", "False" -> Optional.of(false);
            default -> Optional.empty();
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
     * Formats a duration as Go's {@code time.Duration.String} does: {@code 10m0s}, {@code 1.5s}, {@code 500ms},
     * {@code 0s}.
     *
     * @param duration a duration.
     * @return its Go spelling.
     */
    public static String formatDuration(final Duration duration)
    {
        if (duration.isNegative())
        {
            return "-" + formatDuration(duration.negated());
        }
        final long nanos = duration.toNanos();
        if (0 == nanos)
        {
            return "0s";
        }
        if (nanos < 1_000_000_000L)
        {
            return nanos % 1_000_000 == 0 ? nanos / 1_000_000 + "ms" :
                nanos % 1_000 == 0 ? nanos / 1_000 + "µs" : nanos + "ns";
        }
        final StringBuilder text = new StringBuilder();
        final long hours = duration.toHours();
        if (hours > 0)
        {
            text.append(hours).append('h');
        }
        if (hours > 0 || duration.toMinutesPart() > 0)
        {
            text.append(duration.toMinutesPart()).append('m');
        }
        text.append(duration.toSecondsPart());
        if (0 != duration.toNanosPart())
        {
            text.append('.').append(String.format(Locale.ROOT, "%09d", duration.toNanosPart()).replaceAll("0+$", ""));
        }
        return text.append('s').toString();
    }

    /**
     * @return the declared flag names, in declaration order.
     */
    public Set<String> declared()
    {
        return declared.keySet();
    }

    /**
     * @param name a declared flag name.
     * @return its kind, or null if it is not declared.
     */
    public Kind kind(final String name)
    {
        return declared.get(name);
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
