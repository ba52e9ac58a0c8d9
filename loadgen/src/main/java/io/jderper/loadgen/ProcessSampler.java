package io.jderper.loadgen;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;

/**
 * Reads a process's CPU time and resident memory from {@code /proc/PID/stat} and {@code /proc/PID/status}.
 */
final class ProcessSampler
{
    /** utime is the 14th field of /proc/PID/stat, stime the 15th; counted after the ")" that ends comm (field 2). */
    private static final int UTIME_AFTER_COMM = 14 - 3;
    private static final int STIME_AFTER_COMM = 15 - 3;
    private static final long DEFAULT_CLOCK_TICKS = 100;

    private static volatile long clockTicks;

    private final long pid;
    private final Path stat;
    private final Path status;

    /**
     * One reading.
     *
     * @param cpuSeconds user plus system CPU time.
     * @param rssKiB     VmRSS, or -1 if unknown.
     */
    record Sample(double cpuSeconds, long rssKiB)
    {
    }

    ProcessSampler(final long pid)
    {
        this.pid = pid;
        this.stat = Path.of("/proc", Long.toString(pid), "stat");
        this.status = Path.of("/proc", Long.toString(pid), "status");
    }

    /**
     * @return a sampler of this JVM.
     */
    static ProcessSampler self()
    {
        return new ProcessSampler(ProcessHandle.current().pid());
    }

    long pid()
    {
        return pid;
    }

    /**
     * @return the current reading, or null if the process is gone or /proc cannot be read.
     */
    Sample sample()
    {
        try
        {
            final String text = Files.readString(stat, StandardCharsets.US_ASCII);
            final String[] fields = text.substring(text.lastIndexOf(')') + 2).trim().split(" ");
            final long ticks = Long.parseLong(fields[UTIME_AFTER_COMM]) + Long.parseLong(fields[STIME_AFTER_COMM]);
            return new Sample((double)ticks / clockTicks(), rssKiB());
        }
        catch (final IOException | RuntimeException ex)
        {
            return null;
        }
    }

    private long rssKiB() throws IOException
    {
        for (final String line : Files.readAllLines(status, StandardCharsets.US_ASCII))
        {
            if (line.startsWith("VmRSS:"))
            {
                final String[] parts = line.substring("VmRSS:".length()).trim().split("\\s+");
                return Long.parseLong(parts[0]);
            }
        }
        return -1;
    }

    /**
     * @return the kernel's clock ticks per second, from {@code getconf CLK_TCK} once (100 if that fails).
     */
    static long clockTicks()
    {
        long ticks = clockTicks;
        if (0 == ticks)
        {
            ticks = DEFAULT_CLOCK_TICKS;
            try
            {
                final Process process = new ProcessBuilder("getconf", "CLK_TCK").redirectErrorStream(true).start();
                if (process.waitFor(5, TimeUnit.SECONDS) && 0 == process.exitValue())
                {
                    final String text = new String(process.getInputStream().readAllBytes(), StandardCharsets.US_ASCII)
                        .trim();
                    final long parsed = Long.parseLong(text);
                    if (parsed > 0)
                    {
                        ticks = parsed;
                    }
                }
                else
                {
                    process.destroyForcibly();
                }
            }
            catch (final IOException | RuntimeException ex)
            {
                // Keep the default: Linux on x86 and ARM uses 100.
            }
            catch (final InterruptedException ex)
            {
                Thread.currentThread().interrupt();
            }
            clockTicks = ticks;
        }
        return ticks;
    }
}
