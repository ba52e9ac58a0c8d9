package io.jderper.server.deploy;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * deploy/bin/jderper, the installed launcher: which Java it picks (the bundled runtime, JAVA_HOME, PATH, the JVM
 * directories, each only if it is 25 or newer), the flags it passes, and its message when there is none. The Javas
 * are fakes that report a version and echo how they were called, so no JVM starts.
 */
class LauncherTest
{
    private static final Path LAUNCHER = Path.of("..", "deploy", "bin", "jderper");
    private static final Path DEV_SCRIPT = Path.of("..", "jderper");
    private static final Pattern JVM_FLAGS = Pattern.compile("\\nJVM_FLAGS=\\(([^)]*)\\)");

    @TempDir
    Path dir;

    private Path install;
    private Path tools;
    private Path noJvmDirs;

    @BeforeEach
    void installTree() throws IOException, InterruptedException
    {
        install = dir.resolve("opt");
        Files.createDirectories(install.resolve("bin"));
        Files.createDirectories(install.resolve("lib"));
        Files.copy(LAUNCHER, install.resolve("bin").resolve("jderper"));
        assertThat(install.resolve("bin").resolve("jderper").toFile().setExecutable(true)).isTrue();
        Files.writeString(install.resolve("lib").resolve("jderper.jar"), "not a jar: the fake java does not read it");
        // A PATH holding only what the launcher itself uses, so that no java of this machine can be found on it.
        tools = Files.createDirectories(dir.resolve("tools"));
        for (final String tool : List.of("bash", "env", "awk", "cut", "readlink", "dirname"))
        {
            final Result where = run(List.of("sh", "-c", "command -v " + tool), Map.of());
            assertThat(where.status()).as("%s is needed by the launcher", tool).isZero();
            // A forwarding script rather than a link: JUnit warns about links leaving its temporary directory.
            final Path forward = tools.resolve(tool);
            Files.writeString(forward, "#!/bin/sh\nexec " + where.output().strip() + " \"$@\"\n");
            assertThat(forward.toFile().setExecutable(true)).isTrue();
        }
        noJvmDirs = Files.createDirectories(dir.resolve("no-jvms"));
    }

    @Test
    void shouldRunTheBundledRuntimeWithTheRelaysJvmFlagsBeforeAnyOther() throws IOException, InterruptedException
    {
        final Path bundled = fakeJava(install.resolve("runtime"), 25);
        fakeJava(dir.resolve("home"), 26);

        final Result result = launch(Map.of("JAVA_HOME", dir.resolve("home").toString()), "-hostname",
            "derp.example.com");

        assertThat(result.status()).as(result.output()).isZero();
        assertThat(result.output().lines().toList()).containsExactly("ran " + bundled,
            "--enable-native-access=ALL-UNNAMED", "--sun-misc-unsafe-memory-access=allow", "--add-exports",
            "java.base/jdk.internal.misc=ALL-UNNAMED", "-XX:+UseCompactObjectHeaders", "-Xmn32m", "-jar",
            install.resolve("lib").resolve("jderper.jar").toString(), "-hostname", "derp.example.com");
    }

    @Test
    void shouldPassOverJavasOlderThan25InOrderBundledJavaHomePathJvmDirectories()
        throws IOException, InterruptedException
    {
        fakeJava(install.resolve("runtime"), 21);
        final Path javaHome = fakeJava(dir.resolve("home"), 17);
        final Path onPath = fakeJava(dir.resolve("path"), 11);
        final Path jvmDir = fakeJava(dir.resolve("jvms").resolve("jdk-25"), 25);
        final Map<String, String> environment = Map.of("JAVA_HOME", dir.resolve("home").toString(),
            "PATH", tools + ":" + onPath.getParent(), "JDERPER_JVM_DIRS", dir.resolve("jvms") + "/*");

        assertThat(launch(environment).output()).startsWith("ran " + jvmDir + "\n");
        fakeJava(dir.resolve("path"), 25);
        assertThat(launch(environment).output()).startsWith("ran " + onPath + "\n");
        fakeJava(dir.resolve("home"), 25);
        assertThat(launch(environment).output()).startsWith("ran " + javaHome + "\n");
    }

