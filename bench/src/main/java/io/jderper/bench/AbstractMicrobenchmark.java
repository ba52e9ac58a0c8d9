package io.jderper.bench;

import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Warmup;

import java.util.concurrent.TimeUnit;

/**
 * Fixed JMH settings shared by every jderper benchmark, as Netty's {@code AbstractMicrobenchmark} does: one fork
 * that gets the same JVM flags as the relay (Agrona needs {@code jdk.internal.misc}; Java 25 warns about native and
 * {@code sun.misc.Unsafe} access otherwise), average time in nanoseconds, short warm-up and measurement. The command
 * line overrides any of these ({@code -f}, {@code -wi}, {@code -i}, {@code -w}, {@code -r}).
 *
 * <p>Run with {@code -prof gc}: {@code gc.alloc.rate.norm} is the Java counterpart of Tailscale's
 * {@code testing.AllocsPerRun} checks, and must be about 0 B/op wherever the code measured claims no allocation.
 */
@Fork(value = 1, jvmArgsAppend = {
    "--enable-native-access=ALL-UNNAMED",
    "--sun-misc-unsafe-memory-access=allow",
    "--add-exports", "java.base/jdk.internal.misc=ALL-UNNAMED"})
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
public abstract class AbstractMicrobenchmark
{
}
