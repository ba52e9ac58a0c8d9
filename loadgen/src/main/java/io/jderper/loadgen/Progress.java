package io.jderper.loadgen;

import me.tongfei.progressbar.ConsoleProgressBarConsumer;
import me.tongfei.progressbar.ProgressBar;
import me.tongfei.progressbar.ProgressBarBuilder;
import me.tongfei.progressbar.ProgressBarStyle;

import java.io.PrintStream;

/**
 * Shows how a phase is going: a progress bar with live rates on a terminal, a plain line every
 * {@link #LINE_INTERVAL_NS} otherwise (logs, CI, tests).
 */
final class Progress implements AutoCloseable
{
    /** Period of the plain lines. */
    static final long LINE_INTERVAL_NS = 5_000_000_000L;

    private final PrintStream out;
    private final boolean terminal;
    private ProgressBar bar;
    private String phase;
    private long lastLineNs;

    /**
     * @param out      where lines go.
     * @param terminal whether to draw a bar (on standard error) instead.
     */
    Progress(final PrintStream out, final boolean terminal)
    {
        this.out = out;
        this.terminal = terminal;
    }

    /**
     * Starts a phase.
     *
     * @param name  e.g. {@code connect}.
     * @param total the count at which it is complete.
     * @param unit  what is counted, e.g. {@code s}.
     */
    void begin(final String name, final long total, final String unit)
    {
        finishBar();
        phase = name;
        lastLineNs = System.nanoTime();
        if (terminal)
        {
            bar = new ProgressBarBuilder()
                .setTaskName(name)
                .setInitialMax(total)
                .setUnit(" " + unit, 1)
                .setStyle(ProgressBarStyle.COLORFUL_UNICODE_BLOCK)
                .setUpdateIntervalMillis(250)
                .setConsumer(new ConsoleProgressBarConsumer(System.err))
                .hideEta()
                .build();
        }
    }

    /**
     * Updates the current phase.
     *
     * @param current how far it is.
     * @param total   where it ends.
     * @param status  the live numbers.
     */
    void update(final long current, final long total, final String status)
    {
        if (null != bar)
        {
            bar.maxHint(total);
            bar.stepTo(Math.min(current, total));
            bar.setExtraMessage(" " + status);
            return;
        }
        final long nowNs = System.nanoTime();
        if (nowNs - lastLineNs - LINE_INTERVAL_NS >= 0)
        {
            lastLineNs = nowNs;
            out.println("loadgen: " + phase + " " + current + "/" + total + " " + status);
        }
    }

    /**
     * Prints a line (after the bar, if any).
     *
     * @param line the text.
     */
    void println(final String line)
    {
        finishBar();
        out.println(line);
    }

    private void finishBar()
    {
        if (null != bar)
        {
            bar.close();
            bar = null;
        }
    }

    @Override
    public void close()
    {
        finishBar();
    }
}
