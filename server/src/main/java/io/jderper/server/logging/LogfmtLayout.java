package io.jderper.server.logging;

import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.classic.spi.IThrowableProxy;
import ch.qos.logback.classic.spi.StackTraceElementProxy;
import ch.qos.logback.core.LayoutBase;
import org.slf4j.event.KeyValuePair;

import java.time.Instant;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.List;

/**
 * One logfmt line per event ({@code ts=… level=info logger=ClientSession msg="…" key=value … err="…"}), which log
 * shippers (Loki, Vector, Grafana) parse without a pattern: values are quoted when they need it, with {@code "},
 * {@code \} and control characters escaped, so a message or a peer's bytes can never start a line of their own.
 */
public final class LogfmtLayout extends LayoutBase<ILoggingEvent>
{
    private static final DateTimeFormatter TIMESTAMP =
        DateTimeFormatter.ofPattern("yyyy-MM-dd'T'HH:mm:ss.SSSXXX").withZone(ZoneOffset.UTC);
    /** Stack frames kept per throwable: enough to place the error, bounded so one line stays readable. */
    private static final int MAX_FRAMES = 12;

    @Override
    public String doLayout(final ILoggingEvent event)
    {
        final StringBuilder line = new StringBuilder(160);
        line.append("ts=").append(TIMESTAMP.format(Instant.ofEpochMilli(event.getTimeStamp())));
        line.append(" level=").append(event.getLevel().levelStr.toLowerCase(java.util.Locale.ROOT));
        line.append(" logger=");
        appendValue(line, simpleName(event.getLoggerName()));
        line.append(" msg=");
        appendValue(line, event.getFormattedMessage());
        final List<KeyValuePair> pairs = event.getKeyValuePairs();
        if (null != pairs)
        {
            for (final KeyValuePair pair : pairs)
            {
                line.append(' ').append(keyOf(pair.key)).append('=');
                appendValue(line, String.valueOf(pair.value));
            }
        }
        final IThrowableProxy error = event.getThrowableProxy();
        if (null != error)
        {
            line.append(" err=");
            appendValue(line, error.getClassName() + (null == error.getMessage() ? "" : ": " + error.getMessage()));
            line.append(" stack=");
            appendValue(line, stackOf(error));
        }
        return line.append(System.lineSeparator()).toString();
    }

    private static String simpleName(final String loggerName)
    {
        final int dot = loggerName.lastIndexOf('.');
        return dot < 0 ? loggerName : loggerName.substring(dot + 1);
    }

    private static String keyOf(final String key)
    {
        final StringBuilder safe = new StringBuilder(key.length());
        for (int i = 0; i < key.length(); i++)
        {
            final char c = key.charAt(i);
            safe.append(c > ' ' && c != '=' && c != '"' && c < 0x7f ? c : '_');
        }
        return safe.isEmpty() ? "_" : safe.toString();
    }

    private static String stackOf(final IThrowableProxy error)
    {
        final StringBuilder stack = new StringBuilder();
        IThrowableProxy current = error;
        for (int depth = 0; null != current && depth < 4; depth++)
        {
            if (depth > 0)
            {
                stack.append("; caused by ").append(current.getClassName()).append(": ").append(current.getMessage());
            }
            final StackTraceElementProxy[] frames = current.getStackTraceElementProxyArray();
            for (int i = 0; i < frames.length && i < MAX_FRAMES; i++)
            {
                stack.append(i == 0 && depth == 0 ? "" : " | ").append(frames[i].getStackTraceElement());
            }
            current = current.getCause();
        }
        return stack.toString();
    }

    /**
     * Appends {@code value} bare if it is a plain token, else quoted with {@code "}, {@code \} and control
     * characters escaped.
     */
    static void appendValue(final StringBuilder line, final String value)
    {
        if (null == value)
        {
            line.append("\"\"");
            return;
        }
        boolean bare = !value.isEmpty();
        for (int i = 0; i < value.length() && bare; i++)
        {
            final char c = value.charAt(i);
            bare = c > ' ' && c != '"' && c != '=' && c != '\\' && c < 0x7f;
        }
        if (bare)
        {
            line.append(value);
            return;
        }
        line.append('"');
        for (int i = 0; i < value.length(); i++)
        {
            final char c = value.charAt(i);
            switch (c)
            {
                case '"' -> line.append("\\\"");
                case '\\' -> line.append("\\\\");
                case '\n' -> line.append("\\n");
                case '\r' -> line.append("\\r");
                case '\t' -> line.append("\\t");
                default ->
                {
                    if (c < ' ' || c == 0x7f)
                    {
                        line.append(String.format("\\u%04x", (int)c));
                    }
                    else
                    {
                        line.append(c);
                    }
                }
            }
        }
        line.append('"');
    }
}
