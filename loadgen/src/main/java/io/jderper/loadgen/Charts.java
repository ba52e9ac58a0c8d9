package io.jderper.loadgen;

import org.HdrHistogram.Histogram;
import org.HdrHistogram.HistogramIterationValue;
import org.knowm.xchart.BitmapEncoder;
import org.knowm.xchart.XYChart;
import org.knowm.xchart.XYChartBuilder;
import org.knowm.xchart.XYSeries;
import org.knowm.xchart.style.Styler;
import org.knowm.xchart.style.XYStyler;
import org.knowm.xchart.style.markers.SeriesMarkers;

import java.io.IOException;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * The PNG charts, drawn headless with XChart.
 */
final class Charts
{
    static final int WIDTH = 1000;
    static final int HEIGHT = 600;
    /** The percentile axis ends at 99.9999%. */
    static final double MAX_X = 1e6;
    private static final int TICKS_PER_HALF_DISTANCE = 5;
    private static final String X_TITLE =
        "percentile: 0 = 0%, 1 = 90%, 2 = 99%, 3 = 99.9%, 4 = 99.99%, 5 = 99.999%, 6 = 99.9999%";

    static
    {
        System.setProperty("java.awt.headless", "true");
    }

    private Charts()
    {
    }

    /**
     * The percentile distribution of each non-empty histogram: x is {@code log10(1/(1-p))} (labelled as
     * percentiles: 90%, 99%, 99.9%...), y the value in microseconds on a log axis.
     *
     * @param histograms name to histogram; values in {@code unitsPerMicro} units per microsecond.
     * @param unitsPer   for each name, the histogram units in one microsecond (1000 for nanoseconds).
     * @param file       where to write the PNG.
     * @throws IOException if it cannot be written.
     */
    static void percentiles(final Map<String, Histogram> histograms, final Map<String, Double> unitsPer,
        final Path file) throws IOException
    {
        final XYChart chart = new XYChartBuilder().width(WIDTH).height(HEIGHT)
            .title("Latency by percentile").xAxisTitle(X_TITLE).yAxisTitle("microseconds").build();
        final XYStyler styler = chart.getStyler();
        styler.setLegendPosition(Styler.LegendPosition.InsideNW);
        // x is log10(1/(1-p)) on a linear axis: 1 is 90%, 2 is 99%. (XChart 3.8.8 places a log axis's ticks
        // linearly once it has a label function, and its label-function tick search can spin: no label function.)
        styler.setYAxisLogarithmic(true);
        styler.setYAxisLogarithmicDecadeOnly(true);
        styler.setXAxisMin(0.0);
        styler.setXAxisMax(Math.log10(MAX_X));
        styler.setXAxisDecimalPattern("0");
        boolean any = false;
        for (final Map.Entry<String, Histogram> entry : histograms.entrySet())
        {
            final Histogram histogram = entry.getValue();
            if (histogram.getTotalCount() == 0)
            {
                continue;
            }
            final double per = unitsPer.getOrDefault(entry.getKey(), 1.0);
            final List<Double> x = new ArrayList<>();
            final List<Double> y = new ArrayList<>();
            for (final HistogramIterationValue v : histogram.percentiles(TICKS_PER_HALF_DISTANCE))
            {
                final double p = v.getPercentileLevelIteratedTo() / 100.0;
                final double at = p >= 1 ? MAX_X : Math.min(MAX_X, 1 / (1 - p));
                x.add(Math.log10(at));
                y.add(Math.max(0.1, histogram.highestEquivalentValue(v.getValueIteratedTo()) / per));
                if (p >= 1 || at >= MAX_X)
                {
                    break;
                }
            }
            final XYSeries series = chart.addSeries(entry.getKey() + " (n=" + histogram.getTotalCount() + ")", x, y);
            series.setMarker(SeriesMarkers.NONE);
            any = true;
        }
        if (!any)
        {
            chart.setTitle("Latency by percentile: nothing was measured");
            chart.addSeries("none", new double[] {0, 1}, new double[] {1, 1}).setMarker(SeriesMarkers.NONE);
        }
        save(chart, file);
    }

    /**
     * Delivered packets (or STUN replies) per second over the run, and handshakes per second on a second axis when
     * there were any besides the connect phase's.
     *
     * @param timeline   the readings.
     * @param what       what the delivered count counts, per second, e.g. {@code delivered packets/s}.
     * @param handshakes whether to draw the handshake rate.
     * @param file       where to write the PNG.
     * @throws IOException if it cannot be written.
     */
    static void throughput(final Timeline timeline, final String what, final boolean handshakes, final Path file)
        throws IOException
    {
        final XYChart chart = new XYChartBuilder().width(WIDTH).height(HEIGHT)
            .title("Throughput").xAxisTitle("seconds since start").yAxisTitle(what).build();
        chart.getStyler().setLegendPosition(Styler.LegendPosition.InsideNW);
        double[][] delivered = timeline.deliveredRate();
        if (delivered[0].length == 0)
        {
            delivered = new double[][] {{0}, {0}};
        }
        chart.addSeries(what, delivered[0], delivered[1]).setMarker(SeriesMarkers.NONE);
        if (handshakes)
        {
            final double[][] rate = timeline.handshakeRate();
            if (rate[0].length > 0)
            {
                final XYSeries series = chart.addSeries("handshakes/s", rate[0], rate[1]);
                series.setMarker(SeriesMarkers.NONE);
                series.setYAxisGroup(1);
                chart.setYAxisGroupTitle(1, "handshakes/s");
            }
        }
        save(chart, file);
    }

    private static void save(final XYChart chart, final Path file) throws IOException
    {
        try (OutputStream stream = Files.newOutputStream(file))
        {
            BitmapEncoder.saveBitmap(chart, stream, BitmapEncoder.BitmapFormat.PNG);
        }
    }
}
