package io.jderper.loadgen;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import io.jderper.stun.BindingResponse;
import io.jderper.stun.StunMessages;
import io.jderper.transport.io.IoTransport;
import io.netty.bootstrap.Bootstrap;
import io.netty.buffer.ByteBuf;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.SimpleChannelInboundHandler;
import io.netty.channel.socket.DatagramPacket;
import io.netty.util.concurrent.DefaultThreadFactory;
import io.netty.util.concurrent.ScheduledFuture;
import org.HdrHistogram.Histogram;
import org.HdrHistogram.HistogramLogWriter;
import org.HdrHistogram.Recorder;
import org.agrona.concurrent.UnsafeBuffer;

import java.io.IOException;
import java.io.PrintStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.LockSupport;

/**
 * The STUN scenario: {@code --clients} UDP sockets send binding requests exactly as Tailscale's netcheck does (40
 * bytes, SOFTWARE {@code tailnode}, FINGERPRINT; spec §6.2) to a STUN server and check every answer: the transaction
 * ID is one of ours and still waited for, and the XOR-MAPPED-ADDRESS is the socket's own address and port.
 *
 * <p>Pacing: with {@code --rate 0} each socket keeps {@code --window} requests in flight (a new one for each answer
 * or timeout); with a rate, each socket sends that many per second while fewer than a window are in flight, and
 * counts the sends it had to skip. A request unanswered after {@code --stun-timeout} is lost. Keep {@code --clients}
 * times {@code --window} to a few hundred: a server reads STUN from one socket, whose Linux default receive buffer
 * holds only about 250 such small datagrams, and the kernel drops what arrives beyond that.
 *
 * <p>The transaction ID carries the send time, the window slot and a sequence number (8 + 2 + 2 bytes), so an answer
 * finds its request without a lookup and the round trip is measured on the sender's own clock.
 */
final class StunRun
{
    static final long SECOND_NS = 1_000_000_000L;
    private static final long CONTROLLER_SLEEP_NS = 5_000_000L;

    private final LoadSettings settings;
    private final PrintStream out;
    private final Recorder rttRecorder = new Recorder(3);
    private final Histogram rttNs = new Histogram(3);
    private final Timeline timeline = new Timeline();
    private final AtomicLong sent = new AtomicLong();
    private final AtomicLong answered = new AtomicLong();
    private final AtomicLong lost = new AtomicLong();
    private final AtomicLong late = new AtomicLong();
    private final AtomicLong malformed = new AtomicLong();
    private final AtomicLong wrongAddress = new AtomicLong();
    private final AtomicLong skipped = new AtomicLong();
    private final AtomicLong readErrors = new AtomicLong();
    private final ProcessSampler server;
    private final ProcessSampler self = ProcessSampler.self();
    private final List<StunSocket> sockets = new ArrayList<>();
    private volatile boolean sending;
    private ProcessSampler.Sample serverStart;
    private ProcessSampler.Sample serverEnd;
    private ProcessSampler.Sample selfStart;
    private ProcessSampler.Sample selfEnd;
    private Instant startedAt;
    private double scenarioSeconds;
    private long inFlightAtEnd;
    private String transportName;

    StunRun(final LoadSettings settings, final PrintStream out)
    {
        this.settings = settings;
        this.out = out;
        this.server = settings.serverPid() > 0 ? new ProcessSampler(settings.serverPid()) : null;
    }

