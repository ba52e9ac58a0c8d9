package io.jderper.core.log;

import java.util.concurrent.TimeUnit;

/**
 * One {@link LogBudget} per category of an enum: a flood of one kind of error (a scanner's garbage, say) uses up only
 * its own lines, so the first line of every other kind still reaches the log.
 *
 * @param <E> the categories.
 */
public final class CategoryLogBudget<E extends Enum<E>>
{
    private final LogBudget[] budgets;

    /**
     * @param categories     the enum whose constants are the categories.
     * @param linesPerPeriod lines logged per period at most, for each category.
     * @param period         the period.
     * @param unit           its unit.
     */
    public CategoryLogBudget(final Class<E> categories, final int linesPerPeriod, final long period,
        final TimeUnit unit)
    {
        final int count = categories.getEnumConstants().length;
        budgets = new LogBudget[count];
        for (int i = 0; i < count; i++)
        {
            budgets[i] = new LogBudget(linesPerPeriod, period, unit);
        }
    }

    /**
     * Takes one line from the category's budget.
     *
     * @param category the line's category.
     * @return as {@link LogBudget#take()}: -1 if the line must not be logged, else how many of the category were
     * skipped since the last one logged.
     */
    public long take(final E category)
    {
        return budgets[category.ordinal()].take();
    }
}
