package io.jderper.loadgen;

import io.jderper.core.admission.AdmissionPolicy;
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
import io.jderper.transport.RelayServer;
import io.netty.buffer.ByteBuf;
import io.netty.handler.ssl.SslContext;
import io.netty.util.ReferenceCountUtil;

import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.file.Path;
import java.security.SecureRandom;
import java.util.Optional;

/**
 * A real jderper relay on loopback with a self-signed IP certificate, as the transport tests start one.
 */
final class TestRelay implements AutoCloseable
{
    static final String HOST = "127.0.0.1";

    final RelayMetrics metrics = new RelayMetrics();
    final ServerCertificate certificate;
    final RelayServer server;
    private final SslContext tls;

    TestRelay(final Path certdir) throws Exception
    {
        final SecureRandom random = new SecureRandom();
        final NodePrivateKey key = NodePrivateKey.generate(random);
        certificate = ManualCertificates.load(certdir, HOST);
        tls = ServerTlsContexts.create(TlsProvider.detect(), ManualCertificates.store(certificate, HOST),
            MetaCertificate.create(key.publicKey().toHex()));
        final ServerHandshake handshake = new ServerHandshake(key, Optional.empty(), random);
        final Router<ByteBuf> router = new Router<>(handshake, AdmissionPolicy.ADMIT_ALL,
            RelayConfig.defaults(ProtocolLimits.DEFAULT_WRITE_TIMEOUT_MS), metrics);
        server = RelayServer.start(new RelayServer.Settings(
            new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), Optional.of(tls), -1, handshake, router, 2));
    }

    String url()
    {
        return "https://" + HOST + ":" + server.mainAddress().getPort() + "/derp";
    }

    String pin()
    {
        return certificate.sha256RawPin();
    }

    @Override
    public void close()
    {
        server.close();
        ReferenceCountUtil.release(tls);
    }
}