    RunResult run() throws IOException, InterruptedException
    {
        Files.createDirectories(settings.out());
        final IoTransport transport = IoTransport.select();
        transportName = transport.name();
        final EventLoopGroup group = new MultiThreadIoEventLoopGroup(settings.threads(),
            new DefaultThreadFactory("jderper-stun-client"), transport.handlerFactory());
        RunResult result;
        try (Progress progress = new Progress(out, null != System.console() && out == System.out);
             PrintStream hlogStream = new PrintStream(
                 Files.newOutputStream(settings.out().resolve(Report.LATENCY_HLOG)), false, StandardCharsets.UTF_8))
        {
            progress.println("loadgen: " + settings.clients() + " STUN sockets, binding requests to " +
                settings.stunServer().getHostString() + ":" + settings.stunServer().getPort() + " (" + transportName +
                ", " + settings.threads() + " threads, " + (settings.ratePerSender() > 0 ?
                    settings.ratePerSender() + " requests/s per socket" : "window " + settings.window()) + ")");
            final String bindFailure = bind(group, transport);
            if (null != bindFailure)
            {
                return RunResult.failure(bindFailure);
            }
            final HistogramLogWriter hlog = new HistogramLogWriter(hlogStream);
            hlog.outputComment("jderper loadgen: STUN round trip in nanoseconds, one interval a second");
            hlog.outputLogFormatVersion();
            final long startMs = System.currentTimeMillis();
            hlog.outputStartTime(startMs);
            hlog.setBaseTime(startMs);
            hlog.outputLegend();
            result = traffic(progress, hlog);
            progress.println(consoleSummary(result));
        }
        finally
        {
            // Closed before the loops stop, or the loops would reject the close tasks.
            for (final StunSocket socket : sockets)
            {
                socket.channel.close().awaitUninterruptibly(5, TimeUnit.SECONDS);
            }
            group.shutdownGracefully(0, 1, TimeUnit.SECONDS).syncUninterruptibly();
        }
        writeReport(result);
        return result;
    }

    /**
     * Binds and connects every socket; returns why it could not, or null.
     */
    private String bind(final EventLoopGroup group, final IoTransport transport) throws InterruptedException
    {
        final List<InetAddress> sources = settings.sourceAddresses();
        final SplittableRandom random = new SplittableRandom(settings.seed());
        final Bootstrap bootstrap = new Bootstrap().group(group).channel(transport.datagramChannel());
        for (int i = 0; i < settings.clients(); i++)
        {
            final StunSocket socket = new StunSocket(i, random.nextLong());
            final InetSocketAddress local = new InetSocketAddress(sources.isEmpty() ?
                null : sources.get(i % sources.size()), 0);
            final var future = bootstrap.clone().handler(socket).bind(local);
            if (!future.await(10, TimeUnit.SECONDS) || !future.isSuccess())
            {
                return "cannot bind a UDP socket on " + local + ": " + (null == future.cause() ? "timed out" :
                    LoadGen.oneLine(future.cause()));
            }
            final Channel channel = future.channel();
            final var connect = channel.connect(settings.stunServer());
            if (!connect.await(10, TimeUnit.SECONDS) || !connect.isSuccess())
            {
                channel.close();
                return "cannot reach the STUN server " + settings.stunServer() + ": " +
                    (null == connect.cause() ? "timed out" : LoadGen.oneLine(connect.cause()));
            }
            socket.attach(channel);
            sockets.add(socket);
        }
        return null;
    }

    private RunResult traffic(final Progress progress, final HistogramLogWriter hlog) throws InterruptedException
    {
        final long durationNs = settings.duration().toNanos();
        startedAt = Instant.now();
        serverStart = null == server ? null : server.sample();
        selfStart = self.sample();
        sending = true;
        final long startNs = System.nanoTime();
        for (final StunSocket socket : sockets)
        {
            socket.channel.eventLoop().execute(socket::start);
        }
        progress.begin("stun", durationNs / SECOND_NS, "s");
        long nextTickNs = startNs + SECOND_NS;
        long lastAnswered = 0;
        while (System.nanoTime() - startNs < durationNs)
        {
            final long nowNs = System.nanoTime();
            if (nowNs - nextTickNs >= 0)
            {
                nextTickNs += SECOND_NS;
                lastAnswered = tick(progress, hlog, startNs, nowNs, lastAnswered);
            }
            LockSupport.parkNanos(CONTROLLER_SLEEP_NS);
        }
        sending = false;
        scenarioSeconds = (System.nanoTime() - startNs) / 1e9;
        serverEnd = null == server ? null : server.sample();
        selfEnd = self.sample();
        // Answers still on their way: wait one timeout for them, then what is left is lost.
        final long drainEndNs = System.nanoTime() + settings.stunTimeout().toNanos() + 100_000_000L;
        while (inFlight() > 0 && System.nanoTime() - drainEndNs < 0)
        {
            LockSupport.parkNanos(CONTROLLER_SLEEP_NS);
        }
        for (final StunSocket socket : sockets)
        {
            socket.channel.eventLoop().submit(socket::stop).await(5, TimeUnit.SECONDS);
        }
        inFlightAtEnd = inFlight();
        lost.addAndGet(inFlightAtEnd);
        final Histogram interval = rttRecorder.getIntervalHistogram();
        rttNs.add(interval);
        hlog.outputIntervalHistogram(interval);
        return verdict();
    }

