package io.jderper.server.logging;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;

class LogFormatTest
{
    private static final Logger LOG = LoggerFactory.getLogger(LogFormatTest.class);

    private final PrintStream originalErr = System.err;

    @AfterEach
    void restoreTheShippedFormat()
    {
        System.setErr(originalErr);
        assertThat(LogFormat.TEXT.apply()).isTrue();
    }

    private String logged(final LogFormat format, final Runnable logging)
    {
        final ByteArrayOutputStream captured = new ByteArrayOutputStream();
        System.setErr(new PrintStream(captured, true, StandardCharsets.UTF_8));
        assertThat(format.apply()).as("the shipped logback.xml's console appender").isTrue();
        logging.run();
        return captured.toString(StandardCharsets.UTF_8);
    }

    @Test
    void shouldSwitchTheConsoleToLogfmt()
    {
        final String out = logged(LogFormat.LOGFMT,
            () -> LOG.atInfo().addKeyValue("clients", 3).log("relaying at {}", "https://127.0.0.1:443/derp"));

        assertThat(out).matches("ts=\\S+ level=info logger=LogFormatTest " +
            "msg=\"relaying at https://127.0.0.1:443/derp\" clients=3\\R");
    }

    @Test
    void shouldSwitchTheConsoleToOneJsonObjectPerLine() throws Exception
    {
        final String out = logged(LogFormat.JSON, () -> LOG.warn("queue of {} full", "client \"a\""));

        final JsonNode line = new ObjectMapper().readTree(out.strip());
        assertThat(out.strip()).doesNotContain("\n");
        assertThat(line.path("level").asText()).isEqualTo("WARN");
        assertThat(line.path("loggerName").asText()).isEqualTo(LogFormatTest.class.getName());
        assertThat(line.path("formattedMessage").asText()).isEqualTo("queue of client \"a\" full");
    }

    @Test
    void shouldSwitchBackToText()
    {
        final String out = logged(LogFormat.TEXT, () -> LOG.info("plain"));

        assertThat(out).matches("\\S+ INFO  LogFormatTest: plain\\R");
    }

    @Test
    void shouldRefuseAnUnknownFormatNamingTheChoices()
    {
        assertThat(LogFormat.parse(" LogFmt ")).isEqualTo(LogFormat.LOGFMT);
        assertThatThrownBy(() -> LogFormat.parse("xml")).hasMessage(
            "-log-format must be one of [text, logfmt, json], got \"xml\"");
    }
}
