package io.jderper.server.deploy;

import static org.assertj.core.api.Assertions.assertThat;

import io.jderper.server.cli.DerperOptions;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.TimeUnit;

import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * deploy/systemd/jderper.service: {@code systemd-analyze verify} accepts it without a word, its hardening keeps what
 * the JVM needs, and its command line is one the relay takes. systemd-analyze is installed with apt-get when missing
 * (CI runs as root); the test fails if that is not possible.
 */
class SystemdUnitTest
{
    private static final Path DEPLOY = Path.of("..", "deploy");
    private static final Path UNIT = DEPLOY.resolve("systemd").resolve("jderper.service");
    /** Where the tarball is unpacked (docs/deploy.md); verify needs an executable there, so a copy stands in. */
    private static final String INSTALLED_LAUNCHER = "/opt/jderper/bin/jderper";

    @TempDir
    Path dir;

    @BeforeAll
    static void installSystemdAnalyzeIfMissing() throws IOException, InterruptedException
    {
        if (0 == run(List.of("sh", "-c", "command -v systemd-analyze")).status())
        {
            return;
        }
        final Result update = run(List.of("apt-get", "update", "-q"));
        final Result install = run(List.of("env", "DEBIAN_FRONTEND=noninteractive", "apt-get", "install", "-y", "-q",
            "--no-install-recommends", "systemd"));
        assertThat(run(List.of("sh", "-c", "command -v systemd-analyze")).status())
            .as("systemd-analyze is missing and apt-get could not install it:%n%s%n%s", update.output(),
                install.output())
            .isZero();
    }

    @Test
    void shouldPassSystemdAnalyzeVerifyWithoutWarnings() throws IOException, InterruptedException
    {
        final Result verify = verify(Files.readString(UNIT));

        assertThat(verify.status()).as(verify.output()).isZero();
        assertThat(warningsAboutTheUnit(verify)).isEmpty();
    }

    @Test
    void shouldSeeTheWarningsOfAUnitWithAMistake() throws IOException, InterruptedException
    {
        // verify exits 0 on an unknown key or a bad value, so the test above reads its output: proof that it can.
        final Result verify = verify(Files.readString(UNIT).replace("ProtectSystem=strict", "ProtectSystem=strikt"));

        assertThat(warningsAboutTheUnit(verify)).anyMatch(line -> line.contains("strikt"));
    }

    @Test
    void shouldKeepWhatTheJvmAndTheRelayNeedUnderTheHardening() throws IOException
    {
        final List<String> lines = Files.readAllLines(UNIT);

        assertThat(lines).as("the JIT needs writable executable memory")
            .noneMatch(line -> line.startsWith("MemoryDenyWriteExecute"));
        assertThat(lines).contains("DynamicUser=yes", "StateDirectory=jderper", "NoNewPrivileges=yes",
            "ProtectSystem=strict", "ProtectHome=yes", "PrivateTmp=yes", "AmbientCapabilities=CAP_NET_BIND_SERVICE",
            "CapabilityBoundingSet=CAP_NET_BIND_SERVICE", "SystemCallFilter=@system-service",
            "SystemCallFilter=io_uring_setup io_uring_enter io_uring_register", "Restart=on-failure",
            "EnvironmentFile=-/etc/jderper/jderper.env");
    }

    @Test
    void shouldStartTheRelayWithItsKeyInTheStateDirectory() throws IOException
    {
        final String execStart = Files.readAllLines(UNIT).stream().filter(line -> line.startsWith("ExecStart="))
            .findFirst().orElseThrow().substring("ExecStart=".length());
        final List<String> words = Arrays.asList(execStart.split(" +"));
        assertThat(words.getFirst()).isEqualTo(INSTALLED_LAUNCHER);

        // %S is systemd's state directory root, /var/lib for a system service.
        final DerperOptions options = DerperOptions.parse(words.subList(1, words.size()).stream()
            .map(word -> word.replace("%S", "/var/lib")).toArray(String[]::new));
        assertThat(Path.of(options.configPath())).isEqualTo(Path.of("/var/lib/jderper/derper.key"));
        assertThat(options.warnings()).isEmpty();
    }

    private Result verify(final String unit) throws IOException, InterruptedException
    {
        assertThat(unit).as("the unit starts the installed launcher once")
            .containsOnlyOnce("ExecStart=" + INSTALLED_LAUNCHER + " ");
        final Path launcher = dir.resolve("jderper");
        Files.copy(DEPLOY.resolve("bin").resolve("jderper"), launcher, StandardCopyOption.REPLACE_EXISTING);
        assertThat(launcher.toFile().setExecutable(true)).isTrue();
        final Path copy = dir.resolve("jderper.service");
        Files.writeString(copy, unit.replace("ExecStart=" + INSTALLED_LAUNCHER + " ", "ExecStart=" + launcher + " "));
        return run(List.of("systemd-analyze", "verify", copy.toString()));
    }

    /** Lines naming the unit: systemd prefixes each warning with the unit's file or name. */
    private static List<String> warningsAboutTheUnit(final Result verify)
    {
        return verify.output().lines().filter(line -> line.contains("jderper.service")).toList();
    }

    private static Result run(final List<String> command) throws IOException, InterruptedException
    {
        final Process process = new ProcessBuilder(command).redirectErrorStream(true).start();
        final String output = new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertThat(process.waitFor(10, TimeUnit.MINUTES)).as("%s finished", command).isTrue();
        return new Result(process.exitValue(), output);
    }

    private record Result(int status, String output)
    {
    }
}