    private long tick(final Progress progress, final HistogramLogWriter hlog, final long startNs, final long nowNs,
        final long lastAnswered)
    {
        final Histogram interval = rttRecorder.getIntervalHistogram();
        rttNs.add(interval);
        hlog.outputIntervalHistogram(interval);
        final ProcessSampler.Sample serverNow = null == server ? null : server.sample();
        final ProcessSampler.Sample selfNow = self.sample();
        final double seconds = (nowNs - startNs) / 1e9;
        final long answeredNow = answered.get();
        timeline.add(new Timeline.Point(seconds, "stun", sent.get(), answeredNow, 0, sockets.size(),
            null == serverNow ? Double.NaN : serverNow.cpuSeconds(), null == serverNow ? -1 : serverNow.rssKiB(),
            null == selfNow ? Double.NaN : selfNow.cpuSeconds()));
        progress.update((nowNs - startNs) / SECOND_NS, settings.duration().toSeconds(), String.format(
            "%d replies/s, p99 %s, sent %d, answered %d, lost %d%s", answeredNow - lastAnswered,
            micros(interval.getTotalCount() > 0 ? interval.getValueAtPercentile(99) : 0), sent.get(), answeredNow,
            lost.get(), null == serverNow ? "" : String.format(", server %d MiB", serverNow.rssKiB() / 1024)));
        return answeredNow;
    }

    private long inFlight()
    {
        final long total = sent.get() - answered.get() - lost.get();
        return Math.max(0, total);
    }

    private RunResult verdict()
    {
        if (0 == answered.get())
        {
            return RunResult.failure("no STUN answers from " + settings.stunServer() + " to " + sent.get() +
                " binding requests" + (readErrors.get() > 0 ? " (" + readErrors.get() + " socket errors: port " +
                "unreachable?)" : "") + ": is STUN on, on that port, and does it answer Tailscale's requests?");
        }
        if (wrongAddress.get() > 0)
        {
            return RunResult.failure(wrongAddress.get() + " answers mapped a socket to an address other than its " +
                "own");
        }
        if (malformed.get() > 0)
        {
            return RunResult.failure(malformed.get() + " datagrams from the server were not binding success " +
                "responses with a mapped address");
        }
        if (lost.get() > settings.maxErrorFraction() * sent.get())
        {
            return RunResult.failure(lost.get() + " of " + sent.get() + " binding requests went unanswered within " +
                Durations.format(settings.stunTimeout()) + " (--max-error-fraction " + settings.maxErrorFraction() +
                ")");
        }
        return RunResult.success();
    }

