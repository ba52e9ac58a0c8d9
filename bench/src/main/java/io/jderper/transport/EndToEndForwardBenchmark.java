package io.jderper.transport;

import io.jderper.core.admission.AdmissionPolicy;
import io.jderper.bench.AbstractMicrobenchmark;
import io.jderper.bench.ThreadAllocationProfiler;
import io.jderper.core.handshake.ServerHandshake;
import io.jderper.core.key.NodePrivateKey;
import io.jderper.core.protocol.ProtocolLimits;
import io.jderper.core.router.RelayConfig;
import io.jderper.core.router.RelayMetrics;
import io.jderper.core.router.Router;
import io.jderper.tls.ManualCertificates;
import io.jderper.tls.MetaCertificate;
import io.jderper.tls.ServerCertificate;
import io.jderper.tls.ServerTlsContexts;
import io.jderper.tls.TlsProvider;
import io.jderper.transport.client.DerpClient;
import io.jderper.transport.client.DerpClientListener;
import io.jderper.transport.client.DerpClientOptions;
import io.jderper.transport.client.DerpClients;
import io.jderper.transport.client.DerpTrust;
import io.jderper.transport.io.IoTransport;
import io.netty.buffer.ByteBuf;
import io.netty.channel.EventLoopGroup;
import io.netty.handler.ssl.SslContext;
import org.agrona.DirectBuffer;
import org.agrona.concurrent.UnsafeBuffer;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OperationsPerInvocation;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Threads;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.URI;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.SecureRandom;
import java.util.Comparator;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.LockSupport;
import java.util.stream.Stream;

/**
 * The whole relay in one process: a real {@link RelayServer} on loopback (one event loop, as when pinned to one core)
 * and two real DERP clients on their own event loop, one sending SendPacket frames to the other through the relay,
 * over plain HTTP or TLS.
 *
 * <ul>
 *   <li>{@link #forwardWindow}: throughput, packets per second. An invocation sends a window of 16 packets (the
 *       loadgen's lossless window, below the relay's 32-deep queue) in one flush and waits until all 16 arrive;
 *       each packet is one operation.</li>
 *   <li>{@link #forwardOne}: latency. One packet, sent and awaited, sampled.</li>
 * </ul>
 *
 * <p>Allocation: JMH's {@code gc.alloc.rate.norm} counts every thread, the clients' included. Run with
 * {@code -prof io.jderper.bench.ThreadAllocationProfiler} for the relay's own event loop: its
 * {@code threads.alloc.norm} is the forward path's allocation per packet. Plain HTTP on epoll: 0 B. Plain HTTP on
 * io_uring: about 1 B, all of it Netty's io_uring transport (a lambda per event-loop wake-up, an operation object per
 * writev). TLS: the engine's result object per record and SslHandler's promise per flush, spread over the packets
 * of a record (budget 64 B per packet).
 */
@State(Scope.Benchmark)
@Threads(1)
public class EndToEndForwardBenchmark extends AbstractMicrobenchmark
{
    /** Packets in flight per {@link #forwardWindow} invocation: the loadgen's lossless window. */
    public static final int WINDOW = 16;

    private static final String HOST = "127.0.0.1";
    private static final long DELIVERY_TIMEOUT_NS = TimeUnit.SECONDS.toNanos(10);

    @Param({"plain", "tls"})
    public String transport;

    /** The relay's and the clients' I/O transport ({@link IoTransport}): Netty's io_uring or epoll. */
    @Param({"io_uring", "epoll"})
    public String io;

    /** As WireGuard over DERP. */
    @Param({"1200"})
    public int packetBytes;

    private Path certdir;
    private RelayServer relay;
    private EventLoopGroup clientLoop;
    private DerpClients clients;
    private DerpClient sender;
    private DerpClient receiver;
    private UnsafeBuffer receiverKey;
    private UnsafeBuffer payload;
    private final Delivery delivery = new Delivery();
    private final SendWindow sendWindow = new SendWindow();
    private final SendOne sendOne = new SendOne();

    @Setup(Level.Trial)
    public void startRelayAndClients() throws Exception
    {
        // The relay's own start-up does this (server Main); this benchmark starts the relay without Main.
        LeakDetection.disableUnlessConfigured();
        System.setProperty(IoTransport.FORCE_PROPERTY, io);
        final SecureRandom random = new SecureRandom();
        final NodePrivateKey serverKey = NodePrivateKey.generate(random);
        final ServerHandshake handshake = new ServerHandshake(serverKey, Optional.empty(), random);
        final Router<ByteBuf> router = new Router<>(handshake, AdmissionPolicy.ADMIT_ALL,
            RelayConfig.defaults(ProtocolLimits.DEFAULT_WRITE_TIMEOUT_MS), new RelayMetrics());
        final boolean tls = switch (transport)
        {
            case "tls" -> true;
            case "plain" -> false;
            default -> throw new IllegalArgumentException("transport=" + transport + ", want plain or tls");
        };
        Optional<SslContext> serverTls = Optional.empty();
        DerpTrust trust = DerpTrust.system();
        if (tls)
        {
            certdir = Files.createTempDirectory("jderper-bench-certs");
            final ServerCertificate certificate = ManualCertificates.load(certdir, HOST);
            serverTls = Optional.of(ServerTlsContexts.create(TlsProvider.detect(),
                ManualCertificates.store(certificate, HOST), MetaCertificate.create(serverKey.publicKey().toHex())));
            trust = DerpTrust.sha256Raw(certificate.sha256RawPin());
        }
        relay = RelayServer.start(new RelayServer.Settings(new InetSocketAddress(InetAddress.getByName(HOST), 0),
            serverTls, -1, handshake, router, 1));
        final URI url = URI.create((tls ? "https://" : "http://") + HOST + ":" + relay.mainAddress().getPort() + "/derp");

        clientLoop = DerpClients.newEventLoopGroup(1);
        clients = DerpClients.builder(clientLoop).build();
        final NodePrivateKey receiverPrivate = NodePrivateKey.generate(random);
        receiver = clients.open(DerpClientOptions.builder(url, receiverPrivate).trust(trust).build(), delivery);
        sender = clients.open(DerpClientOptions.builder(url, NodePrivateKey.generate(random)).trust(trust).build(),
            delivery);
        receiver.ready().get(10, TimeUnit.SECONDS);
        sender.ready().get(10, TimeUnit.SECONDS);
        receiverKey = new UnsafeBuffer(receiverPrivate.publicKey().toBytes());
        payload = new UnsafeBuffer(ByteBuffer.allocateDirect(packetBytes));
        delivery.waiter = Thread.currentThread();
        awaitRoute();
    }

