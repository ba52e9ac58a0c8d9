package io.jderper.transport;

import io.jderper.core.admission.AdmissionPolicy;
import io.jderper.core.handshake.ServerHandshake;
import io.jderper.core.key.NodePrivateKey;
import io.jderper.core.protocol.Violation;
import io.jderper.core.router.RelayConfig;
import io.jderper.core.router.RelayMetrics;
import io.jderper.core.router.Router;
import io.jderper.tls.ManualCertificates;
import io.jderper.tls.MetaCertificate;
import io.jderper.tls.ServerCertificate;
import io.jderper.tls.ServerTlsContexts;
import io.jderper.tls.TlsProvider;
import io.jderper.transport.io.InputLimits;
import io.netty.buffer.ByteBuf;
import io.netty.handler.ssl.SslContext;
import io.netty.util.ReferenceCountUtil;

import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.file.Path;
import java.security.SecureRandom;
import java.time.Duration;
import java.util.Optional;
import java.util.function.BooleanSupplier;

/**
 * A real relay on loopback with a self-signed certificate, for tests that talk to it over sockets.
 */
final class RelayFixture implements AutoCloseable
{
    final RelayMetrics metrics = new RelayMetrics();
    final RelayServer server;
    private final SslContext tls;

    RelayFixture(final Path certdir, final RelayConfig config) throws Exception
    {
        this(certdir, config, InputLimits.DEFAULTS);
    }

    RelayFixture(final Path certdir, final RelayConfig config, final InputLimits inputs) throws Exception
    {
        final SecureRandom random = new SecureRandom();
        final NodePrivateKey key = NodePrivateKey.generate(random);
        final ServerCertificate certificate = ManualCertificates.load(certdir, "127.0.0.1");
        tls = ServerTlsContexts.create(TlsProvider.detect(),
            ManualCertificates.store(certificate, "127.0.0.1"), MetaCertificate.create(key.publicKey().toHex()));
        final ServerHandshake handshake = new ServerHandshake(key, Optional.empty(), random);
        final Router<ByteBuf> router = new Router<>(handshake, AdmissionPolicy.ADMIT_ALL, config, metrics);
        server = RelayServer.start(new RelayServer.Settings(
            new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), Optional.of(tls), -1, handshake, router, 2)
            .withInputLimits(inputs));
    }

    InetSocketAddress address()
    {
        return server.mainAddress();
    }

    long violations(final Violation violation)
    {
        return metrics.violations(violation);
    }

    /**
     * Waits for a condition the server reaches asynchronously (a counter it bumps when it closes a connection),
     * checking it until the deadline; fails with the description if it never holds.
     */
    static void await(final String what, final BooleanSupplier condition)
    {
        final long deadline = System.nanoTime() + Duration.ofSeconds(10).toNanos();
        while (!condition.getAsBoolean())
        {
            if (System.nanoTime() - deadline > 0)
            {
                throw new AssertionError("timed out waiting for: " + what);
            }
            Thread.onSpinWait();
            Thread.yield();
        }
    }

    @Override
    public void close()
    {
        server.close();
        ReferenceCountUtil.release(tls);
    }
}
