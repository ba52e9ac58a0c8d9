package io.jderper.server;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.HexFormat;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class MeshKeyFileTest
{
    private static final String KEY = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";

    @TempDir
    Path dir;

    private Path write(final String text, final String permissions) throws IOException
    {
        final Path file = dir.resolve("derp-mesh.key");
        Files.writeString(file, text);
        Files.setPosixFilePermissions(file, PosixFilePermissions.fromString(permissions));
        return file;
    }

    @Test
    void shouldReadSixtyFourHexDigitsWithSurroundingWhitespaceAsDerperDoes() throws IOException
    {
        assertThat(MeshKeyFile.read(write("  " + KEY + "\n", "rw-------"))).isEqualTo(HexFormat.of().parseHex(KEY));
        assertThat(MeshKeyFile.read(write(KEY.toUpperCase(), "rw-r--r--"))).as("Go's hex decoder takes upper case")
            .isEqualTo(HexFormat.of().parseHex(KEY));
    }

    @Test
    void shouldRefuseWhatIsNotAKeyNamingTheFileAndTheReason() throws IOException
    {
        assertThatThrownBy(() -> MeshKeyFile.read(write(KEY.substring(2), "rw-------")))
            .isInstanceOf(IOException.class).hasMessageContaining("-mesh-psk-file")
            .hasMessageContaining("derp-mesh.key").hasMessageContaining("64-digit hexadecimal").hasMessageContaining("62");
        assertThatThrownBy(() -> MeshKeyFile.read(write("zz" + KEY.substring(2), "rw-------")))
            .hasMessageContaining("64-digit hexadecimal");
        assertThatThrownBy(() -> MeshKeyFile.read(write("0".repeat(64), "rw-------"))).hasMessageContaining("all zero");
        assertThatThrownBy(() -> MeshKeyFile.read(dir.resolve("missing.key")))
            .hasMessageContaining("missing.key").hasMessageContaining("cannot read");
    }

    @Test
    void shouldFindDerpersDefaultFileInTheHomeDirectory() throws IOException
    {
        assertThat(MeshKeyFile.defaultPath(dir.toString())).as("no file yet").isEmpty();
        final Path keys = Files.createDirectories(dir.resolve("keys"));
        Files.writeString(keys.resolve("derp-mesh.key"), KEY);

        assertThat(MeshKeyFile.defaultPath(dir.toString())).contains(keys.resolve("derp-mesh.key"));
    }
}