    /** The receiver's registration may trail its ServerInfo by a moment: probe until a packet gets through. */
    private void awaitRoute()
    {
        final long deadline = System.nanoTime() + DELIVERY_TIMEOUT_NS;
        while (delivery.received.get() == 0)
        {
            if (System.nanoTime() - deadline > 0)
            {
                throw new IllegalStateException("no packet reached the receiver through the relay in 10 s");
            }
            sender.eventLoop().execute(sendOne);
            LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(50));
        }
    }

    @Benchmark
    @BenchmarkMode(Mode.Throughput)
    @OutputTimeUnit(TimeUnit.SECONDS)
    @OperationsPerInvocation(WINDOW)
    public void forwardWindow()
    {
        final long target = delivery.received.get() + WINDOW;
        delivery.target = target;
        sender.eventLoop().execute(sendWindow);
        delivery.await(target);
    }

    @Benchmark
    @BenchmarkMode(Mode.SampleTime)
    @OutputTimeUnit(TimeUnit.MICROSECONDS)
    public void forwardOne()
    {
        final long target = delivery.received.get() + 1;
        delivery.target = target;
        sender.eventLoop().execute(sendOne);
        delivery.await(target);
    }

    @TearDown(Level.Trial)
    public void stop() throws IOException
    {
        // Packets still in flight after the last invocation may arrive during shutdown: nothing waits for them.
        delivery.waiter = null;
        ThreadAllocationProfiler.recordBeforeShutdown();
        if (null != sender)
        {
            sender.close();
        }
        if (null != receiver)
        {
            receiver.close();
        }
        if (null != clientLoop)
        {
            clientLoop.shutdownGracefully(0, 1, TimeUnit.SECONDS).syncUninterruptibly();
        }
        if (null != clients)
        {
            clients.close();
        }
        if (null != relay)
        {
            relay.close();
        }
        if (null != certdir)
        {
            try (Stream<Path> files = Files.walk(certdir))
            {
                files.sorted(Comparator.reverseOrder()).forEach(EndToEndForwardBenchmark::delete);
            }
        }
    }

    private static void delete(final Path path)
    {
        try
        {
            Files.delete(path);
        }
        catch (final IOException ex)
        {
            throw new UncheckedIOException(ex);
        }
    }

    /** Runs on the clients' event loop: the window as 16 frames in one flush. */
    private final class SendWindow implements Runnable
    {
        @Override
        public void run()
        {
            for (int i = 0; i < WINDOW; i++)
            {
                sender.sendPacket(receiverKey, 0, payload, 0, packetBytes);
            }
            sender.flush();
        }
    }

    /** Runs on the clients' event loop: one frame, flushed. */
    private final class SendOne implements Runnable
    {
        @Override
        public void run()
        {
            sender.sendPacket(receiverKey, 0, payload, 0, packetBytes);
            sender.flush();
        }
    }

    /** Counts arrivals on the clients' event loop and wakes the benchmark thread when its target is reached. */
    private static final class Delivery implements DerpClientListener
    {
        final AtomicLong received = new AtomicLong();
        volatile long target = Long.MAX_VALUE;
        volatile Thread waiter;
        volatile Throwable closedBy;

        @Override
        public void onRecvPacket(
            final DerpClient client, final DirectBuffer source, final int sourceOffset, final DirectBuffer data,
            final int dataOffset, final int dataLength)
        {
            if (received.incrementAndGet() >= target)
            {
                final Thread thread = waiter;
                if (null != thread)
                {
                    LockSupport.unpark(thread);
                }
            }
        }

        @Override
        public void onClosed(final DerpClient client, final Throwable cause)
        {
            closedBy = null == cause ? new IllegalStateException(client + " closed") : cause;
            final Thread thread = waiter;
            if (null != thread)
            {
                LockSupport.unpark(thread);
            }
        }

        void await(final long until)
        {
            final long deadline = System.nanoTime() + DELIVERY_TIMEOUT_NS;
            while (received.get() < until)
            {
                final Throwable closed = closedBy;
                if (null != closed)
                {
                    throw new IllegalStateException("a client's connection ended mid-benchmark", closed);
                }
                final long left = deadline - System.nanoTime();
                if (left <= 0)
                {
                    throw new IllegalStateException("packets not delivered within 10 s: received " +
                        received.get() + ", waiting for " + until);
                }
                LockSupport.parkNanos(this, left);
            }
        }
    }
}
