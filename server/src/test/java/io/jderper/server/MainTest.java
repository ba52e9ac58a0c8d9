package io.jderper.server;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;

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
}
