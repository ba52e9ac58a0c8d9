package io.jderper.server.metrics;

import io.jderper.core.router.BucketCounts;

import java.util.List;
import java.util.function.LongSupplier;

/**
 * One exported metric family, read at scrape time from counters the relay keeps anyway. Both endpoints are written
 * from the same families: {@code /metrics} through the Prometheus library, {@code /debug/varz} under derper's exact
 * names.
 */
public sealed interface MetricFamily
{
    /**
     * @return the family's name as derper spells it (for a counter: without {@code _total}).
     */
    String name();

    /**
     * @return what it measures.
     */
    String help();

    /**
     * A counter or gauge with a fixed set of label values.
     *
     * @param name       the name.
     * @param help       what it measures.
     * @param counter    true for a counter, false for a gauge.
     * @param labelNames label names, in derper's order; empty for a single series.
     * @param series     every series, created whether or not it has counted anything yet (as derper pre-creates
     *                   its drop counters).
     */
    record Scalar(String name, String help, boolean counter, List<String> labelNames, List<Series> series)
        implements MetricFamily
    {
        /**
         * @param name       the name.
         * @param help       what it measures.
         * @param counter    true for a counter.
         * @param labelNames label names.
         * @param series     every series.
         */
        public Scalar
        {
            labelNames = List.copyOf(labelNames);
            series = List.copyOf(series);
            for (final Series each : series)
            {
                if (each.labelValues().size() != labelNames.size())
                {
                    throw new IllegalArgumentException(name + ": labelValues=" + each.labelValues() +
                        " do not match labelNames=" + labelNames);
                }
            }
        }
    }

    /**
     * One series of a {@link Scalar}.
     *
     * @param labelValues values of the family's labels, in the same order.
     * @param value       read at each scrape.
     */
    record Series(List<String> labelValues, LongSupplier value)
    {
        /**
         * @param labelValues label values.
         * @param value       the reader.
         */
        public Series
        {
            labelValues = List.copyOf(labelValues);
        }
    }

    /**
     * A classic histogram over {@link BucketCounts}.
     *
     * @param name    the name, with its unit.
     * @param help    what it measures.
     * @param counts  the buckets.
     * @param divisor counted units per exported unit (1e9 for nanoseconds exported as seconds; a division, not a
     *                multiplication by 1e-9, so that round bounds print round).
     */
    record Histogram(String name, String help, BucketCounts counts, double divisor) implements MetricFamily
    {
    }

    /**
     * A constant series of labels with the value 1 (an OpenMetrics info metric).
     *
     * @param name        the name, without {@code _info}.
     * @param help        what it describes.
     * @param labelNames  label names.
     * @param labelValues their values, in the same order.
     */
    record Info(String name, String help, List<String> labelNames, List<String> labelValues) implements MetricFamily
    {
        /**
         * @param name        the name.
         * @param help        what it describes.
         * @param labelNames  label names.
         * @param labelValues their values.
         */
        public Info
        {
            labelNames = List.copyOf(labelNames);
            labelValues = List.copyOf(labelValues);
            if (labelNames.size() != labelValues.size())
            {
                throw new IllegalArgumentException(name + ": labelValues=" + labelValues + " do not match labelNames=" +
                    labelNames);
            }
        }
    }
}
