package io.jderper.transport.client;

import io.jderper.core.admission.AdmissionPolicy;
import io.jderper.core.handshake.ServerHandshake;
import io.jderper.core.key.NodePrivateKey;
import io.jderper.core.key.NodePublicKey;
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
import java.net.URI;
import java.nio.file.Path;
import java.security.SecureRandom;
import java.util.Optional;

/**
 * A real jderper relay on loopback for client tests: TLS with a self-signed IP certificate (and the meta
 * certificate) or plain HTTP, optionally with a mesh key.
 */
final class ClientTestRelay implements AutoCloseable
{
    static final String HOST = "127.0.0.1";

    final RelayMetrics metrics = new RelayMetrics();
    final NodePrivateKey serverKey;
    final ServerCertificate certificate;
    final Path certificateFile;
    final RelayServer server;
    private final Optional<SslContext> tls;

    private ClientTestRelay(final Path certdir, final byte[] meshKey, final TlsProvider tlsProvider) throws Exception
    {
        final SecureRandom random = new SecureRandom();
        serverKey = NodePrivateKey.generate(random);
        Optional<SslContext> context = Optional.empty();
        if (null != certdir)
        {
            certificate = ManualCertificates.load(certdir, HOST);
            certificateFile = certdir.resolve(ManualCertificates.fileBaseName(HOST) +
                ManualCertificates.CERTIFICATE_SUFFIX);
            context = Optional.of(ServerTlsContexts.create(tlsProvider,
                ManualCertificates.store(certificate, HOST), MetaCertificate.create(serverKey.publicKey().toHex())));
        }
        else
        {
            certificate = null;
            certificateFile = null;
        }
        tls = context;
        final ServerHandshake handshake = new ServerHandshake(serverKey, Optional.ofNullable(meshKey), random);
        final Router<ByteBuf> router = new Router<>(handshake, AdmissionPolicy.ADMIT_ALL,
            RelayConfig.defaults(ProtocolLimits.DEFAULT_WRITE_TIMEOUT_MS), metrics);
        server = RelayServer.start(new RelayServer.Settings(
            new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), tls, -1, handshake, router, 2));
    }

    static ClientTestRelay tls(final Path certdir) throws Exception
    {
        return new ClientTestRelay(certdir, null, TlsProvider.detect());
    }

    static ClientTestRelay tls(final Path certdir, final TlsProvider tlsProvider) throws Exception
    {
        return new ClientTestRelay(certdir, null, tlsProvider);
    }

    static ClientTestRelay tlsWithMeshKey(final Path certdir, final byte[] meshKey) throws Exception
    {
        return new ClientTestRelay(certdir, meshKey, TlsProvider.detect());
    }

    static ClientTestRelay plain() throws Exception
    {
        return new ClientTestRelay(null, null, TlsProvider.detect());
    }

    URI url()
    {
        return URI.create((null != certificate ? "https" : "http") + "://" + HOST + ":" +
            server.mainAddress().getPort() + "/derp");
    }

    DerpTrust pin()
    {
        return DerpTrust.sha256Raw(certificate.sha256RawPin());
    }

    NodePublicKey publicKey()
    {
        return serverKey.publicKey();
    }

    @Override
    public void close()
    {
        server.close();
        tls.ifPresent(ReferenceCountUtil::release);
    }
}
