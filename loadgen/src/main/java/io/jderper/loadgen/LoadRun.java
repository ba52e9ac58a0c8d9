package io.jderper.loadgen;

import io.jderper.core.key.NodePrivateKey;
import io.jderper.tls.TlsProvider;
import io.jderper.transport.client.DerpClientOptions;
import io.jderper.transport.client.DerpClients;
import io.jderper.transport.io.OpenFileLimit;
import io.netty.channel.EventLoop;
import io.netty.channel.EventLoopGroup;
import io.netty.util.concurrent.EventExecutor;
import org.HdrHistogram.Histogram;
import org.HdrHistogram.HistogramLogWriter;
import org.HdrHistogram.Recorder;

import java.io.IOException;
import java.io.PrintStream;
import java.lang.management.ManagementFactory;
import java.net.InetAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.time.Instant;
import java.util.ArrayList;
import java.util.IdentityHashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.LongAdder;
import java.util.concurrent.locks.LockSupport;
import java.util.function.ToLongFunction;

/**
 * One load run: connect every peer, run the scenario, drain, close, report. The calling thread is the controller:
 * it paces connects and churn, sends idle Pings, and once a second takes a reading (counters, latency interval,
 * /proc) for the progress display, the time series and the HdrHistogram log. Everything else runs on the event
 * loops, reported through {@link Swarm}.
 *
 * <p>Every wait is bounded: the connect phase by the handshake timeout per connection and an abort when most
 * attempts fail, the scenario by {@code --duration}, the drain by {@code --drain}, the close by
 * {@link #CLOSE_WAIT_NS}.
 */
final class LoadRun implements Swarm
{
    static final long SECOND_NS = 1_000_000_000L;
    /** How long the close phase waits for every connection to report its end. */
    static final long CLOSE_WAIT_NS = 10 * SECOND_NS;
    /** How long a Ping may go unanswered. */
    static final long PING_TIMEOUT_NS = 5 * SECOND_NS;
    /** Failure reasons kept (distinct texts). */
    static final int MAX_REASONS = 20;
    /** The ramp stops when this many attempts failed and they are over half of all attempts. */
    static final int ABORT_AFTER_FAILURES = 100;
    private static final long CONTROLLER_SLEEP_NS = 5_000_000L;

    final LoadSettings settings;
    private final PrintStream out;
    private final Semaphore permits;
    private final AtomicInteger openClients = new AtomicInteger();
    private final AtomicInteger churnInFlight = new AtomicInteger();
    private final Map<String, LongAdder> reasons = new ConcurrentHashMap<>();

    final Recorder connectUs = new Recorder(3);
    final Recorder churnConnectUs = new Recorder(3);
    final Recorder pingRttUs = new Recorder(3);
    final Histogram latencyNs = new Histogram(3);
    final Timeline timeline = new Timeline();
    final AtomicLong connected = new AtomicLong();
    final AtomicLong connectFailed = new AtomicLong();
    final AtomicLong connectUnfinished = new AtomicLong();
    final AtomicLong churnConnected = new AtomicLong();
    final AtomicLong churnFailed = new AtomicLong();
    final AtomicLong lostConnections = new AtomicLong();
    final AtomicLong pings = new AtomicLong();
    final AtomicLong pongs = new AtomicLong();
    final AtomicLong pingTimeouts = new AtomicLong();
    final Phases phases = new Phases();

    private EventLoopGroup group;
    private DerpClients clients;
    private Map<EventExecutor, LoopContext> loops;
    private List<LoopContext> loopList;
    Peer[] peers;
    private volatile Traffic traffic;
    private volatile boolean tearingDown;
    private List<Flow> flows = List.of();
    long attempts;
    long churnCycles;
    /** Churn with traffic: pair cycles started, closes that found packets still in flight, cycles cut off. */
    long pairCycles;
    long churnDrainTimeouts;
    volatile long churnUnfinished;
    String transportName;
    String tlsProvider;

    private Progress progress;
    private HistogramLogWriter hlog;
    private PrintStream hlogStream;
    private double lastIntervalP99Us = Double.NaN;
    private final Histogram latencyInterval = new Histogram(3);
    private final ProcessSampler server;
    private final com.sun.management.OperatingSystemMXBean os =
        (com.sun.management.OperatingSystemMXBean)ManagementFactory.getOperatingSystemMXBean();
    private long runStartNs;
    private long connectStartNs;
    private long closeTotal;
    private long runStartMs;
    private long lastTickNs;
    private String phaseName = "setup";
    final ProcessSampler self = ProcessSampler.self();
    final FileLimit fileLimit = new FileLimit();

    LoadRun(final LoadSettings settings, final PrintStream out)
    {
        this.settings = settings;
        this.out = out;
        this.permits = new Semaphore(settings.connectConcurrency());
        this.server = settings.serverPid() > 0 ? new ProcessSampler(settings.serverPid()) : null;
    }

