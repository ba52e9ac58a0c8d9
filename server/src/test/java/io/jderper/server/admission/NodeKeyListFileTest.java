package io.jderper.server.admission;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.security.SecureRandom;
import java.time.Instant;

import io.jderper.core.key.NodePrivateKey;
import io.jderper.core.key.NodePublicKey;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class NodeKeyListFileTest
{
    @TempDir
    Path dir;

    private final SecureRandom random = new SecureRandom();
    private final NodePublicKey alice = NodePrivateKey.generate(random).publicKey();
    private final NodePublicKey bob = NodePrivateKey.generate(random).publicKey();

    private Path write(final String text, final int secondsFromNow) throws IOException
    {
        final Path file = dir.resolve("allowlist.txt");
        Files.writeString(file, text);
        // Set the time explicitly: two writes within one clock tick must still look changed.
        Files.setLastModifiedTime(file, FileTime.from(Instant.now().plusSeconds(secondsFromNow)));
        return file;
    }

    @Test
    void shouldStopTheStartNamingTheFileAndLine() throws IOException
    {
        final Path file = write("nodekey:" + alice.toHex() + "\nnot a key\n", 0);

        assertThatThrownBy(() -> NodeKeyListFile.load(file)).isInstanceOf(IOException.class)
            .hasMessageStartingWith("-allowlist " + file + ": line 2: ");
    }

    @Test
    void shouldSwapInAGoodNewVersionAndKeepTheOldListOnABadOne() throws IOException
    {
        final NodeKeyListFile list = NodeKeyListFile.load(write("nodekey:" + alice.toHex() + "\n", 0));
        assertThat(list.current().decide(bob).admitted()).isFalse();

        write("nodekey:" + alice.toHex() + "\nnodekey:" + bob.toHex() + "\n", 10);
        list.reloadIfChanged();
        assertThat(list.current().decide(bob).admitted()).isTrue();

        write("nodekey:" + alice.toHex() + "\nnodekey:12\n", 20);
        list.reloadIfChanged();
        assertThat(list.current().decide(bob).admitted()).as("the broken version is ignored").isTrue();
        assertThat(list.current().allowedCount()).isEqualTo(2);

        Files.delete(dir.resolve("allowlist.txt"));
        list.reloadIfChanged();
        assertThat(list.current().allowedCount()).as("a vanished file keeps the list too").isEqualTo(2);
    }
}
