package io.jderper.server.check;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import com.code_intelligence.jazzer.junit.FuzzTest;

/**
 * The DERP map files {@code jderper check} reads (Tailscale's JSON, Headscale's YAML): any bytes either give nodes
 * that can be checked (an https URL with a host, ports in range) or are refused with an {@link IOException} that says
 * why; nothing else escapes to the operator as a stack trace.
 */
class DerpMapFileFuzzTest
{
    private static final Path MAP = temporaryMap();

    private static Path temporaryMap()
    {
        try
        {
            final Path file = Files.createTempFile("derpmap-fuzz", ".json");
            file.toFile().deleteOnExit();
            return file;
        }
        catch (final IOException ex)
        {
            throw new UncheckedIOException(ex);
        }
    }

    @FuzzTest(maxDuration = "30s")
    void readsNodesOrRefuses(final byte[] map) throws IOException
    {
        Files.write(MAP, map);
        final List<CheckTarget> targets;
        try
        {
            targets = CheckTarget.fromMapFile(MAP);
        }
        catch (final IOException refused)
        {
            return;
        }
        assertThat(targets).isNotEmpty();
        for (final CheckTarget target : targets)
        {
            assertThat(target.url().getScheme()).isEqualTo("https");
            assertThat(target.url().getHost()).isNotNull();
            assertThat(target.url().getPort()).isBetween(-1, 65535);
            assertThat(target.stunPort()).isBetween(-1, 65535);
            assertThat(target.stunHost()).isNotEmpty();
        }
    }
}
