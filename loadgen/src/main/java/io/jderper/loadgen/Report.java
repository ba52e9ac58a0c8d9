package io.jderper.loadgen;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import org.HdrHistogram.Histogram;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.FutureTask;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/**
 * The results of a run: {@code summary.json}, {@code latency.png}, {@code throughput.png} (the HdrHistogram log,
 * {@code latency.hlog}, is written while the run goes) and the lines printed at the end.
 */
final class Report
{
    static final String SUMMARY_JSON = "summary.json";
    static final String LATENCY_HLOG = "latency.hlog";
    static final String LATENCY_PNG = "latency.png";
    static final String THROUGHPUT_PNG = "throughput.png";
    /** Bound on drawing one chart. */
    static final long CHART_TIMEOUT_S = 60;

    private final LoadRun run;
    private final LoadSettings settings;
    private final Histogram connectUs;
    private final Histogram churnUs;
    private final Histogram pingUs;

    Report(final LoadRun run)
    {
        this.run = run;
        this.settings = run.settings;
        this.connectUs = run.connectUs.getIntervalHistogram();
        this.churnUs = run.churnConnectUs.getIntervalHistogram();
        this.pingUs = run.pingRttUs.getIntervalHistogram();
    }

    /**
     * Writes the summary and the charts.
     *
     * @param result the verdict.
     * @throws IOException if a file cannot be written.
     */
    void write(final RunResult result) throws IOException
    {
        final ObjectMapper mapper = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);
        mapper.writeValue(settings.out().resolve(SUMMARY_JSON).toFile(), summary(result));
        final Map<String, Histogram> histograms = new LinkedHashMap<>();
        final Map<String, Double> units = new LinkedHashMap<>();
        histograms.put("one-way packet latency", run.latencyNs);
        units.put("one-way packet latency", 1000.0);
        histograms.put("connect + handshake", connectUs);
        histograms.put("churn reconnect + handshake", churnUs);
        histograms.put("Ping round trip", pingUs);
        bounded(LATENCY_PNG, () -> Charts.percentiles(histograms, units, settings.out().resolve(LATENCY_PNG)));
        bounded(THROUGHPUT_PNG, () -> Charts.throughput(run.timeline, "delivered packets/s",
            Scenario.CHURN == settings.scenario(), settings.out().resolve(THROUGHPUT_PNG)));
    }

    /**
     * Draws a chart on a daemon thread and waits at most {@link #CHART_TIMEOUT_S}: a charting library's layout
     * search must not hold the run's exit.
     */
    static void bounded(final String name, final ChartWriter writer) throws IOException
    {
        final FutureTask<Void> task = new FutureTask<>(() ->
        {
            writer.write();
            return null;
        });
        final Thread thread = new Thread(task, "loadgen-chart");
        thread.setDaemon(true);
        thread.start();
        try
        {
            task.get(CHART_TIMEOUT_S, TimeUnit.SECONDS);
        }
        catch (final TimeoutException ex)
        {
            task.cancel(true);
            throw new IOException(name + " was not drawn within " + CHART_TIMEOUT_S + " s");
        }
        catch (final ExecutionException ex)
        {
            throw ex.getCause() instanceof IOException io ? io : new IOException("cannot draw " + name + ": " +
                LoadGen.oneLine(ex.getCause()), ex.getCause());
        }
        catch (final InterruptedException ex)
        {
            Thread.currentThread().interrupt();
            throw new IOException("interrupted while drawing " + name, ex);
        }
    }

    /**
     * Writes one chart file.
     */
    @FunctionalInterface
    interface ChartWriter
    {
        void write() throws IOException;
    }

    /**
     * The opening of every summary.json, whatever the scenario: the tool, the command line, the start and the
     * verdict.
     *
     * @param settings  the run's settings.
     * @param startedAt when it started (ISO-8601).
     * @param result    the verdict.
     * @return an ordered map to add the scenario's own sections to.
     */
    static Map<String, Object> header(final LoadSettings settings, final String startedAt, final RunResult result)
    {
        final Map<String, Object> root = new LinkedHashMap<>();
        root.put("tool", "jderper loadgen");
        root.put("version", new LoadGen.Version().getVersion()[0]);
        root.put("commandLine", settings.commandLine());
        root.put("startedAt", startedAt);
        final Map<String, Object> verdict = new LinkedHashMap<>();
        verdict.put("ok", result.ok());
        verdict.put("exitCode", result.ok() ? LoadGen.EXIT_OK : LoadGen.EXIT_FAILED);
        verdict.put("reason", result.reason());
        root.put("result", verdict);
        return root;
    }

    /**
     * @param result the verdict.
     * @return every number of the run, as JSON-ready maps.
     */
    Map<String, Object> summary(final RunResult result)
    {
        final Map<String, Object> root = header(settings, String.valueOf(run.phases.startedAt), result);
        root.put("settings", settingsMap());
        root.put("phases", phasesMap());
        root.put("connect", connectMap());
        root.put("traffic", trafficMap());
        root.put("churn", churnMap());
        root.put("idle", idleMap());
        root.put("errors", errorsMap());
        root.put("loadgen", loadgenMap());
        root.put("server", serverMap());
        root.put("timeSeries", timeSeries());
        return root;
    }

    private Map<String, Object> settingsMap()
    {
        final Map<String, Object> m = new LinkedHashMap<>();
        m.put("url", settings.url().toString());
        m.put("trust", settings.trust().toString());
        m.put("scenario", settings.scenario().cliName());
        m.put("clients", settings.clients());
        m.put("bidirectional", settings.bidirectional());
        m.put("faninSenders", settings.faninSenders());
        m.put("discoFraction", settings.discoFraction());
        m.put("packetSize", settings.packetSize());
        m.put("ratePerSender", settings.ratePerSender());
        m.put("window", settings.window());
        m.put("lossless", settings.lossless());
        m.put("failOnLoss", settings.failOnLoss());
        m.put("durationSeconds", settings.duration().toMillis() / 1000.0);
        m.put("holdSeconds", settings.hold().toMillis() / 1000.0);
        m.put("drainSeconds", settings.drain().toMillis() / 1000.0);
        m.put("connectRate", settings.connectRate());
        m.put("connectConcurrency", settings.connectConcurrency());
        m.put("churnRate", settings.churnRate());
        m.put("churnTraffic", settings.churnTraffic());
        m.put("pingIntervalSeconds", settings.pingInterval().toMillis() / 1000.0);
        m.put("handshakeTimeoutSeconds", settings.handshakeTimeout().toMillis() / 1000.0);
        m.put("sourceAddresses", settings.sourceAddresses().stream().map(a -> a.getHostAddress()).toList());
        m.put("threads", settings.threads());
        m.put("transport", run.transportName);
        m.put("tlsProvider", run.tlsProvider);
        m.put("serverPid", settings.serverPid() > 0 ? settings.serverPid() : null);
        m.put("seed", settings.seed());
        m.put("maxErrorFraction", settings.maxErrorFraction());
        return m;
    }

    private Map<String, Object> phasesMap()
    {
        final LoadRun.Phases p = run.phases;
        final Map<String, Object> m = new LinkedHashMap<>();
        m.put("connectSeconds", p.connectNs / 1e9);
        m.put("scenarioSeconds", scenarioSeconds());
        m.put("drainSeconds", p.drainNs / 1e9);
        m.put("closeSeconds", p.closeNs / 1e9);
        m.put("unclosedConnections", p.unclosed);
        return m;
    }

    private double scenarioSeconds()
    {
        final LoadRun.Phases p = run.phases;
        return p.scenarioEndNs > p.scenarioStartNs ? (p.scenarioEndNs - p.scenarioStartNs) / 1e9 : 0;
    }

    private Map<String, Object> connectMap()
    {
        final Map<String, Object> m = new LinkedHashMap<>();
        m.put("attempted", run.attempts);
        m.put("succeeded", run.connected.get());
        m.put("failed", run.connectFailed.get());
        m.put("unfinished", run.connectUnfinished.get());
        m.put("handshakesPerSecond", run.phases.connectNs > 0 ? run.connected.get() / (run.phases.connectNs / 1e9) :
            0);
        m.put("timeUs", percentiles(connectUs, 1));
        return m;
    }

    private Map<String, Object> trafficMap()
    {
        final Map<String, Object> m = new LinkedHashMap<>();
        final long sent = run.totalSent();
        final long delivered = run.totalDelivered();
        final long gaps = run.sumOf(Flow::gapLost);
        final double seconds = scenarioSeconds();
        m.put("flows", run.flowCount());
        m.put("sent", sent);
        m.put("delivered", delivered);
        m.put("lost", sent - delivered);
        m.put("lostInGaps", gaps);
        m.put("neverArrived", sent - delivered - gaps);
        m.put("duplicates", run.sumOf(Flow::duplicates));
        m.put("malformed", run.malformed());
        m.put("sendFailures", run.sumOf(Flow::sendFailures));
        m.put("stalls", run.sumOf(Flow::stalls));
        m.put("payloadBytesDelivered", delivered * settings.packetSize());
        m.put("packetsPerSecond", seconds > 0 ? delivered / seconds : 0);
        m.put("gbitPerSecond", seconds > 0 ? delivered * (double)settings.packetSize() * 8 / seconds / 1e9 : 0);
        m.put("latencyUs", percentiles(run.latencyNs, 1000));
        return m;
    }

    private Map<String, Object> churnMap()
    {
        final Map<String, Object> m = new LinkedHashMap<>();
        final double seconds = scenarioSeconds();
        m.put("targetPerSecond", Scenario.CHURN == settings.scenario() ? settings.churnRate() : 0);
        m.put("cycles", run.churnCycles);
        m.put("reconnected", run.churnConnected.get());
        m.put("failed", run.churnFailed.get());
        m.put("handshakesPerSecond", seconds > 0 ? run.churnConnected.get() / seconds : 0);
        m.put("pairCycles", run.pairCycles);
        m.put("drainTimeouts", run.churnDrainTimeouts);
        m.put("unfinishedPairCycles", run.churnUnfinished);
        m.put("connectTimeUs", percentiles(churnUs, 1));
        return m;
    }

    private Map<String, Object> idleMap()
    {
        final Map<String, Object> m = new LinkedHashMap<>();
        m.put("pings", run.pings.get());
        m.put("pongs", run.pongs.get());
        m.put("pingTimeouts", run.pingTimeouts.get());
        m.put("rttUs", percentiles(pingUs, 1));
        return m;
    }

    private Map<String, Object> errorsMap()
    {
        final Map<String, Object> m = new LinkedHashMap<>();
        final long attempts = run.attempts + run.churnCycles;
        final long errors = run.errorCount();
        m.put("connectFailed", run.connectFailed.get());
        m.put("connectUnfinished", run.connectUnfinished.get());
        m.put("churnFailed", run.churnFailed.get());
        m.put("lostConnections", run.lostConnections.get());
        m.put("pingTimeouts", run.pingTimeouts.get());
        m.put("churnUnfinished", run.churnUnfinished);
        m.put("total", errors);
        m.put("connectionAttempts", attempts);
        m.put("fraction", attempts > 0 ? (double)errors / attempts : 0);
        m.put("reasons", run.reasons());
        return m;
    }

    private Map<String, Object> loadgenMap()
    {
        final Map<String, Object> m = new LinkedHashMap<>();
        final LoadRun.Phases.Mark start = run.phases.get("start");
        final LoadRun.Phases.Mark connected = run.phases.get("connected");
        final LoadRun.Phases.Mark end = run.phases.get("scenario-end");
        m.put("cpuSeconds", run.loadgenCpu());
        m.put("cpuSecondsConnect", null != start && null != connected ? connected.loadgenCpu() - start.loadgenCpu() :
            null);
        m.put("cpuSecondsScenario", null != connected && null != end ? end.loadgenCpu() - connected.loadgenCpu() :
            null);
        final ProcessSampler.Sample self = run.self.sample();
        m.put("rssKiB", null != self ? self.rssKiB() : null);
        m.put("heapMaxMiB", Runtime.getRuntime().maxMemory() >> 20);
        m.put("openFilesMax", run.fileLimit.maxOpen());
        m.put("openFileLimit", run.fileLimit.limit());
        m.put("outOfFiles", run.fileLimit.exhaustions() > 0 || run.fileLimit.reachedLimit());
        m.put("threads", settings.threads());
        return m;
    }

    private Map<String, Object> serverMap()
    {
        final Map<String, Object> m = new LinkedHashMap<>();
        if (settings.serverPid() <= 0)
        {
            m.put("pid", null);
            return m;
        }
        final ProcessSampler.Sample start = server("start");
        final ProcessSampler.Sample connected = server("connected");
        final ProcessSampler.Sample end = server("scenario-end");
        final ProcessSampler.Sample closed = server("closed");
        m.put("pid", settings.serverPid());
        m.put("clockTicksPerSecond", ProcessSampler.clockTicks());
        final Double connectCpu = cpuBetween(start, connected);
        final Double scenarioCpu = cpuBetween(connected, end);
        m.put("cpuSecondsTotal", cpuBetween(start, closed));
        m.put("cpuSecondsConnect", connectCpu);
        m.put("cpuSecondsScenario", scenarioCpu);
        m.put("cpuMsPerHandshake", null != connectCpu && run.connected.get() > 0 ?
            connectCpu * 1000 / run.connected.get() : null);
        m.put("cpuMsPerChurnHandshake", null != scenarioCpu && run.churnConnected.get() > 0 ?
            scenarioCpu * 1000 / run.churnConnected.get() : null);
        final long delivered = run.totalDelivered();
        m.put("cpuSecondsPerMillionPackets", null != scenarioCpu && delivered > 0 ?
            scenarioCpu * 1e6 / delivered : null);
        m.put("rssKiBStart", null != start ? start.rssKiB() : null);
        m.put("rssKiBConnected", null != connected ? connected.rssKiB() : null);
        m.put("rssKiBEnd", null != end ? end.rssKiB() : null);
        m.put("rssKiBAfterClose", null != closed ? closed.rssKiB() : null);
        long max = -1;
        for (final Timeline.Point p : run.timeline.points())
        {
            max = Math.max(max, p.serverRssKiB());
        }
        for (final ProcessSampler.Sample s : new ProcessSampler.Sample[] {start, connected, end, closed})
        {
            if (null != s)
            {
                max = Math.max(max, s.rssKiB());
            }
        }
        m.put("rssKiBMax", max >= 0 ? max : null);
        m.put("rssKiBPerClient", null != start && null != connected && run.connected.get() > 0 ?
            (double)(connected.rssKiB() - start.rssKiB()) / run.connected.get() : null);
        return m;
    }

    private ProcessSampler.Sample server(final String mark)
    {
        final LoadRun.Phases.Mark found = run.phases.get(mark);
        return null == found ? null : found.server();
    }

    private static Double cpuBetween(final ProcessSampler.Sample a, final ProcessSampler.Sample b)
    {
        return null == a || null == b ? null : b.cpuSeconds() - a.cpuSeconds();
    }

    private List<Map<String, Object>> timeSeries()
    {
        final List<Map<String, Object>> series = new ArrayList<>();
        Timeline.Point previous = null;
        for (final Timeline.Point p : run.timeline.points())
        {
            final Map<String, Object> m = new LinkedHashMap<>();
            m.put("t", Math.round(p.seconds() * 1000) / 1000.0);
            m.put("phase", p.phase());
            final double dt = null == previous ? 0 : Math.max(1e-3, p.seconds() - previous.seconds());
            m.put("sentPerSecond", null == previous ? 0 : Math.round((p.sent() - previous.sent()) / dt));
            m.put("deliveredPerSecond", null == previous ? 0 :
                Math.round((p.delivered() - previous.delivered()) / dt));
            m.put("handshakesPerSecond", null == previous ? 0 :
                Math.round((p.handshakes() - previous.handshakes()) / dt));
            m.put("connected", p.connected());
            m.put("serverCpuCores", null == previous || Double.isNaN(p.serverCpu()) ||
                Double.isNaN(previous.serverCpu()) ? null : round3((p.serverCpu() - previous.serverCpu()) / dt));
            m.put("serverRssKiB", p.serverRssKiB() >= 0 ? p.serverRssKiB() : null);
            m.put("loadgenCpuCores", null == previous ? null : round3((p.loadgenCpu() - previous.loadgenCpu()) / dt));
            series.add(m);
            previous = p;
        }
        return series;
    }

    private static double round3(final double value)
    {
        return Math.round(value * 1000) / 1000.0;
    }

    /**
     * @param histogram   values in some unit.
     * @param unitsPerOut histogram units in one output unit (1000 for nanoseconds to microseconds).
     * @return count, mean and p50/p90/p99/p99.9/max in the output unit.
     */
    static Map<String, Object> percentiles(final Histogram histogram, final double unitsPerOut)
    {
        final Map<String, Object> m = new LinkedHashMap<>();
        final long count = histogram.getTotalCount();
        m.put("count", count);
        if (0 == count)
        {
            return m;
        }
        m.put("min", round1(histogram.getMinValue() / unitsPerOut));
        m.put("mean", round1(histogram.getMean() / unitsPerOut));
        m.put("p50", round1(histogram.getValueAtPercentile(50) / unitsPerOut));
        m.put("p90", round1(histogram.getValueAtPercentile(90) / unitsPerOut));
        m.put("p99", round1(histogram.getValueAtPercentile(99) / unitsPerOut));
        m.put("p99_9", round1(histogram.getValueAtPercentile(99.9) / unitsPerOut));
        m.put("max", round1(histogram.getMaxValue() / unitsPerOut));
        return m;
    }

    private static double round1(final double value)
    {
        return Math.round(value * 10) / 10.0;
    }

    /**
     * @param result the verdict.
     * @return the lines printed at the end of a run.
     */
    String consoleSummary(final RunResult result)
    {
        final StringBuilder text = new StringBuilder();
        text.append(String.format("loadgen: %s, %d clients: connected %d/%d in %.2f s, connect p50 %s p99 %s max %s%n",
            settings.scenario().cliName(), settings.clients(), run.connected.get(), run.attempts,
            run.phases.connectNs / 1e9, micros(connectUs, 50), micros(connectUs, 99), micros(connectUs, 100)));
        final double seconds = scenarioSeconds();
        if (settings.hasTraffic())
        {
            final long sent = run.totalSent();
            final long delivered = run.totalDelivered();
            text.append(String.format("loadgen: sent %d, delivered %d, lost %d; %.0f pkt/s, %.3f Gbit/s; latency " +
                    "p50 %s p90 %s p99 %s p99.9 %s max %s; stalls %d%n", sent, delivered, sent - delivered,
                delivered / Math.max(1e-9, seconds), delivered * (double)settings.packetSize() * 8 / seconds / 1e9,
                nanos(run.latencyNs, 50), nanos(run.latencyNs, 90), nanos(run.latencyNs, 99),
                nanos(run.latencyNs, 99.9), nanos(run.latencyNs, 100), run.sumOf(Flow::stalls)));
        }
        if (Scenario.CHURN == settings.scenario())
        {
            text.append(String.format("loadgen: churn %d cycles, %d reconnected (%.1f handshakes/s, target %.1f), " +
                    "reconnect p50 %s p99 %s%n", run.churnCycles, run.churnConnected.get(),
                run.churnConnected.get() / Math.max(1e-9, seconds), settings.churnRate(), micros(churnUs, 50),
                micros(churnUs, 99)));
        }
        if (Scenario.IDLE == settings.scenario())
        {
            text.append(String.format("loadgen: held %.0f s: %d Pings, %d Pongs, %d unanswered, rtt p50 %s p99 %s%n",
                seconds, run.pings.get(), run.pongs.get(), run.pingTimeouts.get(), micros(pingUs, 50),
                micros(pingUs, 99)));
        }
        final Map<String, Object> server = serverMap();
        if (null != server.get("pid"))
        {
            text.append(String.format("loadgen: server cpu %.2f s connect (%s ms/handshake), %.2f s scenario (%s " +
                    "s per million packets), rss %s MiB max (%s MiB after connect)%n",
                orZero(server.get("cpuSecondsConnect")), fmt(server.get("cpuMsPerHandshake")),
                orZero(server.get("cpuSecondsScenario")), fmt(server.get("cpuSecondsPerMillionPackets")),
                mib(server.get("rssKiBMax")), mib(server.get("rssKiBConnected"))));
        }
        text.append(String.format("loadgen: errors %d; loadgen cpu %.2f s; results in %s%n", run.errorCount(),
            run.loadgenCpu(), settings.out()));
        // A failure's reason goes to standard error, once.
        text.append(result.ok() ? "loadgen: OK" : "loadgen: FAILED (reason on standard error)");
        return text.toString();
    }

    private static String micros(final Histogram h, final double percentile)
    {
        if (0 == h.getTotalCount())
        {
            return "-";
        }
        return human(h.getValueAtPercentile(percentile) * 1000.0);
    }

    private static String nanos(final Histogram h, final double percentile)
    {
        if (0 == h.getTotalCount())
        {
            return "-";
        }
        return human(h.getValueAtPercentile(percentile));
    }

    private static String human(final double ns)
    {
        if (ns < 1e6)
        {
            return String.format("%.0fus", ns / 1e3);
        }
        if (ns < 1e9)
        {
            return String.format("%.2fms", ns / 1e6);
        }
        return String.format("%.2fs", ns / 1e9);
    }

    private static double orZero(final Object value)
    {
        return value instanceof Number n ? n.doubleValue() : 0;
    }

    private static String fmt(final Object value)
    {
        return value instanceof Number n ? String.format("%.3f", n.doubleValue()) : "-";
    }

    private static String mib(final Object kib)
    {
        return kib instanceof Number n ? Long.toString(n.longValue() / 1024) : "-";
    }
}
