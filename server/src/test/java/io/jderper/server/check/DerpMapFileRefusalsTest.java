package io.jderper.server.check;

import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Maps the fuzzer would otherwise turn into stack traces: each is refused with the reason.
 */
class DerpMapFileRefusalsTest
{
    @TempDir
    Path dir;

    @Test
    void refusesAHostNameThatIsNotAHost() throws IOException
    {
        final Path map = Files.writeString(dir.resolve("map.json"),
            "{\"Regions\":{\"1\":{\"Nodes\":[{\"Name\":\"1a\",\"HostName\":\"a b\"}]}}}");
        assertThatThrownBy(() -> CheckTarget.fromMapFile(map)).isInstanceOf(IOException.class)
            .hasMessageContaining("not a host");
    }

    @Test
    void refusesPortsOutOfRange() throws IOException
    {
        final Path map = Files.writeString(dir.resolve("map.json"),
            "{\"Regions\":{\"1\":{\"Nodes\":[{\"Name\":\"1a\",\"HostName\":\"derp.example.com\",\"STUNPort\":70000}]}}}");
        assertThatThrownBy(() -> CheckTarget.fromMapFile(map)).isInstanceOf(IOException.class)
            .hasMessageContaining("port out of range");
    }

    @Test
    void refusesAYamlListOrScalar() throws IOException
    {
        for (final String text : new String[]{"- 1\n- 2\n", "just text\n", ""})
        {
            final Path map = Files.writeString(dir.resolve("map.yaml"), text);
            assertThatThrownBy(() -> CheckTarget.fromMapFile(map)).isInstanceOf(IOException.class);
        }
    }
}