    /**
     * Runs every phase and writes the results.
     *
     * @return how it went.
     * @throws IOException if the results cannot be written.
     */
    RunResult run() throws IOException
    {
        System.setProperty("java.awt.headless", "true");
        Files.createDirectories(settings.out());
        group = DerpClients.newEventLoopGroup(settings.threads());
        try (Progress display = new Progress(out, null != System.console() && out == System.out))
        {
            progress = display;
            final DerpClients.Builder builder = DerpClients.builder(group);
            TlsProvider tls;
            try
            {
                tls = TlsProvider.named(settings.tlsProvider());
            }
            catch (final IllegalStateException ex)
            {
                return RunResult.failure("--tls-provider=" + settings.tlsProvider() + ": " + ex.getMessage());
            }
            if ("auto".equals(settings.tlsProvider()) && tls.isConscrypt() &&
                settings.url().getScheme().equalsIgnoreCase("https") && !fileLimit.fitsConscrypt(settings))
            {
                // auto fell back to Conscrypt, whose pipe pair per connection would run the process out of descriptors.
                tls = TlsProvider.jdk();
                display.println("loadgen: TLS on the JDK provider: " + settings.clients() + " Conscrypt clients " +
                    "would need about " + (settings.clients() * OpenFileLimit.PER_CONSCRYPT_CONNECTION + OpenFileLimit.BASE) +
                    " file descriptors, over the open-file limit of " + fileLimit.limit() +
                    " (--tls-provider conscrypt insists)");
            }
            builder.tlsProvider(tls);
            clients = builder.build();
            transportName = clients.transportName();
            tlsProvider = clients.tlsProvider().toString();
            buildLoops();
            createPeers();
            display.println("loadgen: " + settings.clients() + " peers, " + settings.scenario().cliName() + ", " +
                settings.url() + " (" + transportName + ", " + settings.threads() + " threads" +
                (settings.url().getScheme().equalsIgnoreCase("https") ? ", TLS on " + clients.tlsProvider().name() :
                    "") + ")");
            fileLimit.check(settings, clients.tlsProvider().isConscrypt()).ifPresent(display::println);
            runStartNs = System.nanoTime();
            runStartMs = System.currentTimeMillis();
            lastTickNs = runStartNs;
            openHlog();
            phases.mark("start", runStartNs, serverSample(), loadgenCpu());
            final String unreachable = probe();
            if (null != unreachable)
            {
                return RunResult.failure(unreachable);
            }
            connectAll();
            phases.mark("connected", System.nanoTime(), serverSample(), loadgenCpu());
            runScenario();
            tick(true);
            phases.mark("scenario-end", System.nanoTime(), serverSample(), loadgenCpu());
            closeAll();
            phases.mark("closed", System.nanoTime(), serverSample(), loadgenCpu());
            hlog.outputComment("end");
            final RunResult result = evaluate();
            // Made once: it takes what the connect, churn and Ping recorders gathered.
            final Report report = new Report(this);
            report.write(result);
            display.println(report.consoleSummary(result));
            return result;
        }
        finally
        {
            if (null != hlogStream)
            {
                hlogStream.close();
            }
            group.shutdownGracefully(0, 1, TimeUnit.SECONDS).awaitUninterruptibly(10, TimeUnit.SECONDS);
            if (null != clients)
            {
                clients.close();
            }
        }
    }

    private void openHlog() throws IOException
    {
        hlogStream = new PrintStream(Files.newOutputStream(settings.out().resolve(Report.LATENCY_HLOG)), false,
            StandardCharsets.US_ASCII);
        hlog = new HistogramLogWriter(hlogStream);
        hlog.outputComment("jderper loadgen: one-way packet latency in nanoseconds, one interval a second");
        hlog.outputLogFormatVersion();
        hlog.outputStartTime(runStartMs);
        hlog.setBaseTime(runStartMs);
        hlog.outputLegend();
    }

    // ---------------------------------------------------------------------------------------------------------------
    // Set-up.

    private void buildLoops()
    {
        final Map<EventExecutor, LoopContext> byLoop = new IdentityHashMap<>();
        final List<LoopContext> list = new ArrayList<>();
        long seed = settings.seed() ^ 0x5DEECE66DL;
        for (final EventExecutor executor : group)
        {
            final LoopContext context = new LoopContext((EventLoop)executor, settings.packetSize(), settings.clients(),
                seed++);
            byLoop.put(executor, context);
            list.add(context);
        }
        loops = byLoop;
        loopList = List.copyOf(list);
    }

    private void createPeers()
    {
        final SplittableRandom random = new SplittableRandom(settings.seed());
        final int n = settings.clients();
        peers = new Peer[n];
        final List<InetAddress> sources = settings.sourceAddresses();
        final byte[] raw = new byte[32];
        for (int i = 0; i < n; i++)
        {
            for (int b = 0; b < raw.length; b += 8)
            {
                final long word = random.nextLong();
                for (int k = 0; k < 8; k++)
                {
                    raw[b + k] = (byte)(word >>> (8 * k));
                }
            }
            final NodePrivateKey key = NodePrivateKey.fromBytes(raw);
            final DerpClientOptions options = DerpClientOptions.builder(settings.url(), key)
                .trust(settings.trust())
                .localAddress(sources.isEmpty() ? null : sources.get(i % sources.size()))
                .handshakeTimeoutMs(settings.handshakeTimeout().toMillis())
                .bearerToken(settings.bearerToken())
                .build();
            peers[i] = new Peer(i, key, options, this);
        }
    }

