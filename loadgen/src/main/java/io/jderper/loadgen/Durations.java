package io.jderper.loadgen;

import picocli.CommandLine;

import java.time.Duration;
import java.time.format.DateTimeParseException;
import java.util.Locale;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Durations on the command line: {@code 500ms}, {@code 20s}, {@code 2m}, {@code 1h}, a bare number of seconds
 * ({@code 1.5}), or ISO-8601 ({@code PT1M30S}).
 */
final class Durations implements CommandLine.ITypeConverter<Duration>
{
    private static final Pattern SIMPLE = Pattern.compile("(\\d+(?:\\.\\d+)?)(ms|s|m|h)?");

    @Override
    public Duration convert(final String value)
    {
        return parse(value);
    }

    /**
     * @param value the text.
     * @return the duration.
     * @throws CommandLine.TypeConversionException naming the accepted forms.
     */
    static Duration parse(final String value)
    {
        final String text = value.trim().toLowerCase(Locale.ROOT);
        final Matcher m = SIMPLE.matcher(text);
        if (m.matches())
        {
            final double amount = Double.parseDouble(m.group(1));
            final String unit = null == m.group(2) ? "s" : m.group(2);
            final double nanosPerUnit = switch (unit)
            {
                case "ms" -> 1e6;
                case "m" -> 60e9;
                case "h" -> 3600e9;
                default -> 1e9;
            };
            final double nanos = amount * nanosPerUnit;
            if (nanos > Long.MAX_VALUE / 2.0)
            {
                throw new CommandLine.TypeConversionException("'" + value + "' is too long");
            }
            return Duration.ofNanos(Math.round(nanos));
        }
        try
        {
            final Duration duration = Duration.parse(value.trim().toUpperCase(Locale.ROOT));
            if (duration.isNegative())
            {
                throw new CommandLine.TypeConversionException("'" + value + "' is negative");
            }
            return duration;
        }
        catch (final DateTimeParseException ex)
        {
            throw new CommandLine.TypeConversionException("'" + value +
                "' is not a duration (e.g. 500ms, 20s, 2m, 1h, 1.5, PT1M30S)");
        }
    }

    /**
     * @param duration a duration.
     * @return it in the short form, e.g. {@code 20s} or {@code 1500ms}.
     */
    static String format(final Duration duration)
    {
        final long ms = duration.toMillis();
        return ms % 1000 == 0 ? (ms / 1000) + "s" : ms + "ms";
    }
}
