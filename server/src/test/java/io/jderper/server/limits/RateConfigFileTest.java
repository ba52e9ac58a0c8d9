package io.jderper.server.limits;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.security.SecureRandom;
import java.time.Instant;
import java.util.Optional;

import io.jderper.core.admission.AdmissionPolicy;
import io.jderper.core.handshake.ServerHandshake;
import io.jderper.core.key.NodePrivateKey;
import io.jderper.core.ratelimit.ReceiveRateLimit;
import io.jderper.core.router.RelayConfig;
import io.jderper.core.router.RelayMetrics;
import io.jderper.core.router.Router;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class RateConfigFileTest
{
    @TempDir
    Path dir;

    private final Router<Object> router = new Router<>(new ServerHandshake(NodePrivateKey.generate(new SecureRandom()),
        Optional.empty(), new SecureRandom()), AdmissionPolicy.ADMIT_ALL, RelayConfig.defaults(2_000),
        new RelayMetrics());

    private static ReceiveRateLimit parse(final String json) throws IOException
    {
        return RateConfigFile.parse(json.getBytes(StandardCharsets.UTF_8));
    }

    private Path write(final String json, final int secondsFromNow) throws IOException
    {
        final Path file = dir.resolve("rates.json");
        Files.writeString(file, json);
        Files.setLastModifiedTime(file, FileTime.from(Instant.now().plusSeconds(secondsFromNow)));
        return file;
    }

    @Test
    void shouldReadDerpersRateConfigAsGoDecodesIt() throws IOException
    {
        assertThat(parse("{\"PerClientRateLimitBytesPerSec\": 1000000, \"PerClientRateBurstBytes\": 2000000}"))
            .isEqualTo(ReceiveRateLimit.of(1_000_000, 2_000_000));
        assertThat(parse("{\"perclientratelimitbytespersec\": 1000, \"Comment\": \"ignored\"}"))
            .as("names in any case, unknown fields ignored, burst raised to one frame")
            .isEqualTo(new ReceiveRateLimit(1000, 65_568));
        assertThat(parse("{}")).isSameAs(ReceiveRateLimit.NONE);
        assertThat(parse("{\"PerClientRateLimitBytesPerSec\": 0, \"PerClientRateBurstBytes\": 5}"))
            .isSameAs(ReceiveRateLimit.NONE);
    }

    @Test
    void shouldRefuseWhatGoWouldNotDecode()
    {
        assertThatThrownBy(() -> parse("[1]")).isInstanceOf(IOException.class);
        assertThatThrownBy(() -> parse("{\"PerClientRateLimitBytesPerSec\": -1}")).hasMessageContaining("0 or more");
        assertThatThrownBy(() -> parse("{\"PerClientRateLimitBytesPerSec\": 1.5}")).hasMessageContaining("whole");
        assertThatThrownBy(() -> parse("{\"PerClientRateLimitBytesPerSec\": \"1000\"}"))
            .hasMessageContaining("whole");
        assertThatThrownBy(() -> parse("{\"PerClientRateLimitBytesPerSec\": 1000")).isInstanceOf(IOException.class);
    }

    @Test
    void shouldApplyAtLoadThenOnChangeAndKeepTheLimitWhenAVersionIsBad() throws IOException
    {
        final RateConfigFile file = RateConfigFile.load(write("{\"PerClientRateLimitBytesPerSec\": 5000}", 0),
            router);
        assertThat(router.receiveRateLimit().bytesPerSecond()).isEqualTo(5000);

        write("{\"PerClientRateLimitBytesPerSec\": 9000}", 10);
        file.reloadIfChanged();
        assertThat(router.receiveRateLimit().bytesPerSecond()).isEqualTo(9000);

        write("{\"PerClientRateLimitBytesPerSec\": oops}", 20);
        file.reloadIfChanged();
        file.reload();
        assertThat(router.receiveRateLimit().bytesPerSecond()).isEqualTo(9000);

        Files.delete(dir.resolve("rates.json"));
        file.reloadIfChanged();
        assertThat(router.receiveRateLimit().bytesPerSecond()).isEqualTo(9000);
        assertThatThrownBy(() -> RateConfigFile.load(dir.resolve("rates.json"), router))
            .hasMessageStartingWith("-rate-config ").hasMessageContaining("cannot read");
    }
}