    // ---------------------------------------------------------------------------------------------------------------
    // Connect.

    private void open(final Peer peer, final boolean churn)
    {
        openClients.incrementAndGet();
        peer.open(clients, churn);
    }

    /**
     * Connects the first peer alone, so an unreachable server is one clear failure rather than thousands.
     *
     * @return null if it connected, else the reason.
     */
    private String probe()
    {
        phaseName = "connect";
        progress.begin("connect", settings.clients(), "clients");
        permits.acquireUninterruptibly();
        attempts++;
        connectStartNs = System.nanoTime();
        open(peers[0], false);
        final long deadlineNs = System.nanoTime() + settings.handshakeTimeout().toNanos() + 2 * SECOND_NS;
        while (connected.get() + connectFailed.get() < 1 && System.nanoTime() - deadlineNs < 0)
        {
            pause();
        }
        if (1 == connected.get())
        {
            return null;
        }
        final String reason = reasons.isEmpty() ? "no answer within " +
            Durations.format(settings.handshakeTimeout()) : reasons.keySet().iterator().next();
        return "cannot reach " + settings.url() + ": " + reason;
    }

    private void connectAll()
    {
        final int n = settings.clients();
        final long startNs = System.nanoTime();
        final long stuckNs = settings.handshakeTimeout().toNanos() + 5 * SECOND_NS;
        for (int i = 1; i < n; i++)
        {
            if (settings.connectRate() > 0)
            {
                sleepUntil(startNs + (long)(i / settings.connectRate() * SECOND_NS));
            }
            final long waitStartNs = System.nanoTime();
            while (!permits.tryAcquire())
            {
                if (System.nanoTime() - waitStartNs - stuckNs > 0)
                {
                    fail("connect phase stuck: no handshake finished within " + stuckNs / SECOND_NS + " s");
                    return;
                }
                pause();
            }
            final long failures = connectFailed.get();
            if (failures >= ABORT_AFTER_FAILURES && failures * 2 > attempts)
            {
                permits.release();
                fail("connect phase aborted after " + failures + " of " + attempts + " connects failed");
                break;
            }
            attempts++;
            open(peers[i], false);
            if ((i & 63) == 0)
            {
                tick();
            }
        }
        final long deadlineNs = System.nanoTime() + stuckNs;
        while (connected.get() + connectFailed.get() < attempts && System.nanoTime() - deadlineNs < 0)
        {
            pause();
        }
        final long unfinished = attempts - connected.get() - connectFailed.get();
        if (unfinished > 0)
        {
            connectUnfinished.set(unfinished);
            fail("handshake never finished (no result " + stuckNs / SECOND_NS + " s after the last connect)");
        }
        phases.connectNs = System.nanoTime() - connectStartNs;
        progress.println(String.format("loadgen: connected %d of %d in %.2f s (%d failed, %d unfinished)",
            connected.get(), n, phases.connectNs / 1e9, connectFailed.get(), unfinished));
    }

    private void fail(final String reason)
    {
        if (FileLimit.isOutOfFiles(reason))
        {
            fileLimit.exhausted();
        }
        final String key = reasons.size() < MAX_REASONS || reasons.containsKey(reason) ? reason : "(other reasons)";
        reasons.computeIfAbsent(key, r -> new LongAdder()).increment();
    }

    // ---------------------------------------------------------------------------------------------------------------
    // Scenarios.

    private void runScenario()
    {
        switch (settings.scenario())
        {
            case IDLE -> runIdle();
            case PAIRS, FANIN -> runTraffic();
            case CHURN -> {
                if (settings.churnTraffic())
                {
                    runChurnTraffic();
                }
                else
                {
                    runChurn();
                }
            }
            default -> throw new IllegalStateException("scenario=" + settings.scenario());
        }
    }

    private void hold()
    {
        if (settings.hold().isZero())
        {
            return;
        }
        phaseName = "hold";
        final long startNs = System.nanoTime();
        final long holdNs = settings.hold().toNanos();
        progress.begin("hold", holdNs / SECOND_NS, "s");
        while (System.nanoTime() - startNs - holdNs < 0)
        {
            pause();
        }
    }

    private void runIdle()
    {
        phaseName = "idle";
        final long startNs = System.nanoTime();
        phases.scenarioStartNs = startNs;
        final long durationNs = settings.duration().toNanos();
        final long intervalNs = settings.pingInterval().toNanos();
        progress.begin("idle", durationNs / SECOND_NS, "s");
        for (int i = 0; i < peers.length; i++)
        {
            peers[i].nextPingNs = startNs + (intervalNs > 0 ? intervalNs * i / peers.length : 0);
        }
        while (System.nanoTime() - startNs - durationNs < 0)
        {
            if (intervalNs > 0)
            {
                sendPings(intervalNs);
            }
            pause();
        }
        phases.scenarioEndNs = System.nanoTime();
        final long deadlineNs = phases.scenarioEndNs + settings.drain().toNanos();
        phaseName = "drain";
        while (anyPingOutstanding() && System.nanoTime() - deadlineNs < 0)
        {
            pause();
        }
    }

