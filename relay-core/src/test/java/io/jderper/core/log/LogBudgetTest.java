package io.jderper.core.log;

import org.junit.jupiter.api.Test;

import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;

class LogBudgetTest
{
    @Test
    void shouldLetThroughTheBudgetThenCountWhatItHolds()
    {
        final LogBudget budget = new LogBudget(3, 1, TimeUnit.DAYS);
        assertThat(budget.take()).isZero();
        assertThat(budget.take()).isZero();
        assertThat(budget.take()).isZero();
        assertThat(budget.take()).isEqualTo(-1);
        assertThat(budget.take()).isEqualTo(-1);
        assertThat(LogBudget.skippedNote(2)).isEqualTo(" (and 2 more like it not logged)");
        assertThat(LogBudget.skippedNote(0)).isEmpty();
    }

    @Test
    void shouldReportTheSkippedLinesWithTheFirstLineOfTheNextPeriod()
    {
        final LogBudget budget = new LogBudget(1, 1, TimeUnit.NANOSECONDS);
        // Each take starts a new period (a nanosecond has passed), so every line is logged; nothing was skipped.
        assertThat(budget.take()).isZero();
        final LogBudget tight = new LogBudget(1, 200, TimeUnit.MILLISECONDS);
        assertThat(tight.take()).isZero();
        assertThat(tight.take()).isEqualTo(-1);
        assertThat(tight.take()).isEqualTo(-1);
        final long start = System.nanoTime();
        long result = -1;
        while (-1 == result && System.nanoTime() - start < TimeUnit.SECONDS.toNanos(5))
        {
            result = tight.take();
        }
        assertThat(result).as("the skipped lines, reported once the period turned").isGreaterThanOrEqualTo(2);
    }

    @Test
    void shouldKeepEachCategorysLinesApart()
    {
        final CategoryLogBudget<TimeUnit> budget = new CategoryLogBudget<>(TimeUnit.class, 2, 1, TimeUnit.DAYS);
        assertThat(budget.take(TimeUnit.SECONDS)).isZero();
        assertThat(budget.take(TimeUnit.SECONDS)).isZero();
        assertThat(budget.take(TimeUnit.SECONDS)).as("the flooded category's budget is spent").isEqualTo(-1);

        assertThat(budget.take(TimeUnit.MINUTES)).as("another category still logs").isZero();
        assertThat(budget.take(TimeUnit.MINUTES)).isZero();
        assertThat(budget.take(TimeUnit.MINUTES)).isEqualTo(-1);
    }
}
