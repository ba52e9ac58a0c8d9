package io.jderper.server.logging;

import static org.assertj.core.api.Assertions.assertThat;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.LoggerContext;
import ch.qos.logback.classic.spi.LoggingEvent;
import org.junit.jupiter.api.Test;
import org.slf4j.event.KeyValuePair;

import java.io.IOException;

class LogfmtLayoutTest
{
    private final LoggerContext context = new LoggerContext();
    private final LogfmtLayout layout = new LogfmtLayout();

    LogfmtLayoutTest()
    {
        layout.setContext(context);
        layout.start();
    }

    private LoggingEvent event(final String message, final Throwable error)
    {
        final LoggingEvent event = new LoggingEvent("test", context.getLogger("io.jderper.core.router.ClientSession"),
            Level.INFO, message, error, null);
        event.setTimeStamp(1_795_000_000_123L);
        return event;
    }

    @Test
    void shouldWriteTheFieldsInOrderWithPlainTokensBare()
    {
        final LoggingEvent event = event("closing", null);
        event.addKeyValuePair(new KeyValuePair("violation", "frame_stalled"));
        event.addKeyValuePair(new KeyValuePair("peer", "203.0.113.7:41000"));

        assertThat(layout.doLayout(event)).isEqualTo("ts=2026-11-18T11:06:40.123Z level=info logger=ClientSession " +
            "msg=closing violation=frame_stalled peer=203.0.113.7:41000" + System.lineSeparator());
    }

    @Test
    void shouldQuoteAndEscapeSoThatNoValueCanStartALineOfItsOwn()
    {
        final String line = layout.doLayout(event("closing a \"client\" at C:\\x\nlevel=error forged\u0007", null));

        assertThat(line).contains("msg=\"closing a \\\"client\\\" at C:\\\\x\\nlevel=error forged\\u0007\"");
        assertThat(line.strip()).doesNotContain("\n");
    }

    @Test
    void shouldPutAThrowableOnTheSameLineWithItsCause()
    {
        final String line = layout.doLayout(event("unexpected", new IllegalStateException("outer",
            new IOException("inner"))));

        assertThat(line).contains(" err=\"java.lang.IllegalStateException: outer\"")
            .contains(" stack=\"io.jderper.server.logging.LogfmtLayoutTest.")
            .contains("caused by java.io.IOException: inner");
        assertThat(line.strip()).doesNotContain("\n");
    }

    @Test
    void shouldQuoteEmptyValuesAndMakeKeysSafe()
    {
        final LoggingEvent event = event("", null);
        event.addKeyValuePair(new KeyValuePair("bad key=", null));

        assertThat(layout.doLayout(event)).contains(" msg=\"\" bad_key_=null");
    }
}