    private void sendPings(final long intervalNs)
    {
        final long nowNs = System.nanoTime();
        for (final Peer peer : peers)
        {
            if (nowNs - peer.nextPingNs >= 0)
            {
                peer.nextPingNs = nowNs + intervalNs;
                if (peer.ping(nowNs, PING_TIMEOUT_NS))
                {
                    pings.incrementAndGet();
                }
            }
        }
    }

    private boolean anyPingOutstanding()
    {
        for (final Peer peer : peers)
        {
            if (peer.isReady() && peer.pingOutstanding())
            {
                return true;
            }
        }
        return false;
    }

    private void runTraffic()
    {
        hold();
        final Traffic plan = startTraffic(settings.scenario());
        phaseName = "traffic";
        final long durationNs = settings.duration().toNanos();
        progress.begin("traffic", durationNs / SECOND_NS, "s");
        final long startNs = phases.scenarioStartNs;
        while (System.nanoTime() - startNs - durationNs < 0)
        {
            pause();
        }
        plan.stop();
        phases.scenarioEndNs = System.nanoTime();
        loopList.forEach(LoopContext::stop);
        drain();
    }

    /**
     * Builds the flows of a pairs or fanin layout among the ready peers and starts them.
     *
     * @param layout PAIRS or FANIN.
     * @return the running plan; {@link Phases#scenarioStartNs} is its start.
     */
    private Traffic startTraffic(final Scenario layout)
    {
        final Traffic plan = new Traffic(settings, peers.length);
        final Map<LoopContext, List<Flow>> byLoop = new IdentityHashMap<>();
        final List<Flow> all = new ArrayList<>();
        final SplittableRandom random = new SplittableRandom(settings.seed() + 1);
        if (Scenario.PAIRS == layout)
        {
            for (int i = 0; i + 1 < peers.length; i += 2)
            {
                addFlow(plan, peers[i], peers[i + 1], byLoop, all, random);
                if (settings.bidirectional())
                {
                    addFlow(plan, peers[i + 1], peers[i], byLoop, all, random);
                }
            }
        }
        else
        {
            final int group = settings.faninSenders() + 1;
            for (int g = 0; (g + 1) * group <= peers.length; g++)
            {
                for (int s = 1; s < group; s++)
                {
                    addFlow(plan, peers[g * group + s], peers[g * group], byLoop, all, random);
                }
            }
        }
        flows = List.copyOf(all);
        traffic = plan;
        final long startNs = System.nanoTime();
        phases.scenarioStartNs = startNs;
        plan.start(startNs);
        byLoop.forEach((loop, list) -> loop.start(plan, list));
        return plan;
    }

    private void addFlow(
        final Traffic plan, final Peer sender, final Peer receiver, final Map<LoopContext, List<Flow>> byLoop,
        final List<Flow> all, final SplittableRandom random)
    {
        if (!sender.isReady() || !receiver.isReady())
        {
            return;
        }
        final LoopContext loop = loopContext(sender.client().eventLoop());
        final Flow flow = new Flow(sender, receiver, loop, plan, random.nextLong());
        plan.add(flow);
        all.add(flow);
        byLoop.computeIfAbsent(loop, l -> new ArrayList<>()).add(flow);
    }

    private void drain()
    {
        phaseName = "drain";
        final long deadlineNs = System.nanoTime() + settings.drain().toNanos();
        while (outstanding() > 0 && System.nanoTime() - deadlineNs < 0)
        {
            pause();
        }
        phases.drainNs = System.nanoTime() - phases.scenarioEndNs;
    }

    /**
     * @return packets sent that have neither arrived nor been skipped by a later one.
     */
    long outstanding()
    {
        long sum = 0;
        for (final Flow flow : flows)
        {
            sum += flow.sent() - flow.delivered() - flow.gapLost();
        }
        return sum;
    }

    private void runChurn()
    {
        hold();
        phaseName = "churn";
        final long durationNs = settings.duration().toNanos();
        progress.begin("churn", durationNs / SECOND_NS, "s");
        final long startNs = System.nanoTime();
        phases.scenarioStartNs = startNs;
        int cursor = 0;
        while (true)
        {
            final long elapsedNs = System.nanoTime() - startNs;
            if (elapsedNs - durationNs >= 0)
            {
                break;
            }
            final long due = (long)(elapsedNs / 1e9 * settings.churnRate());
            while (churnCycles < due && permits.tryAcquire())
            {
                final Peer peer = nextChurnable(cursor);
                if (null == peer)
                {
                    permits.release();
                    break;
                }
                cursor = (peer.index + 1) % peers.length;
                churnInFlight.incrementAndGet();
                churnCycles++;
                peer.churn();
            }
            pause();
        }
        phases.scenarioEndNs = System.nanoTime();
        phaseName = "drain";
        final long deadlineNs = System.nanoTime() + settings.handshakeTimeout().toNanos() + 2 * SECOND_NS;
        while (churnInFlight.get() > 0 && System.nanoTime() - deadlineNs < 0)
        {
            pause();
        }
        phases.drainNs = System.nanoTime() - phases.scenarioEndNs;
    }