    private String consoleSummary(final RunResult result)
    {
        final double rate = scenarioSeconds > 0 ? answered.get() / scenarioSeconds : 0;
        final StringBuilder text = new StringBuilder();
        text.append(String.format("loadgen: stun, %d sockets: sent %d, answered %d, lost %d, late %d; %.0f " +
                "replies/s; round trip p50 %s p90 %s p99 %s p99.9 %s max %s%n", sockets.size(), sent.get(),
            answered.get(), lost.get(), late.get(), rate, micros(rttNs.getValueAtPercentile(50)),
            micros(rttNs.getValueAtPercentile(90)), micros(rttNs.getValueAtPercentile(99)),
            micros(rttNs.getValueAtPercentile(99.9)), micros(rttNs.getMaxValue())));
        final Double serverCpu = cpuBetween(serverStart, serverEnd);
        if (null != serverCpu)
        {
            text.append(String.format("loadgen: server cpu %.2f s (%.3f s per million replies), rss %d MiB%n",
                serverCpu, answered.get() > 0 ? serverCpu / answered.get() * 1e6 : Double.NaN,
                null == serverEnd ? -1 : serverEnd.rssKiB() / 1024));
        }
        final Double selfCpu = cpuBetween(selfStart, selfEnd);
        text.append(String.format("loadgen: skipped sends (window full) %d, malformed %d, wrong address %d, socket " +
                "errors %d; loadgen cpu %s; results in %s%n", skipped.get(), malformed.get(), wrongAddress.get(),
            readErrors.get(),
            null == selfCpu ? "n/a" : String.format("%.2f s", selfCpu), settings.out()));
        text.append(result.ok() ? "loadgen: OK" : "loadgen: FAILED: " + result.reason());
        return text.toString();
    }

