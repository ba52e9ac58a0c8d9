package io.jderper.server;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;

import io.jderper.core.router.RelayConfig;
import io.jderper.server.cli.DerperOptions;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * Main can only be run in-process for {@code -version}: every other path either serves until killed or ends in
 * {@code System.exit}.
 */
class MainTest
{
    @Test
    void shouldPrintTheVersionAndReturn()
    {
        final ByteArrayOutputStream captured = new ByteArrayOutputStream();
        final PrintStream original = System.out;
        System.setOut(new PrintStream(captured, true, StandardCharsets.UTF_8));
        try
        {
            Main.main(new String[] {"-version"});
        }
        finally
        {
            System.setOut(original);
        }

        assertThat(captured.toString(StandardCharsets.UTF_8)).isEqualTo(Version.get() + System.lineSeparator());
    }

    @Test
    void shouldTurnTcpRttSamplesOffAsDerpersKnobSays()
    {
        final DerperOptions options = DerperOptions.parse(new String[0]);
        assertThat(Main.relayConfig(options, Map.of()).tcpRttIntervalMs())
            .isEqualTo(RelayConfig.DEFAULT_TCP_RTT_INTERVAL_MS);
        assertThat(Main.relayConfig(options, Map.of(Main.DISABLE_RTT_STATS, "false")).tcpRttIntervalMs())
            .isEqualTo(RelayConfig.DEFAULT_TCP_RTT_INTERVAL_MS);
        assertThat(Main.relayConfig(options, Map.of(Main.DISABLE_RTT_STATS, "1")).tcpRttIntervalMs()).isZero();
        assertThat(Main.relayConfig(options, Map.of(Main.DISABLE_RTT_STATS, "true")).handshakeTimeoutMs())
            .as("the rest as the flags say").isEqualTo(options.limits().inputs().handshake().toMillis());
        assertThatThrownBy(() -> Main.relayConfig(options, Map.of(Main.DISABLE_RTT_STATS, "yes")))
            .as("stops the start, as derper's envknob does")
            .hasMessage("invalid boolean environment variable TS_DERP_DISABLE_RTT_STATS value \"yes\"");
    }
}