    /**
     * Churn with traffic: pairs (2i sends to 2i+1, and back with --bidirectional) exchange packets, and
     * {@code --churn-rate} clients a second are closed and reopened a pair at a time. A pair's senders pause, its
     * packets in flight arrive (at most {@code --drain}), then both peers close and reconnect with the same keys and
     * sending resumes once both are back. No packet is in flight when a client closes, so every packet counted lost
     * is one the relay did not deliver while both ends were connected (or for longer than {@code --drain}).
     */
    private void runChurnTraffic()
    {
        hold();
        startTraffic(Scenario.PAIRS);
        final Traffic plan = traffic;
        phaseName = "churn";
        final long durationNs = settings.duration().toNanos();
        progress.begin("churn", durationNs / SECOND_NS, "s");
        final long startNs = phases.scenarioStartNs;
        final int pairs = peers.length / 2;
        final Flow[][] pairFlows = new Flow[pairs][];
        for (int p = 0; p < pairs; p++)
        {
            final List<Flow> mine = new ArrayList<>(2);
            for (final Flow flow : flows)
            {
                if (flow.sender.index / 2 == p)
                {
                    mine.add(flow);
                }
            }
            pairFlows[p] = mine.toArray(new Flow[0]);
        }
        final boolean[] busy = new boolean[pairs];
        final List<PairChurn> inProgress = new ArrayList<>();
        final int maxInProgress = Math.max(1, settings.connectConcurrency() / 2);
        int cursor = 0;
        while (System.nanoTime() - startNs - durationNs < 0)
        {
            final long elapsedNs = System.nanoTime() - startNs;
            // Two clients a pair: the rate counts clients.
            final long due = (long)(elapsedNs / 1e9 * settings.churnRate() / 2);
            while (pairCycles < due && inProgress.size() < maxInProgress)
            {
                final int p = nextChurnablePair(cursor, busy, pairFlows);
                if (p < 0)
                {
                    break;
                }
                cursor = (p + 1) % pairs;
                busy[p] = true;
                pairCycles++;
                churnCycles += 2;
                inProgress.add(new PairChurn(p, pairFlows[p], System.nanoTime()));
            }
            advance(inProgress, busy);
            pause();
        }
        // The cycles under way finish (bounded) before the traffic stops, so none is cut off half way.
        final long deadlineNs = System.nanoTime() + settings.drain().toNanos() +
            settings.handshakeTimeout().toNanos() + 2 * SECOND_NS;
        while (!inProgress.isEmpty() && System.nanoTime() - deadlineNs < 0)
        {
            advance(inProgress, busy);
            pause();
        }
        if (!inProgress.isEmpty())
        {
            churnUnfinished += inProgress.size();
            fail("churn: " + inProgress.size() + " pair cycles did not finish");
        }
        plan.stop();
        phases.scenarioEndNs = System.nanoTime();
        loopList.forEach(LoopContext::stop);
        drain();
    }

    private int nextChurnablePair(final int cursor, final boolean[] busy, final Flow[][] pairFlows)
    {
        final int pairs = busy.length;
        for (int k = 0; k < pairs; k++)
        {
            final int p = (cursor + k) % pairs;
            if (!busy[p] && pairFlows[p].length > 0 && peers[2 * p].isReady() && peers[2 * p + 1].isReady() &&
                !peers[2 * p].isChurning() && !peers[2 * p + 1].isChurning())
            {
                return p;
            }
        }
        return -1;
    }

    /**
     * Moves each pair cycle under way on by as many steps as it can take now: pause, drain, close and reconnect,
     * resume.
     */
    private void advance(final List<PairChurn> inProgress, final boolean[] busy)
    {
        final long nowNs = System.nanoTime();
        for (int i = inProgress.size() - 1; i >= 0; i--)
        {
            final PairChurn cycle = inProgress.get(i);
            if (cycle.step(nowNs))
            {
                inProgress.remove(i);
                busy[cycle.pair] = cycle.broken;
            }
        }
    }

    /**
     * One pair's churn cycle, driven by the controller thread.
     */
    private final class PairChurn
    {
        static final int PAUSING = 0;
        static final int DRAINING = 1;
        static final int RECONNECTING = 2;

        final int pair;
        private final Flow[] pairFlows;
        private final AtomicInteger pausesPending;
        private int state = PAUSING;
        private long stateSinceNs;
        /** The pair could not come back: it is not churned again. */
        boolean broken;

        PairChurn(final int pair, final Flow[] pairFlows, final long nowNs)
        {
            this.pair = pair;
            this.pairFlows = pairFlows;
            this.pausesPending = new AtomicInteger(pairFlows.length);
            this.stateSinceNs = nowNs;
            for (final Flow flow : pairFlows)
            {
                flow.senderLoop.loop.execute(() ->
                {
                    flow.pauseOnLoop();
                    pausesPending.decrementAndGet();
                });
            }
        }