    private void writeReport(final RunResult result) throws IOException
    {
        final Map<String, Object> root = Report.header(settings, String.valueOf(startedAt), result);
        final Map<String, Object> run = new LinkedHashMap<>();
        run.put("scenario", Scenario.STUN.cliName());
        run.put("stunServer", settings.stunServer().getHostString() + ":" + settings.stunServer().getPort());
        run.put("sockets", sockets.size());
        run.put("ratePerSocket", settings.ratePerSender());
        run.put("window", settings.window());
        run.put("timeoutMs", settings.stunTimeout().toMillis());
        run.put("durationS", settings.duration().toSeconds());
        run.put("transport", transportName);
        root.put("settings", run);
        // The names the DERP scenarios use (phases, server, loadgen), so that one reader handles both summaries.
        root.put("phases", Map.of("scenarioSeconds", scenarioSeconds));
        final Map<String, Object> stun = new LinkedHashMap<>();
        stun.put("sent", sent.get());
        stun.put("answered", answered.get());
        stun.put("lost", lost.get());
        stun.put("inFlightAtEnd", inFlightAtEnd);
        stun.put("late", late.get());
        stun.put("malformed", malformed.get());
        stun.put("wrongAddress", wrongAddress.get());
        stun.put("skippedWindowFull", skipped.get());
        stun.put("socketErrors", readErrors.get());
        stun.put("repliesPerSecond", scenarioSeconds > 0 ? answered.get() / scenarioSeconds : 0);
        stun.put("roundTripUs", Report.percentiles(rttNs, 1000.0));
        root.put("stun", stun);
        final Map<String, Object> serverMap = new LinkedHashMap<>();
        final Double serverCpu = cpuBetween(serverStart, serverEnd);
        serverMap.put("pid", settings.serverPid() > 0 ? settings.serverPid() : null);
        serverMap.put("cpuSecondsScenario", serverCpu);
        serverMap.put("cpuSecondsPerMillionReplies",
            null != serverCpu && answered.get() > 0 ? serverCpu / answered.get() * 1e6 : null);
        serverMap.put("rssKiBEnd", null == serverEnd ? null : serverEnd.rssKiB());
        root.put("server", serverMap);
        final Map<String, Object> loadgen = new LinkedHashMap<>();
        loadgen.put("cpuSecondsScenario", cpuBetween(selfStart, selfEnd));
        root.put("loadgen", loadgen);
        final List<Map<String, Object>> series = new ArrayList<>();
        for (final Timeline.Point point : timeline.points())
        {
            final Map<String, Object> m = new LinkedHashMap<>();
            m.put("seconds", point.seconds());
            m.put("sent", point.sent());
            m.put("answered", point.delivered());
            m.put("serverCpu", Double.isNaN(point.serverCpu()) ? null : point.serverCpu());
            m.put("serverRssKiB", point.serverRssKiB() < 0 ? null : point.serverRssKiB());
            m.put("loadgenCpu", Double.isNaN(point.loadgenCpu()) ? null : point.loadgenCpu());
            series.add(m);
        }
        root.put("timeSeries", series);
        new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT)
            .writeValue(settings.out().resolve(Report.SUMMARY_JSON).toFile(), root);
        Report.bounded(Report.LATENCY_PNG, () -> Charts.percentiles(Map.of("STUN round trip", rttNs),
            Map.of("STUN round trip", 1000.0), settings.out().resolve(Report.LATENCY_PNG)));
        Report.bounded(Report.THROUGHPUT_PNG, () -> Charts.throughput(timeline, "STUN replies/s", false,
            settings.out().resolve(Report.THROUGHPUT_PNG)));
    }

    private static Double cpuBetween(final ProcessSampler.Sample a, final ProcessSampler.Sample b)
    {
        return null == a || null == b ? null : b.cpuSeconds() - a.cpuSeconds();
    }

    private static String micros(final long ns)
    {
        return ns >= 10_000_000 ? String.format("%.1fms", ns / 1e6) : String.format("%dus", ns / 1000);
    }

    /**
     * One UDP socket: its window of requests in flight and its answers. Every method runs on its event loop.
     */
    private final class StunSocket extends SimpleChannelInboundHandler<DatagramPacket>
    {
        private final int index;
        private final long startJitterNs;
        private final long[] slotSentNs;
        /** The sequence number (16 bits) of the request in each slot, -1 when free. */
        private final int[] slotSequence;
        /** A stack of free slots: answers come back in any order. */
        private final int[] freeSlots;
        private int freeCount;
        private final UnsafeBuffer request = new UnsafeBuffer(new byte[StunMessages.TAILSCALE_REQUEST_LENGTH]);
        private final UnsafeBuffer transactionId = new UnsafeBuffer(new byte[StunMessages.TRANSACTION_ID_LENGTH]);
        /** The answer being read; anything longer than a path MTU is not an answer to us. */
        private final UnsafeBuffer datagram = new UnsafeBuffer(new byte[1500]);
        private final BindingResponse response = new BindingResponse();
        private Channel channel;
        private byte[] localAddress;
        private int localPort;
        private int nextSequence;
        private int inFlight;
        private ScheduledFuture<?> pacer;
        private ScheduledFuture<?> timeouts;

        StunSocket(final int index, final long seed)
        {
            this.index = index;
            final long periodNs = settings.ratePerSender() > 0 ? (long)(SECOND_NS / settings.ratePerSender()) : 0;
            this.startJitterNs = periodNs > 0 ? Math.floorMod(seed, periodNs) : 0;
            this.slotSentNs = new long[settings.window()];
            this.slotSequence = new int[settings.window()];
            this.freeSlots = new int[settings.window()];
            Arrays.fill(slotSequence, -1);
            for (int slot = 0; slot < freeSlots.length; slot++)
            {
                freeSlots[slot] = freeSlots.length - 1 - slot;
            }
            freeCount = freeSlots.length;
        }

        void attach(final Channel channel)
        {
            this.channel = channel;
            final InetSocketAddress local = (InetSocketAddress)channel.localAddress();
            this.localAddress = local.getAddress().getAddress();
            this.localPort = local.getPort();
        }

        void start()
        {
            final long timeoutNs = settings.stunTimeout().toNanos();
            final long scanNs = Math.max(1_000_000L, Math.min(timeoutNs / 4, 100_000_000L));
            timeouts = channel.eventLoop().scheduleAtFixedRate(this::expire, scanNs, scanNs, TimeUnit.NANOSECONDS);
            if (settings.ratePerSender() > 0)
            {
                final long periodNs = Math.max(1_000L, (long)(SECOND_NS / settings.ratePerSender()));
                pacer = channel.eventLoop().scheduleAtFixedRate(this::paced, startJitterNs, periodNs,
                    TimeUnit.NANOSECONDS);
            }
            else
            {
                while (inFlight < slotSequence.length)
                {
                    send();
                }
                channel.flush();
            }
        }

        void stop()
        {
            if (null != pacer)
            {
                pacer.cancel(false);
            }
            if (null != timeouts)
            {
                timeouts.cancel(false);
            }
        }

        private void paced()
        {
            if (!sending)
            {
                return;
            }
            if (inFlight < slotSequence.length)
            {
                send();
                channel.flush();
            }
            else
            {
                skipped.incrementAndGet();
            }
        }

        private void send()
        {
            if (0 == freeCount)
            {
                return;
            }
            final int slot = freeSlots[--freeCount];
            final int sequence = nextSequence++ & 0xFFFF;
            final long nowNs = System.nanoTime();
            transactionId.putLong(0, nowNs);
            transactionId.putShort(8, (short)slot);
            transactionId.putShort(10, (short)sequence);
            StunMessages.writeTailscaleRequest(request, 0, transactionId, 0);
            final ByteBuf out = channel.alloc().directBuffer(StunMessages.TAILSCALE_REQUEST_LENGTH);
            out.writeBytes(request.byteArray());
            slotSequence[slot] = sequence;
            slotSentNs[slot] = nowNs;
            inFlight++;
            sent.incrementAndGet();
            channel.write(out, channel.voidPromise());
        }

        private void expire()
        {
            final long nowNs = System.nanoTime();
            final long timeoutNs = settings.stunTimeout().toNanos();
            int freed = 0;
            for (int slot = 0; slot < slotSequence.length; slot++)
            {
                if (slotSequence[slot] >= 0 && nowNs - slotSentNs[slot] > timeoutNs)
                {
                    free(slot);
                    lost.incrementAndGet();
                    freed++;
                }
            }
            if (freed > 0 && sending && settings.ratePerSender() <= 0)
            {
                for (int i = 0; i < freed; i++)
                {
                    send();
                }
                channel.flush();
            }
        }

        private void free(final int slot)
        {
            slotSequence[slot] = -1;
            freeSlots[freeCount++] = slot;
            inFlight--;
        }

        @Override
        protected void channelRead0(final ChannelHandlerContext ctx, final DatagramPacket packet)
        {
            final long nowNs = System.nanoTime();
            final ByteBuf content = packet.content();
            final int length = content.readableBytes();
            if (length > datagram.capacity())
            {
                malformed.incrementAndGet();
                return;
            }
            content.getBytes(content.readerIndex(), datagram.byteArray(), 0, length);
            if (!response.wrap(datagram, 0, length))
            {
                malformed.incrementAndGet();
                return;
            }
            final int at = response.transactionIdOffset();
            final long sentNs = datagram.getLong(at);
            final int slot = datagram.getShort(at + 8) & 0xFFFF;
            final int sequence = datagram.getShort(at + 10) & 0xFFFF;
            if (slot >= slotSequence.length || slotSequence[slot] != sequence || slotSentNs[slot] != sentNs)
            {
                late.incrementAndGet();
                return;
            }
            free(slot);
            if (!response.isAddress(localAddress, localPort))
            {
                wrongAddress.incrementAndGet();
            }
            answered.incrementAndGet();
            rttRecorder.recordValue(Math.max(0, nowNs - sentNs));
            if (sending && settings.ratePerSender() <= 0)
            {
                send();
            }
        }

        @Override
        public void channelReadComplete(final ChannelHandlerContext ctx)
        {
            ctx.flush();
        }

        @Override
        public void exceptionCaught(final ChannelHandlerContext ctx, final Throwable cause)
        {
            // ICMP port unreachable shows up as a read error on a connected socket; the requests then time out.
            readErrors.incrementAndGet();
        }

        @Override
        public String toString()
        {
            return "StunSocket#" + index;
        }
    }
}
