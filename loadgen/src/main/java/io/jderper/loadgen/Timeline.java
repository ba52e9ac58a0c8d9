package io.jderper.loadgen;

import java.util.ArrayList;
import java.util.List;

/**
 * One reading a second for the whole run: cumulative counters and process readings, from which the charts and the
 * summary's time series take rates.
 */
final class Timeline
{
    /**
     * One reading.
     *
     * @param seconds       since the run started.
     * @param phase         connect, hold, idle, traffic, churn, drain, close.
     * @param sent          packets sent so far.
     * @param delivered     packets delivered so far.
     * @param handshakes    handshakes completed so far (connect and churn).
     * @param connected     connections ready now.
     * @param serverCpu     the server's CPU seconds so far, or NaN.
     * @param serverRssKiB  the server's RSS, or -1.
     * @param loadgenCpu    this process's CPU seconds so far.
     */
    record Point(
        double seconds, String phase, long sent, long delivered, long handshakes, long connected, double serverCpu,
        long serverRssKiB, double loadgenCpu)
    {
    }

    private final List<Point> points = new ArrayList<>();

    void add(final Point point)
    {
        points.add(point);
    }

    List<Point> points()
    {
        return points;
    }

    /**
     * @return delivered packets per second between consecutive readings, at the later reading's time.
     */
    double[][] deliveredRate()
    {
        return rate(true);
    }

    /**
     * @return handshakes per second between consecutive readings, at the later reading's time.
     */
    double[][] handshakeRate()
    {
        return rate(false);
    }

    private double[][] rate(final boolean delivered)
    {
        final int n = Math.max(0, points.size() - 1);
        final double[] x = new double[n];
        final double[] y = new double[n];
        for (int i = 0; i < n; i++)
        {
            final Point a = points.get(i);
            final Point b = points.get(i + 1);
            final double dt = Math.max(1e-3, b.seconds() - a.seconds());
            x[i] = b.seconds();
            y[i] = (delivered ? b.delivered() - a.delivered() : b.handshakes() - a.handshakes()) / dt;
        }
        return new double[][] {x, y};
    }
}
