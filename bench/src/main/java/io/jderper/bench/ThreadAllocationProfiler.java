package io.jderper.bench;

import org.openjdk.jmh.infra.BenchmarkParams;
import org.openjdk.jmh.infra.IterationParams;
import org.openjdk.jmh.profile.InternalProfiler;
import org.openjdk.jmh.results.AggregationPolicy;
import org.openjdk.jmh.results.IterationResult;
import org.openjdk.jmh.results.Result;
import org.openjdk.jmh.results.ScalarResult;

import java.lang.management.ManagementFactory;
import java.util.Collection;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * Heap bytes allocated per operation by the threads whose names start with one of some prefixes: by default the
 * relay's event loops ({@code jderper-relay}) and the STUN server's thread ({@code jderper-stun}). JMH's own {@code gc.alloc.rate.norm} sums every thread in the JVM, so in an
 * in-process end-to-end benchmark it would charge the clients' TLS engines to the relay; this profiler reports the
 * relay's share alone, as {@code threads.alloc.norm} (B/op), with {@code threads.count}. A benchmark with no such
 * thread gets no figures at all, never a zero.
 *
 * <p>Use: {@code -prof io.jderper.bench.ThreadAllocationProfiler} or
 * {@code -prof io.jderper.bench.ThreadAllocationProfiler:jderper-client} for other prefixes (comma-separated). JMH runs a trial's
 * {@code @TearDown} before the profilers see the last iteration, so a benchmark whose threads die in its tear-down
 * calls {@link #recordBeforeShutdown()} first; without it the last iteration reports NaN rather than a wrong figure.
 */
public final class ThreadAllocationProfiler implements InternalProfiler
{
    /**
     * The default prefixes: the relay's event loops (the transport module's {@code RelayServer.THREAD_NAME_PREFIX})
     * and the STUN server ({@code StunServer.THREAD_NAME}).
     */
    public static final String DEFAULT_PREFIXES = "jderper-relay,jderper-stun";

    private static final com.sun.management.ThreadMXBean THREADS =
        (com.sun.management.ThreadMXBean)ManagementFactory.getThreadMXBean();

    /** Counts taken just before a tear-down stopped the threads; only the last iteration needs them. */
    private static volatile Map<Long, Long> recordedBeforeShutdown = Map.of();

    private final List<String> prefixes;
    private Map<Long, Long> before = Map.of();

    public ThreadAllocationProfiler()
    {
        this("");
    }

    /**
     * @param options JMH's text after {@code -prof name:}: comma-separated thread-name prefixes, or empty for the
     *                default.
     */
    public ThreadAllocationProfiler(final String options)
    {
        final String text = null == options || options.isBlank() ? DEFAULT_PREFIXES : options;
        prefixes = java.util.Arrays.stream(text.split(",")).map(String::strip).filter(p -> !p.isEmpty()).toList();
        if (!THREADS.isThreadAllocatedMemorySupported() || !THREADS.isThreadAllocatedMemoryEnabled())
        {
            throw new IllegalStateException("this JVM does not count allocated bytes per thread");
        }
    }

    /**
     * Records every thread's allocation count now, for the last iteration's figure: call it in a trial's
     * {@code @TearDown} before stopping the threads measured.
     */
    public static void recordBeforeShutdown()
    {
        recordedBeforeShutdown = allocatedByThreadsNamed(List.of(""));
    }

    @Override
    public String getDescription()
    {
        return "heap bytes allocated per operation by threads named " + String.join("* or ", prefixes) + "*";
    }

    @Override
    public void beforeIteration(final BenchmarkParams benchmarkParams, final IterationParams iterationParams)
    {
        recordedBeforeShutdown = Map.of();
        before = allocatedByThreadsNamed(prefixes);
    }

    @Override
    public Collection<? extends Result> afterIteration(
        final BenchmarkParams benchmarkParams, final IterationParams iterationParams, final IterationResult result)
    {
        final Map<Long, Long> after = new HashMap<>(allocatedByThreadsNamed(prefixes));
        final Map<Long, Long> recorded = recordedBeforeShutdown;
        boolean lostThread = false;
        for (final Long id : before.keySet())
        {
            if (!after.containsKey(id) && recorded.containsKey(id))
            {
                after.put(id, recorded.get(id));
            }
            lostThread |= !after.containsKey(id);
        }
        long bytes = 0;
        int threads = 0;
        for (final Map.Entry<Long, Long> entry : after.entrySet())
        {
            // A thread born during the iteration counts from zero.
            bytes += entry.getValue() - before.getOrDefault(entry.getKey(), 0L);
            threads++;
        }
        if (before.isEmpty() && after.isEmpty())
        {
            // A benchmark without such threads (the micro-benchmarks in a run of every suite): nothing to report.
            return List.of();
        }
        final long ops = result.getMetadata().getAllOps();
        // A thread that died unrecorded took its count with it: report NaN, never a figure missing its allocation.
        final double perOp = ops > 0 && threads > 0 && !lostThread ? (double)bytes / ops : Double.NaN;
        return List.of(
            new ScalarResult("threads.alloc.norm", perOp, "B/op", AggregationPolicy.AVG),
            new ScalarResult("threads.count", threads, "threads", AggregationPolicy.MAX));
    }

    private static Map<Long, Long> allocatedByThreadsNamed(final List<String> prefixes)
    {
        // Live threads only: one that has ended is absent here, which is why recordBeforeShutdown exists.
        final Map<Long, Long> byThread = new HashMap<>();
        for (final Thread thread : Thread.getAllStackTraces().keySet())
        {
            final String name = thread.getName();
            if (prefixes.stream().anyMatch(name::startsWith))
            {
                final long allocated = THREADS.getThreadAllocatedBytes(thread.threadId());
                if (allocated >= 0)
                {
                    byThread.put(thread.threadId(), allocated);
                }
            }
        }
        return byThread;
    }
}
