package io.jderper.transport;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.URI;
import java.nio.file.Path;
import java.security.SecureRandom;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;

import io.jderper.core.admission.AdmissionChain;
import io.jderper.core.admission.AdmissionDecision;
import io.jderper.core.admission.DenialReason;
import io.jderper.core.handshake.ServerHandshake;
import io.jderper.core.key.NodePrivateKey;
import io.jderper.core.router.RelayConfig;
import io.jderper.core.router.RelayMetrics;
import io.jderper.core.router.Router;
import io.jderper.tls.ManualCertificates;
import io.jderper.tls.MetaCertificate;
import io.jderper.tls.ServerCertificate;
import io.jderper.tls.ServerTlsContexts;
import io.jderper.tls.TlsProvider;
import io.jderper.transport.client.DerpClient;
import io.jderper.transport.client.DerpClientOptions;
import io.jderper.transport.client.DerpClients;
import io.jderper.transport.client.DerpTrust;
import io.jderper.transport.client.Recorder;
import io.netty.buffer.ByteBuf;
import io.netty.channel.EventLoopGroup;
import io.netty.handler.ssl.SslContext;
import io.netty.util.ReferenceCountUtil;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The bearer token travels from jderper's own client, in the upgrade request, to admission; a relay whose only
 * other check refuses everyone admits exactly the clients holding the token.
 */
class AdmissionTest
{
    private static final String TOKEN = "0123456789abcdef0123456789abcdef";

    @TempDir
    Path certdir;

    @Test
    void shouldAdmitTheClientWithTheRelaysTokenAndNoOther() throws Exception
    {
        final SecureRandom random = new SecureRandom();
        final NodePrivateKey serverKey = NodePrivateKey.generate(random);
        final ServerCertificate certificate = ManualCertificates.load(certdir, "127.0.0.1");
        final SslContext tls = ServerTlsContexts.create(TlsProvider.detect(),
            ManualCertificates.store(certificate, "127.0.0.1"), MetaCertificate.create(serverKey.publicKey().toHex()));
        final ServerHandshake handshake = new ServerHandshake(serverKey, Optional.empty(), random);
        final RelayMetrics metrics = new RelayMetrics();
        final Router<ByteBuf> router = new Router<>(handshake, new AdmissionChain(() -> null, TOKEN, List.of(
            request -> CompletableFuture.completedFuture(AdmissionDecision.denied(DenialReason.URL_REFUSED,
                "the test's service knows nobody")))), RelayConfig.defaults(2_000), metrics);
        final EventLoopGroup group = DerpClients.newEventLoopGroup(1);
        try (RelayServer server = RelayServer.start(new RelayServer.Settings(
                new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), Optional.of(tls), -1, handshake, router, 1));
            DerpClients clients = DerpClients.builder(group).build())
        {
            final URI url = URI.create("https://127.0.0.1:" + server.mainAddress().getPort() + "/derp");
            final DerpTrust pin = DerpTrust.sha256Raw(certificate.sha256RawPin());

            final DerpClient holder = clients.connect(DerpClientOptions.builder(url, NodePrivateKey.generate(random))
                .trust(pin).bearerToken(TOKEN).build(), new Recorder()).get(10, TimeUnit.SECONDS);
            assertThat(holder.isReady()).isTrue();
            holder.close();

            for (final String token : new String[] {TOKEN + "0", null})
            {
                final CompletableFuture<DerpClient> refused = clients.connect(DerpClientOptions.builder(url,
                    NodePrivateKey.generate(random)).trust(pin).bearerToken(token).build(), new Recorder());
                assertThatThrownBy(() -> refused.get(10, TimeUnit.SECONDS)).isInstanceOf(ExecutionException.class);
            }
            assertThat(metrics.admissionDenied(DenialReason.BAD_TOKEN)).isEqualTo(1);
            assertThat(metrics.admissionDenied(DenialReason.URL_REFUSED)).isEqualTo(1);
        }
        finally
        {
            group.shutdownGracefully(0, 1, TimeUnit.SECONDS).syncUninterruptibly();
            ReferenceCountUtil.release(tls);
        }
    }
}
