package io.jderper.transport;

import static org.assertj.core.api.Assertions.assertThat;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.read.ListAppender;
import io.jderper.core.key.NodePublicKey;
import io.jderper.core.log.ConnectionLogs;
import io.jderper.core.protocol.FrameType;
import io.jderper.core.protocol.ProtocolLimits;
import io.jderper.core.protocol.Violation;
import io.jderper.core.router.ClientSession;
import io.jderper.core.router.RelayConfig;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.slf4j.LoggerFactory;

import java.nio.file.Path;
import java.util.List;

/**
 * What the relay logs of connections: one debug line as each connects and leaves, short keys only, and a flood of
 * one kind of bad connection held to its category's budget while the metrics count every one.
 */
class ConnectionLogTest
{
    private static final int FLOOD = ConnectionLogs.LINES_PER_PERIOD + 10;

    @TempDir
    Path certdir;
    private final ListAppender<ILoggingEvent> logs = new ListAppender<>();
    private final Logger root = (Logger)LoggerFactory.getLogger(Logger.ROOT_LOGGER_NAME);
    private final Logger sessionLog = (Logger)LoggerFactory.getLogger(ClientSession.class);
    private Level sessionLevel;

    @BeforeEach
    void captureLogs()
    {
        sessionLevel = sessionLog.getLevel();
        sessionLog.setLevel(Level.DEBUG);
        logs.start();
        root.addAppender(logs);
    }

    @AfterEach
    void restoreLogs()
    {
        root.detachAppender(logs);
        sessionLog.setLevel(sessionLevel);
    }

    private long linesContaining(final String text)
    {
        return messages().stream().filter(m -> m.contains(text)).count();
    }

    private long linesStartingWith(final String text)
    {
        return messages().stream().filter(m -> m.startsWith(text)).count();
    }

    private List<String> messages()
    {
        return List.copyOf(logs.list).stream().map(ILoggingEvent::getFormattedMessage).toList();
    }

    @Test
    void shouldLogEachConnectionOnceAsItComesAndGoesWithItsShortKey() throws Exception
    {
        try (RelayFixture relay = new RelayFixture(certdir, RelayConfig.defaults(ProtocolLimits.DEFAULT_WRITE_TIMEOUT_MS)))
        {
            final NodePublicKey key;
            try (TestDerpClient client = TestDerpClient.connected(relay.address()))
            {
                key = client.publicKey();
                RelayFixture.await("the connected line", () -> 1 == linesStartingWith("connected: " +
                    key.toShortString()));
            }
            RelayFixture.await("the disconnected line", () -> 1 == linesStartingWith("disconnected: " +
                key.toShortString()));
            assertThat(linesStartingWith("connected: " + key.toShortString())).as("one line each").isEqualTo(1);
            assertThat(messages()).as("no full node key in any line").noneMatch(m -> m.contains(key.toHex()));
        }
    }

    @Test
    void shouldHoldAFloodOfOneViolationToItsBudgetAndCountEveryOne() throws Exception
    {
        try (RelayFixture relay = new RelayFixture(certdir, RelayConfig.defaults(ProtocolLimits.DEFAULT_WRITE_TIMEOUT_MS)))
        {
            final long before = relay.violations(Violation.FRAME_TOO_LARGE);
            for (int i = 0; i < FLOOD; i++)
            {
                try (TestDerpClient client = TestDerpClient.connected(relay.address()))
                {
                    client.sendRaw(TestDerpClient.header(FrameType.SEND_PACKET, 0xFFFF_FFFFL));
                    assertThat(client.closedByServer()).isTrue();
                }
            }
            RelayFixture.await("every one counted", () -> relay.violations(Violation.FRAME_TOO_LARGE) == before + FLOOD);

            assertThat(linesContaining(Violation.FRAME_TOO_LARGE.label()))
                .as("lines within the category's budget for the period").isBetween(0L,
                    (long)ConnectionLogs.LINES_PER_PERIOD);
        }
    }
}
