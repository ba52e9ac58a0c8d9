package io.jderper.server.metrics;

import io.prometheus.metrics.model.registry.MetricType;
import io.prometheus.metrics.model.registry.MultiCollector;
import io.prometheus.metrics.model.snapshots.ClassicHistogramBuckets;
import io.prometheus.metrics.model.snapshots.CounterSnapshot;
import io.prometheus.metrics.model.snapshots.GaugeSnapshot;
import io.prometheus.metrics.model.snapshots.HistogramSnapshot;
import io.prometheus.metrics.model.snapshots.InfoSnapshot;
import io.prometheus.metrics.model.snapshots.Labels;
import io.prometheus.metrics.model.snapshots.MetricFamilyDescriptor;
import io.prometheus.metrics.model.snapshots.MetricMetadata;
import io.prometheus.metrics.model.snapshots.MetricSnapshot;
import io.prometheus.metrics.model.snapshots.MetricSnapshots;

import java.util.ArrayList;
import java.util.List;

/**
 * Serves the relay's {@link MetricFamily families} to the Prometheus library, which writes them as Prometheus text
 * or OpenMetrics. Every value is read when scraped: nothing is incremented per packet on the library's side. The
 * library names a counter {@code <name>_total} in both formats; {@code /debug/varz} keeps derper's bare names.
 */
final class RelayCollector implements MultiCollector
{
    private final List<MetricFamily> families;

    /**
     * @param families what to export.
     */
    RelayCollector(final List<MetricFamily> families)
    {
        this.families = List.copyOf(families);
    }

    @Override
    public MetricSnapshots collect()
    {
        final List<MetricSnapshot> snapshots = new ArrayList<>(families.size());
        for (final MetricFamily family : families)
        {
            snapshots.add(snapshot(family));
        }
        return new MetricSnapshots(snapshots);
    }

    @Override
    public List<MetricFamilyDescriptor> getMetricFamilyDescriptors()
    {
        // Lets the registry refuse another collector (the JVM metrics) that would export the same names.
        return families.stream().map(RelayCollector::descriptor).toList();
    }

    private static MetricFamilyDescriptor descriptor(final MetricFamily family)
    {
        final MetricMetadata metadata = new MetricMetadata(family.name(), family.help());
        return switch (family)
        {
            case final MetricFamily.Scalar scalar -> MetricFamilyDescriptor.of(
                scalar.counter() ? MetricType.COUNTER : MetricType.GAUGE, metadata, scalar.labelNames());
            case final MetricFamily.Histogram histogram -> MetricFamilyDescriptor.of(MetricType.HISTOGRAM, metadata);
            case final MetricFamily.Info info -> MetricFamilyDescriptor.of(MetricType.INFO, metadata,
                info.labelNames());
        };
    }

    private static MetricSnapshot snapshot(final MetricFamily family)
    {
        return switch (family)
        {
            case final MetricFamily.Scalar scalar when scalar.counter() -> counter(scalar);
            case final MetricFamily.Scalar scalar -> gauge(scalar);
            case final MetricFamily.Histogram histogram -> histogram(histogram);
            case final MetricFamily.Info info -> InfoSnapshot.builder().name(info.name()).help(info.help())
                .dataPoint(InfoSnapshot.InfoDataPointSnapshot.builder()
                    .labels(Labels.of(info.labelNames(), info.labelValues())).build())
                .build();
        };
    }

    private static CounterSnapshot counter(final MetricFamily.Scalar family)
    {
        final CounterSnapshot.Builder builder = CounterSnapshot.builder().name(family.name()).help(family.help());
        for (final MetricFamily.Series series : family.series())
        {
            builder.dataPoint(CounterSnapshot.CounterDataPointSnapshot.builder()
                .labels(Labels.of(family.labelNames(), series.labelValues()))
                .value(series.value().getAsLong()).build());
        }
        return builder.build();
    }

    private static GaugeSnapshot gauge(final MetricFamily.Scalar family)
    {
        final GaugeSnapshot.Builder builder = GaugeSnapshot.builder().name(family.name()).help(family.help());
        for (final MetricFamily.Series series : family.series())
        {
            builder.dataPoint(GaugeSnapshot.GaugeDataPointSnapshot.builder()
                .labels(Labels.of(family.labelNames(), series.labelValues()))
                .value(series.value().getAsLong()).build());
        }
        return builder.build();
    }

    private static HistogramSnapshot histogram(final MetricFamily.Histogram family)
    {
        final int buckets = family.counts().bucketCount();
        final double[] upperBounds = new double[buckets];
        final long[] counts = new long[buckets];
        for (int i = 0; i < buckets; i++)
        {
            upperBounds[i] = i < buckets - 1 ? family.counts().upperBound(i) / family.divisor() :
                Double.POSITIVE_INFINITY;
            counts[i] = family.counts().count(i);
        }
        return HistogramSnapshot.builder().name(family.name()).help(family.help())
            .dataPoint(HistogramSnapshot.HistogramDataPointSnapshot.builder()
                .classicHistogramBuckets(ClassicHistogramBuckets.of(upperBounds, counts))
                .sum(family.counts().sum() / family.divisor()).build())
            .build();
    }
}