        /**
         * @return whether the cycle is over.
         */
        boolean step(final long nowNs)
        {
            if (PAUSING == state)
            {
                if (pausesPending.get() > 0)
                {
                    return false;
                }
                state = DRAINING;
                stateSinceNs = nowNs;
            }
            if (DRAINING == state)
            {
                long outstanding = 0;
                for (final Flow flow : pairFlows)
                {
                    outstanding += flow.outstanding();
                }
                final boolean drained = 0 == outstanding;
                if (!drained && nowNs - stateSinceNs - settings.drain().toNanos() < 0)
                {
                    return false;
                }
                if (!permits.tryAcquire(2))
                {
                    return false;
                }
                if (!drained)
                {
                    // Left in flight longer than --drain: closing now makes them lost, as they are.
                    churnDrainTimeouts++;
                }
                final Peer a = peers[2 * pair];
                final Peer b = peers[2 * pair + 1];
                churnInFlight.addAndGet(2);
                a.churn();
                b.churn();
                state = RECONNECTING;
                stateSinceNs = nowNs;
                return false;
            }
            final Peer a = peers[2 * pair];
            final Peer b = peers[2 * pair + 1];
            if (a.isChurning() || b.isChurning())
            {
                if (nowNs - stateSinceNs - settings.handshakeTimeout().toNanos() - 2 * SECOND_NS < 0)
                {
                    return false;
                }
                fail("churn: pair " + pair + " did not reconnect within " +
                    (settings.handshakeTimeout().toSeconds() + 2) + " s");
                churnUnfinished++;
                broken = true;
                return true;
            }
            if (!a.isReady() || !b.isReady())
            {
                // A reconnect failed (counted where it failed): the pair stays paused.
                broken = true;
                return true;
            }
            for (final Flow flow : pairFlows)
            {
                flow.senderLoop.loop.execute(() -> flow.resumeOnLoop(System.nanoTime()));
            }
            return true;
        }
    }

    private Peer nextChurnable(final int cursor)
    {
        for (int k = 0; k < peers.length; k++)
        {
            final Peer peer = peers[(cursor + k) % peers.length];
            if (peer.isReady() && !peer.isChurning())
            {
                return peer;
            }
        }
        return null;
    }

    // ---------------------------------------------------------------------------------------------------------------
    // Close.

    private void closeAll()
    {
        phaseName = "close";
        closeTotal = openClients.get();
        progress.begin("close", closeTotal, "connections");
        tearingDown = true;
        final long startNs = System.nanoTime();
        long lastCloseNs = 0;
        while (openClients.get() > 0 && System.nanoTime() - startNs - CLOSE_WAIT_NS < 0)
        {
            if (System.nanoTime() - lastCloseNs > SECOND_NS / 2)
            {
                // Again now and then: a churn reopen may have raced the first round.
                lastCloseNs = System.nanoTime();
                for (final Peer peer : peers)
                {
                    final int state = peer.state();
                    if (Peer.CONNECTING == state || Peer.READY == state)
                    {
                        peer.close();
                    }
                }
            }
            pause();
        }
        phases.closeNs = System.nanoTime() - startNs;
        phases.unclosed = openClients.get();
    }

    // ---------------------------------------------------------------------------------------------------------------
    // The controller's clock: readings once a second.

    private void pause()
    {
        tick();
        LockSupport.parkNanos(CONTROLLER_SLEEP_NS);
    }

    private void sleepUntil(final long deadlineNs)
    {
        while (System.nanoTime() - deadlineNs < 0)
        {
            tick();
            LockSupport.parkNanos(Math.min(CONTROLLER_SLEEP_NS, Math.max(1, deadlineNs - System.nanoTime())));
        }
    }

    private void tick()
    {
        tick(false);
    }

    /**
     * Updates the display; once a second (or when forced, at the end of a phase) takes a reading.
     */
    private void tick(final boolean force)
    {
        final long nowNs = System.nanoTime();
        if (!force && nowNs - lastTickNs - SECOND_NS < 0)
        {
            if (null != progress)
            {
                progress.update(progressCurrent(nowNs), progressTotal(), status(nowNs));
            }
            return;
        }
        final long previousNs = lastTickNs;
        lastTickNs = nowNs;
        latencyInterval.reset();
        for (final LoopContext loop : loopList)
        {
            loop.drainLatency(latencyInterval);
        }
        latencyInterval.setStartTimeStamp(runStartMs + (previousNs - runStartNs) / 1_000_000);
        latencyInterval.setEndTimeStamp(runStartMs + (nowNs - runStartNs) / 1_000_000);
        latencyNs.add(latencyInterval);
        if (latencyInterval.getTotalCount() > 0)
        {
            hlog.outputIntervalHistogram(latencyInterval);
        }
        lastIntervalP99Us = latencyInterval.getTotalCount() > 0 ?
            latencyInterval.getValueAtPercentile(99) / 1000.0 : Double.NaN;
        fileLimit.sample();
        final ProcessSampler.Sample serverNow = serverSample();
        timeline.add(new Timeline.Point((nowNs - runStartNs) / 1e9, phaseName, totalSent(), totalDelivered(),
            connected.get() + churnConnected.get(), connectedNow(), null == serverNow ? Double.NaN :
            serverNow.cpuSeconds(), null == serverNow ? -1 : serverNow.rssKiB(), loadgenCpu()));
        progress.update(progressCurrent(nowNs), progressTotal(), status(nowNs));
    }

