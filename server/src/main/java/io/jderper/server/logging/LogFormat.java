package io.jderper.server.logging;

import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.LoggerContext;
import ch.qos.logback.classic.encoder.JsonEncoder;
import ch.qos.logback.classic.encoder.PatternLayoutEncoder;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.Appender;
import ch.qos.logback.core.OutputStreamAppender;
import ch.qos.logback.core.encoder.Encoder;
import ch.qos.logback.core.encoder.LayoutWrappingEncoder;
import org.slf4j.ILoggerFactory;
import org.slf4j.LoggerFactory;

import java.util.Arrays;
import java.util.List;
import java.util.Locale;

/**
 * The log line formats {@code -log-format} selects: the human one of the shipped logback.xml, logfmt, or one JSON
 * object per line (logback's own encoder), for log shippers.
 */
public enum LogFormat
{
    /** {@code 2026-11-26T13:55:00.123Z INFO  ClientSession: message}: the default, for people reading a terminal. */
    TEXT,
    /** {@code ts=… level=info logger=… msg="…"}: see {@link LogfmtLayout}. */
    LOGFMT,
    /** One JSON object per line: timestamp, level, logger, thread, message, key-value pairs, throwable. */
    JSON;

    /** The console appender of the shipped logback.xml, whose encoder {@link #apply()} replaces. */
    static final String APPENDER = "STDERR";
    /** The pattern of the shipped logback.xml's {@link #TEXT} format. */
    static final String TEXT_PATTERN = "%d{yyyy-MM-dd'T'HH:mm:ss.SSSXXX} %-5level %logger{0}: %msg%n";

    /**
     * @param name a {@code -log-format} value.
     * @return its format.
     * @throws IllegalArgumentException naming the accepted values.
     */
    public static LogFormat parse(final String name)
    {
        try
        {
            return valueOf(name.trim().toUpperCase(Locale.ROOT));
        }
        catch (final IllegalArgumentException ex)
        {
            throw new IllegalArgumentException("-log-format must be one of " + names() + ", got \"" + name + "\"",
                ex);
        }
    }

    /**
     * @return the accepted values, lower case.
     */
    public static List<String> names()
    {
        return Arrays.stream(values()).map(f -> f.name().toLowerCase(Locale.ROOT)).toList();
    }

    /**
     * Makes the console appender write this format from now on.
     *
     * @return false when logging is not the shipped set-up (another SLF4J binding, or a logback configuration file
     * of the operator's without the {@value #APPENDER} appender), which is then left as it is.
     */
    public boolean apply()
    {
        final ILoggerFactory factory = LoggerFactory.getILoggerFactory();
        if (!(factory instanceof LoggerContext context))
        {
            return false;
        }
        final Appender<ILoggingEvent> appender = context.getLogger(Logger.ROOT_LOGGER_NAME).getAppender(APPENDER);
        if (!(appender instanceof OutputStreamAppender<ILoggingEvent> console))
        {
            return false;
        }
        final Encoder<ILoggingEvent> encoder = encoder(context);
        encoder.start();
        console.stop();
        console.setEncoder(encoder);
        console.start();
        return true;
    }

    Encoder<ILoggingEvent> encoder(final LoggerContext context)
    {
        return switch (this)
        {
            case TEXT ->
            {
                final PatternLayoutEncoder text = new PatternLayoutEncoder();
                text.setContext(context);
                text.setPattern(TEXT_PATTERN);
                yield text;
            }
            case LOGFMT ->
            {
                final LogfmtLayout layout = new LogfmtLayout();
                layout.setContext(context);
                layout.start();
                final LayoutWrappingEncoder<ILoggingEvent> logfmt = new LayoutWrappingEncoder<>();
                logfmt.setContext(context);
                logfmt.setLayout(layout);
                yield logfmt;
            }
            case JSON ->
            {
                final JsonEncoder json = new JsonEncoder();
                json.setContext(context);
                // The logger context's name and properties on every line are noise for a single-context server.
                json.setWithContext(false);
                json.setWithSequenceNumber(false);
                json.setWithNanoseconds(false);
                json.setWithArguments(false);
                json.setWithFormattedMessage(true);
                json.setWithMessage(false);
                yield json;
            }
        };
    }
}