    @Test
    void shouldAddJderperJavaOptsAfterItsOwnFlags() throws IOException, InterruptedException
    {
        fakeJava(install.resolve("runtime"), 25);

        final List<String> lines = launch(Map.of("JDERPER_JAVA_OPTS", "-Xmx256m -Dx=y"), "-version").output().lines()
            .toList();

        assertThat(lines.subList(lines.indexOf("-Xmn32m"), lines.size())).containsExactly("-Xmn32m", "-Xmx256m",
            "-Dx=y", "-jar", install.resolve("lib").resolve("jderper.jar").toString(), "-version");
    }

    @Test
    void shouldFailNamingWhereItLookedWhenThereIsNoJava25() throws IOException, InterruptedException
    {
        fakeJava(install.resolve("runtime"), 24);

        final Result result = launch(Map.of());

        assertThat(result.status()).isEqualTo(1);
        assertThat(result.output()).contains("no Java 25 or newer found").contains(install.resolve("runtime").toString())
            .contains("JAVA_HOME").contains("install a Java 25+ runtime").doesNotContain("ran ");
    }

    @Test
    void shouldFailClearlyWithoutTheJar() throws IOException, InterruptedException
    {
        fakeJava(install.resolve("runtime"), 25);
        Files.delete(install.resolve("lib").resolve("jderper.jar"));

        final Result result = launch(Map.of());

        assertThat(result.status()).isEqualTo(1);
        assertThat(result.output()).contains("lib/jderper.jar is missing");
    }

    @Test
    void shouldPassTheSameJvmFlagsAsTheDevelopmentScript() throws IOException
    {
        final String launcherFlags = jvmFlags(Files.readString(LAUNCHER));

        assertThat(launcherFlags).contains("-Xmn32m").isEqualTo(jvmFlags(Files.readString(DEV_SCRIPT)));
    }

    private static String jvmFlags(final String script)
    {
        final Matcher matcher = JVM_FLAGS.matcher(script);
        assertThat(matcher.find()).as("a JVM_FLAGS=(...) array").isTrue();
        return matcher.group(1).replaceAll("\\s+", " ").strip();
    }

    /**
     * A java that prints the given version for the launcher's version probe and otherwise echoes its own path and
     * arguments, one per line.
     */
    private static Path fakeJava(final Path home, final int version) throws IOException
    {
        final Path java = Files.createDirectories(home.resolve("bin")).resolve("java");
        Files.writeString(java, """
            #!/bin/sh
            if [ "$1" = -XshowSettings:properties ]; then
              echo "    java.specification.version = %d" >&2
              exit 0
            fi
            echo "ran $0"
            for arg in "$@"; do echo "$arg"; done
            """.formatted(version));
        assertThat(java.toFile().setExecutable(true)).isTrue();
        return java;
    }

    /** The launcher with no JAVA_HOME, only the tools on PATH and no JVM directories unless the test says so. */
    private Result launch(final Map<String, String> environment, final String... args)
        throws IOException, InterruptedException
    {
        final Map<String, String> full = new HashMap<>(Map.of("PATH", tools.toString(),
            "JDERPER_JVM_DIRS", noJvmDirs.toString()));
        full.putAll(environment);
        final List<String> command = new ArrayList<>(List.of(install.resolve("bin").resolve("jderper")
            .toString()));
        command.addAll(List.of(args));
        return run(command, full);
    }

    private static Result run(final List<String> command, final Map<String, String> environment)
        throws IOException, InterruptedException
    {
        final ProcessBuilder builder = new ProcessBuilder(command).redirectErrorStream(true);
        if (!environment.isEmpty())
        {
            builder.environment().clear();
            builder.environment().putAll(environment);
        }
        final Process process = builder.start();
        final String output = new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertThat(process.waitFor(1, TimeUnit.MINUTES)).as("%s finished", command).isTrue();
        return new Result(process.exitValue(), output);
    }

    private record Result(int status, String output)
    {
    }
}