    private long progressCurrent(final long nowNs)
    {
        if ("connect".equals(phaseName))
        {
            return connected.get() + connectFailed.get();
        }
        if ("close".equals(phaseName))
        {
            return closeTotal - openClients.get();
        }
        final long since = 0 != phases.scenarioStartNs ? phases.scenarioStartNs : runStartNs;
        return Math.max(0, (nowNs - since) / SECOND_NS);
    }

    private long progressTotal()
    {
        if ("connect".equals(phaseName))
        {
            return settings.clients();
        }
        if ("close".equals(phaseName))
        {
            return closeTotal;
        }
        return "hold".equals(phaseName) ? settings.hold().toSeconds() : settings.duration().toSeconds();
    }

    private String status(final long nowNs)
    {
        final List<Timeline.Point> points = timeline.points();
        final StringBuilder text = new StringBuilder();
        text.append("ready=").append(connectedNow());
        final long errors = errorCount();
        if (!points.isEmpty() && points.size() >= 2)
        {
            final Timeline.Point b = points.get(points.size() - 1);
            final Timeline.Point a = points.get(points.size() - 2);
            final double dt = Math.max(1e-3, b.seconds() - a.seconds());
            if (settings.hasTraffic())
            {
                final double pps = (b.delivered() - a.delivered()) / dt;
                text.append(String.format(" %.0f pkt/s %.2f Gbit/s", pps, pps * settings.packetSize() * 8 / 1e9));
                if (!Double.isNaN(lastIntervalP99Us))
                {
                    text.append(String.format(" p99=%.0fus", lastIntervalP99Us));
                }
            }
            else
            {
                text.append(String.format(" %.0f handshakes/s", (b.handshakes() - a.handshakes()) / dt));
            }
            if (!Double.isNaN(b.serverCpu()) && !Double.isNaN(a.serverCpu()))
            {
                text.append(String.format(" server %.2f cores %d MiB", (b.serverCpu() - a.serverCpu()) / dt,
                    b.serverRssKiB() / 1024));
            }
        }
        if (settings.hasTraffic())
        {
            text.append(" sent=").append(totalSent()).append(" delivered=").append(totalDelivered());
        }
        text.append(" errors=").append(errors);
        return text.toString();
    }

    ProcessSampler.Sample serverSample()
    {
        return null == server ? null : server.sample();
    }

    double loadgenCpu()
    {
        return os.getProcessCpuTime() / 1e9;
    }

    // ---------------------------------------------------------------------------------------------------------------
    // Totals.

    long connectedNow()
    {
        long n = 0;
        for (final Peer peer : peers)
        {
            if (peer.isReady())
            {
                n++;
            }
        }
        return n;
    }

    long totalSent()
    {
        long sum = 0;
        for (final Flow flow : flows)
        {
            sum += flow.sent();
        }
        return sum;
    }

    long totalDelivered()
    {
        long sum = 0;
        for (final Flow flow : flows)
        {
            sum += flow.delivered();
        }
        return sum;
    }

    long sumOf(final ToLongFunction<Flow> counter)
    {
        long sum = 0;
        for (final Flow flow : flows)
        {
            sum += counter.applyAsLong(flow);
        }
        return sum;
    }

    long malformed()
    {
        long sum = 0;
        for (final LoopContext loop : loopList)
        {
            sum += loop.malformedCount();
        }
        return sum;
    }

    long errorCount()
    {
        return connectFailed.get() + connectUnfinished.get() + churnFailed.get() + lostConnections.get() +
            pingTimeouts.get() + churnUnfinished;
    }

    int flowCount()
    {
        return flows.size();
    }

    Map<String, Long> reasons()
    {
        final Map<String, Long> copy = new LinkedHashMap<>();
        reasons.forEach((reason, count) -> copy.put(reason, count.sum()));
        return copy;
    }

    // ---------------------------------------------------------------------------------------------------------------
    // Verdict.

