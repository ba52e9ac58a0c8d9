package io.jderper.loadgen;

/**
 * How a run ended.
 *
 * @param ok     whether it met its criteria.
 * @param reason why not, on one line; null when ok.
 */
record RunResult(boolean ok, String reason)
{
    static RunResult success()
    {
        return new RunResult(true, null);
    }

    static RunResult failure(final String reason)
    {
        return new RunResult(false, reason);
    }
}
