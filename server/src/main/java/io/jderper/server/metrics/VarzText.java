package io.jderper.server.metrics;

import java.util.List;

/**
 * derper's {@code /debug/varz}: Prometheus text under derper's exact names (counters without {@code _total}), so
 * that dashboards and alerts written against derper read jderper unchanged.
 */
final class VarzText
{
    private VarzText()
    {
    }

    /**
     * @param families what to write.
     * @return the page.
     */
    static String render(final List<MetricFamily> families)
    {
        final StringBuilder out = new StringBuilder(16_384);
        for (final MetricFamily family : families)
        {
            switch (family)
            {
                case final MetricFamily.Scalar scalar ->
                {
                    type(out, scalar.name(), scalar.counter() ? "counter" : "gauge");
                    for (final MetricFamily.Series series : scalar.series())
                    {
                        out.append(scalar.name());
                        labels(out, scalar.labelNames(), series.labelValues());
                        out.append(' ').append(series.value().getAsLong()).append('\n');
                    }
                }
                case final MetricFamily.Histogram histogram -> histogram(out, histogram);
                case final MetricFamily.Info info ->
                {
                    type(out, info.name() + "_info", "gauge");
                    out.append(info.name()).append("_info");
                    labels(out, info.labelNames(), info.labelValues());
                    out.append(" 1\n");
                }
            }
        }
        return out.toString();
    }

    private static void histogram(final StringBuilder out, final MetricFamily.Histogram family)
    {
        type(out, family.name(), "histogram");
        final int buckets = family.counts().bucketCount();
        long cumulative = 0;
        for (int i = 0; i < buckets; i++)
        {
            cumulative += family.counts().count(i);
            final String bound = i < buckets - 1 ? number(family.counts().upperBound(i) / family.divisor()) : "+Inf";
            out.append(family.name()).append("_bucket{le=\"").append(bound).append("\"} ").append(cumulative)
                .append('\n');
        }
        out.append(family.name()).append("_sum ").append(number(family.counts().sum() / family.divisor())).append('\n');
        out.append(family.name()).append("_count ").append(cumulative).append('\n');
    }

    private static void type(final StringBuilder out, final String name, final String type)
    {
        out.append("# TYPE ").append(name).append(' ').append(type).append('\n');
    }

    private static void labels(final StringBuilder out, final List<String> names, final List<String> values)
    {
        if (names.isEmpty())
        {
            return;
        }
        out.append('{');
        for (int i = 0; i < names.size(); i++)
        {
            if (i > 0)
            {
                out.append(',');
            }
            out.append(names.get(i)).append("=\"");
            escape(out, values.get(i));
            out.append('"');
        }
        out.append('}');
    }

    /** Prometheus text escaping of a label value: backslash, double quote and line feed. */
    private static void escape(final StringBuilder out, final String value)
    {
        for (int i = 0; i < value.length(); i++)
        {
            final char c = value.charAt(i);
            switch (c)
            {
                case '\\' -> out.append("\\\\");
                case '"' -> out.append("\\\"");
                case '\n' -> out.append("\\n");
                default -> out.append(c);
            }
        }
    }

    /** Whole numbers without a fraction, as derper writes its integer-valued bounds; others in shortest form. */
    private static String number(final double value)
    {
        return value == Math.rint(value) && Math.abs(value) < 1e15 ? Long.toString((long)value) :
            Double.toString(value);
    }
}
