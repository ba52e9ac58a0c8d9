package io.jderper.server;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.SecureRandom;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.jderper.core.key.NodePrivateKey;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * derper's config file (spec §4.18).
 */
class ServerKeyFileTest
{
    /** A clamped key, so its text form survives a parse and {@code toText} unchanged. */
    private static final String KEY_TEXT = "privkey:" + "f8" + "11".repeat(30) + "7f";

    @TempDir
    Path dir;

    @Test
    void shouldCreateTheFileAndItsParentsWithMode0600() throws IOException
    {
        final Path path = dir.resolve("var").resolve("lib").resolve("derper.key");

        ServerKeyFile.loadOrCreate(path, new SecureRandom());

        assertThat(path).isRegularFile();
        assertThat(Files.getPosixFilePermissions(path)).isEqualTo(PosixFilePermissions.fromString("rw-------"));
    }

    @Test
    void shouldWriteDerpersJsonWithTheReturnedKey() throws IOException
    {
        final Path path = dir.resolve("derper.key");

        final NodePrivateKey key = ServerKeyFile.loadOrCreate(path, new SecureRandom());

        final String text = Files.readString(path, StandardCharsets.UTF_8);
        final JsonNode root = new ObjectMapper().readTree(text);
        assertThat(root.isObject()).isTrue();
        assertThat(root.size()).as("exactly one field").isEqualTo(1);
        assertThat(root.get("PrivateKey").asText()).matches("privkey:[0-9a-f]{64}").isEqualTo(key.toText());
        // Byte for byte what Go's json.MarshalIndent(cfg, "", "\t") writes.
        assertThat(text).isEqualTo("{\n\t\"PrivateKey\": \"" + key.toText() + "\"\n}");
    }

    @Test
    void shouldReturnTheSameKeyWhenLoadedAgain() throws IOException
    {
        final Path path = dir.resolve("derper.key");
        final NodePrivateKey created = ServerKeyFile.loadOrCreate(path, new SecureRandom());
        final String written = Files.readString(path);

        final NodePrivateKey reloaded = ServerKeyFile.loadOrCreate(path, new SecureRandom());

        assertThat(reloaded).isEqualTo(created);
        assertThat(reloaded.publicKey()).isEqualTo(created.publicKey());
        assertThat(Files.readString(path)).as("an existing file is not rewritten").isEqualTo(written);
    }

    @Test
    void shouldGenerateADifferentKeyForEachNewFile() throws IOException
    {
        final SecureRandom random = new SecureRandom();

        final NodePrivateKey first = ServerKeyFile.loadOrCreate(dir.resolve("a.key"), random);
        final NodePrivateKey second = ServerKeyFile.loadOrCreate(dir.resolve("b.key"), random);

        assertThat(first).isNotEqualTo(second);
    }

    @Test
    void shouldReadAFileWrittenByDerper() throws IOException
    {
        final Path path = dir.resolve("derper.key");
        Files.writeString(path, "{\n\t\"PrivateKey\": \"" + KEY_TEXT + "\"\n}");

        final NodePrivateKey key = ServerKeyFile.loadOrCreate(path, new SecureRandom());

        assertThat(key.toText()).isEqualTo(KEY_TEXT);
        assertThat(key).isEqualTo(NodePrivateKey.parse(KEY_TEXT));
    }

    @Test
    void shouldReadUpperCaseHexAndExtraFields() throws IOException
    {
        final Path path = dir.resolve("derper.key");
        Files.writeString(path, "{\"Other\": 1, \"PrivateKey\": \"" + "privkey:" +
            KEY_TEXT.substring("privkey:".length()).toUpperCase(java.util.Locale.ROOT) + "\"}");

        assertThat(ServerKeyFile.loadOrCreate(path, new SecureRandom()).toText()).isEqualTo(KEY_TEXT);
    }

    @ParameterizedTest
    @ValueSource(strings = {
        "not json",
        "{\"PrivateKey\": ",
        "",
        "{}",
        "[]",
        "\"privkey:\"",
        "{\"PrivateKey\": null}",
        "{\"PrivateKey\": 42}",
        "{\"privatekey2\": \"x\"}",
        "{\"PrivateKey\": \"zz\"}",
        "{\"PrivateKey\": \"privkey:1234\"}",
        "{\"PrivateKey\": \"privkey:" + "zz" + "00000000000000000000000000000000000000000000000000000000000000\"}",
        "{\"PrivateKey\": \"nodekey:f811111111111111111111111111111111111111111111111111111111111111\"}"})
    void shouldRefuseABadFileWithAnIoExceptionNamingIt(final String content) throws IOException
    {
        final Path path = dir.resolve("derper.key");
        Files.writeString(path, content);

        assertThatThrownBy(() -> ServerKeyFile.loadOrCreate(path, new SecureRandom()))
            .isInstanceOf(IOException.class)
            .hasMessageContaining(path.toString());
        assertThat(Files.readString(path)).as("a bad file is never replaced").isEqualTo(content);
    }

    @Test
    void shouldSayWhatIsWrongWithTheFile() throws IOException
    {
        final Path malformed = Files.writeString(dir.resolve("malformed.key"), "{");
        final Path missing = Files.writeString(dir.resolve("missing.key"), "{\"Key\": \"x\"}");
        final Path badKey = Files.writeString(dir.resolve("bad.key"), "{\"PrivateKey\": \"privkey:12\"}");

        assertThatThrownBy(() -> ServerKeyFile.loadOrCreate(malformed, new SecureRandom()))
            .hasMessageContaining("not valid JSON");
        assertThatThrownBy(() -> ServerKeyFile.loadOrCreate(missing, new SecureRandom()))
            .hasMessageContaining("PrivateKey");
        assertThatThrownBy(() -> ServerKeyFile.loadOrCreate(badKey, new SecureRandom()))
            .hasMessageContaining("64 hex characters")
            .hasCauseInstanceOf(IllegalArgumentException.class);
    }

    @Test
    void shouldRefuseADirectoryAtTheConfigPath() throws IOException
    {
        final Path path = Files.createDirectory(dir.resolve("derper.key"));

        assertThatThrownBy(() -> ServerKeyFile.loadOrCreate(path, new SecureRandom()))
            .isInstanceOf(IOException.class)
            .hasMessageContaining(path.toString());
    }
}
