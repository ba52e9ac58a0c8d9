package io.jderper.core.log;

import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;

/**
 * A bound on how many lines of one kind are logged per period, shared by the event loops: a flood of bad
 * connections (a scanner opening 10,000 and never speaking) must not turn into 10,000 synchronous log writes on the
 * threads that relay packets. What is not logged is counted and reported with the next line logged; the metrics
 * count every case regardless.
 */
public final class LogBudget
{
    private final long periodNs;
    private final int linesPerPeriod;
    private final AtomicLong periodStart = new AtomicLong(System.nanoTime());
    private final AtomicInteger lines = new AtomicInteger();
    private final AtomicLong skipped = new AtomicLong();

    /**
     * @param linesPerPeriod lines logged per period at most.
     * @param period         the period.
     * @param unit           its unit.
     */
    public LogBudget(final int linesPerPeriod, final long period, final TimeUnit unit)
    {
        this.linesPerPeriod = linesPerPeriod;
        this.periodNs = unit.toNanos(period);
    }

    /**
     * Takes one line from the budget.
     *
     * @return -1 if the line must not be logged; otherwise how many lines were skipped since the last one logged,
     * to be mentioned in it.
     */
    public long take()
    {
        final long now = System.nanoTime();
        final long start = periodStart.get();
        if (now - start >= periodNs && periodStart.compareAndSet(start, now))
        {
            lines.set(0);
        }
        if (lines.incrementAndGet() > linesPerPeriod)
        {
            skipped.incrementAndGet();
            return -1;
        }
        return skipped.getAndSet(0);
    }

    /**
     * @param skipped what {@link #take()} returned.
     * @return the suffix for the logged line: empty, or how many similar lines were left out before it.
     */
    public static String skippedNote(final long skipped)
    {
        return skipped > 0 ? " (and " + skipped + " more like it not logged)" : "";
    }
}
