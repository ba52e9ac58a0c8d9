package io.jderper.core.log;

import io.jderper.core.protocol.Violation;

import java.util.concurrent.TimeUnit;

/**
 * The log budgets of connection errors, shared by the relay core and the transport, which log the same
 * categories: at most {@value #LINES_PER_PERIOD} lines of each category every {@value #PERIOD_SECONDS} s, so a flood
 * of bad clients cannot turn into synchronous log writes on the threads that relay packets. The metrics count every
 * case regardless.
 */
public final class ConnectionLogs
{
    /** Lines of one category per period. */
    public static final int LINES_PER_PERIOD = 20;
    /** The period, in seconds. */
    public static final int PERIOD_SECONDS = 10;

    /** Connections closed for breaking a rule (a bad frame, a deadline missed, not admitted). */
    public static final CategoryLogBudget<Violation> VIOLATIONS =
        new CategoryLogBudget<>(Violation.class, LINES_PER_PERIOD, PERIOD_SECONDS, TimeUnit.SECONDS);
    /** Connections closed because their writes stalled (a receiver that stopped reading). */
    public static final LogBudget WRITE_STALLS = new LogBudget(LINES_PER_PERIOD, PERIOD_SECONDS, TimeUnit.SECONDS);

    private ConnectionLogs()
    {
    }
}
