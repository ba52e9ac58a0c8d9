package io.jderper.transport;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.AppenderBase;
import org.slf4j.LoggerFactory;

import java.util.ArrayList;
import java.util.List;

/**
 * Holds what the relay and Netty log while a fuzz target runs, instead of printing it, and picks out what means an
 * exception nobody expected: a warning or an error, or an event with a stack trace. HTTP endpoints close on an
 * exception and log it at INFO (IOExceptions at DEBUG; an in-memory channel has none), so anything their handler logs
 * at INFO counts too. Everything else at INFO and below (a client's protocol violation, a weird Upgrade value) is
 * ordinary bad input and is not kept.
 */
public final class LogCapture extends AppenderBase<ILoggingEvent>
{
    private static final String HTTP_ENDPOINTS = "io.jderper.transport.http.HttpEndpointHandler";
    private static final String[] CAPTURED = {"io.jderper", "io.netty"};

    private final List<String> unexpected = new ArrayList<>();
    private final List<Level> levels = new ArrayList<>();

    /**
     * Routes the relay's and Netty's logs here, at INFO, and nowhere else until {@link #stop()}.
     */
    @Override
    public void start()
    {
        super.start();
        for (final String name : CAPTURED)
        {
            final Logger logger = (Logger)LoggerFactory.getLogger(name);
            levels.add(logger.getLevel());
            logger.setLevel(Level.INFO);
            logger.setAdditive(false);
            logger.addAppender(this);
        }
    }

    /**
     * Puts the loggers back as they were.
     */
    @Override
    public void stop()
    {
        for (int i = 0; i < CAPTURED.length; i++)
        {
            final Logger logger = (Logger)LoggerFactory.getLogger(CAPTURED[i]);
            logger.detachAppender(this);
            logger.setAdditive(true);
            logger.setLevel(levels.get(i));
        }
        levels.clear();
        super.stop();
    }

    @Override
    protected synchronized void append(final ILoggingEvent event)
    {
        final boolean warning = event.getLevel().isGreaterOrEqual(Level.WARN);
        final boolean httpEndpointClosedOnAnException = HTTP_ENDPOINTS.equals(event.getLoggerName()) &&
            event.getLevel().isGreaterOrEqual(Level.INFO);
        if (warning || httpEndpointClosedOnAnException || null != event.getThrowableProxy())
        {
            final String trace = null == event.getThrowableProxy() ? "" : " (" +
                event.getThrowableProxy().getClassName() + ": " + event.getThrowableProxy().getMessage() + ")";
            unexpected.add(event.getLevel() + " " + event.getLoggerName() + ": " + event.getFormattedMessage() + trace);
        }
    }

    /**
     * @return the unexpected events since the last call, and forgets them.
     */
    public synchronized List<String> takeUnexpected()
    {
        final List<String> events = List.copyOf(unexpected);
        unexpected.clear();
        return events;
    }
}