    private RunResult evaluate()
    {
        final long connectionAttempts = attempts + churnCycles;
        final long errors = errorCount();
        if (fileLimit.exhaustions() > 0 || ((errors > 0 || phases.unclosed > 0) && fileLimit.reachedLimit()))
        {
            return RunResult.failure(fileLimit.describe(connected.get(), errors, clients.tlsProvider().isConscrypt() &&
                "https".equalsIgnoreCase(settings.url().getScheme())));
        }
        final double fraction = connectionAttempts > 0 ? (double)errors / connectionAttempts : 0;
        if (errors > 0 && fraction > settings.maxErrorFraction())
        {
            final String first = reasons.isEmpty() ? "" : ": " + reasons.keySet().iterator().next();
            return RunResult.failure(String.format("%d connection errors in %d attempts (%.4f > " +
                "--max-error-fraction %s)%s", errors, connectionAttempts, fraction, settings.maxErrorFraction(),
                first));
        }
        final long corrupt = malformed() + sumOf(Flow::duplicates);
        if (corrupt > 0)
        {
            return RunResult.failure(corrupt + " packets arrived duplicated, corrupt or at the wrong peer");
        }
        final long sent = totalSent();
        final long delivered = totalDelivered();
        if (settings.hasTraffic() && 0 == delivered)
        {
            return RunResult.failure("no packet was delivered (" + sent + " sent, " + flows.size() + " flows)");
        }
        final long lost = sent - delivered;
        if (lost > 0 && settings.failOnLoss())
        {
            return RunResult.failure(String.format("%d of %d packets lost (%s)", lost, sent, settings.lossless() ?
                "lossless profile: window " + settings.window() + " x " + settings.sendersPerReceiver() +
                    " sender(s) per receiver <= relay queue " + LoadSettings.RELAY_QUEUE_DEPTH :
                "--fail-on-loss"));
        }
        if (phases.unclosed > 0)
        {
            return RunResult.failure(phases.unclosed + " connections did not close within " +
                CLOSE_WAIT_NS / SECOND_NS + " s");
        }
        return RunResult.success();
    }

    // ---------------------------------------------------------------------------------------------------------------
    // Swarm: called on event loops.

    @Override
    public Traffic traffic()
    {
        return traffic;
    }

    @Override
    public LoopContext loopContext(final EventLoop loop)
    {
        return loops.get(loop);
    }

    @Override
    public void onConnected(final Peer peer, final long elapsedNs, final boolean churn)
    {
        final long us = Math.max(1, elapsedNs / 1000);
        if (churn)
        {
            churnConnectUs.recordValue(us);
            churnConnected.incrementAndGet();
            churnSettled(peer);
        }
        else
        {
            connectUs.recordValue(us);
            connected.incrementAndGet();
            permits.release();
        }
    }

    @Override
    public void onConnectFailed(final Peer peer, final Throwable cause, final boolean churn)
    {
        if (!tearingDown)
        {
            fail(LoadGen.oneLine(cause));
            if (churn)
            {
                churnFailed.incrementAndGet();
            }
            else
            {
                connectFailed.incrementAndGet();
            }
        }
        if (churn)
        {
            churnSettled(peer);
        }
        else
        {
            permits.release();
        }
    }

    private void churnSettled(final Peer peer)
    {
        if (peer.isChurning())
        {
            peer.churnDone();
            churnInFlight.decrementAndGet();
            permits.release();
        }
    }

    @Override
    public void onClientClosed(final Peer peer)
    {
        openClients.decrementAndGet();
    }

    @Override
    public void onClosedOnRequest(final Peer peer)
    {
        if (peer.isChurning())
        {
            if (tearingDown)
            {
                churnSettled(peer);
            }
            else
            {
                open(peer, true);
            }
        }
    }

    @Override
    public void onLost(final Peer peer, final Throwable cause)
    {
        if (tearingDown)
        {
            return;
        }
        lostConnections.incrementAndGet();
        fail("connection lost: " + LoadGen.oneLine(cause));
        final Traffic current = traffic;
        if (null != current)
        {
            final Flow flow = current.flowOf(peer.index);
            if (null != flow && flow.sender == peer)
            {
                flow.senderLost();
            }
        }
        churnSettled(peer);
    }

    @Override
    public void onCloseFailed(final Peer peer, final RuntimeException cause)
    {
        fail("close failed: " + LoadGen.oneLine(cause));
    }

    @Override
    public void onPong(final long rttNs)
    {
        pongs.incrementAndGet();
        pingRttUs.recordValue(Math.max(1, rttNs / 1000));
    }

    @Override
    public void onPingTimeout()
    {
        pingTimeouts.incrementAndGet();
        fail("Ping unanswered for " + PING_TIMEOUT_NS / SECOND_NS + " s");
    }

    /**
     * The readings taken at phase boundaries, for CPU per handshake and per packet.
     */
    static final class Phases
    {
        /**
         * One boundary.
         *
         * @param name       which.
         * @param nanoTime   when.
         * @param server     the server's reading, or null.
         * @param loadgenCpu this process's CPU seconds.
         */
        record Mark(String name, long nanoTime, ProcessSampler.Sample server, double loadgenCpu)
        {
        }

        final List<Mark> marks = new ArrayList<>();
        long connectNs;
        long scenarioStartNs;
        long scenarioEndNs;
        long drainNs;
        long closeNs;
        int unclosed;
        final Instant startedAt = Instant.now();

        void mark(final String name, final long nanoTime, final ProcessSampler.Sample server, final double cpu)
        {
            marks.add(new Mark(name, nanoTime, server, cpu));
        }

        Mark get(final String name)
        {
            for (final Mark mark : marks)
            {
                if (mark.name().equals(name))
                {
                    return mark;
                }
            }
            return null;
        }
    }
}
