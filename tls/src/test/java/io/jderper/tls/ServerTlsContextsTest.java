package io.jderper.tls;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Path;
import java.security.cert.X509Certificate;
import java.util.List;
import java.util.stream.Stream;

import javax.net.ssl.SSLException;

import io.netty.handler.ssl.SslContext;
import io.netty.handler.ssl.SslHandshakeCompletionEvent;
import org.bouncycastle.asn1.x500.X500Name;
import org.bouncycastle.asn1.x500.style.BCStyle;
import org.bouncycastle.asn1.x500.style.IETFUtils;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Real handshakes over loopback between the JDK's TLS client and a Netty server using the production context, run
 * on Conscrypt, OpenSSL (netty-tcnative) and the JDK provider.
 */
@Timeout(60)
class ServerTlsContextsTest
{
    private static final String DNS_HOSTNAME = "derp.example.com";
    private static final String IP_HOSTNAME = "127.0.0.1";
    private static final String SERVER_KEY_HEX = "00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff";

    @TempDir
    Path certdir;

    static Stream<TlsProvider> providers()
    {
        return Stream.of(TlsProvider.openSsl(), TlsProvider.conscrypt(), TlsProvider.jdk());
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("providers")
    void shouldNegotiateTls13AndPresentMetaCertificateLast(final TlsProvider provider) throws Exception
    {
        final ServerCertificate certificate = TestCertificates.selfSignedDns(DNS_HOSTNAME);
        try (LoopbackTlsServer server = dnsServer(provider, certificate))
        {
            final TlsTestClient.Handshake handshake =
                TlsTestClient.handshake(server.port(), TlsTestClient.Options.tls13().sni(DNS_HOSTNAME));

            assertThat(handshake.protocol()).isEqualTo("TLSv1.3");
            assertThat(handshake.peerChain()).hasSize(2);
            assertThat(handshake.peerChain().getFirst()).isEqualTo(certificate.leaf());
            assertThat(commonName(handshake.peerChain().getLast()))
                .isEqualTo(MetaCertificate.COMMON_NAME_PREFIX + SERVER_KEY_HEX);
            assertThat(server.awaitHandshake().cause()).as("server-side failure").isNull();
        }
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("providers")
    void shouldNegotiateTls12AndStillAppendMetaCertificate(final TlsProvider provider) throws Exception
    {
        final ServerCertificate certificate = TestCertificates.selfSignedDns(DNS_HOSTNAME);
        try (LoopbackTlsServer server = dnsServer(provider, certificate))
        {
            final TlsTestClient.Handshake handshake =
                TlsTestClient.handshake(server.port(), TlsTestClient.Options.tls12().sni(DNS_HOSTNAME));

            assertThat(handshake.protocol()).isEqualTo("TLSv1.2");
            assertThat(handshake.peerChain()).hasSize(2);
            assertThat(commonName(handshake.peerChain().getLast())).startsWith(MetaCertificate.COMMON_NAME_PREFIX);
            assertThat(server.awaitHandshake().cause()).as("server-side failure").isNull();
        }
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("providers")
    void shouldPresentIntermediatesBetweenLeafAndMetaCertificate(final TlsProvider provider) throws Exception
    {
        final ServerCertificate certificate = TestCertificates.caIssuedDns(DNS_HOSTNAME);
        try (LoopbackTlsServer server = dnsServer(provider, certificate))
        {
            final TlsTestClient.Handshake handshake =
                TlsTestClient.handshake(server.port(), TlsTestClient.Options.tls13().sni(DNS_HOSTNAME));

            assertThat(handshake.peerChain()).hasSize(3);
            assertThat(handshake.peerChain().subList(0, 2)).isEqualTo(certificate.chain());
            assertThat(commonName(handshake.peerChain().get(2))).startsWith(MetaCertificate.COMMON_NAME_PREFIX);
        }
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("providers")
    void shouldServeRsaCertificates(final TlsProvider provider) throws Exception
    {
        final ServerCertificate certificate = TestCertificates.selfSignedRsaDns(DNS_HOSTNAME);
        try (LoopbackTlsServer server = dnsServer(provider, certificate))
        {
            assertThat(TlsTestClient.handshake(server.port(), TlsTestClient.Options.tls13().sni(DNS_HOSTNAME))
                .peerChain().getFirst()).isEqualTo(certificate.leaf());
            assertThat(TlsTestClient.handshake(server.port(), TlsTestClient.Options.tls12().sni(DNS_HOSTNAME))
                .peerChain().getFirst()).isEqualTo(certificate.leaf());
        }
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("providers")
    void shouldRefuseStaticRsaKeyExchange(final TlsProvider provider) throws Exception
    {
        // The JDK's client no longer offers TLS_RSA_* suites at all, so a BoringSSL (Conscrypt) client asks.
        final TlsProvider client = TlsProvider.conscrypt();
        final ServerCertificate certificate = TestCertificates.selfSignedRsaDns(DNS_HOSTNAME);
        try (LoopbackTlsServer server = dnsServer(provider, certificate))
        {
            assertThat(conscryptTls12(client, server.port(), "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256"))
                .isEqualTo("TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256");
            org.assertj.core.api.Assertions.assertThatThrownBy(() ->
                conscryptTls12(client, server.port(), "TLS_RSA_WITH_AES_128_GCM_SHA256"))
                .isInstanceOf(javax.net.ssl.SSLException.class);
        }
    }

    private static String conscryptTls12(final TlsProvider client, final int port, final String suite)
        throws Exception
    {
        final javax.net.ssl.SSLContext context = javax.net.ssl.SSLContext.getInstance("TLS", client.provider());
        context.init(null, new javax.net.ssl.TrustManager[]{new javax.net.ssl.X509TrustManager()
        {
            @Override
            public void checkClientTrusted(final X509Certificate[] chain, final String authType)
            {
            }

            @Override
            public void checkServerTrusted(final X509Certificate[] chain, final String authType)
            {
            }

            @Override
            public X509Certificate[] getAcceptedIssuers()
            {
                return new X509Certificate[0];
            }
        }}, null);
        try (javax.net.ssl.SSLSocket socket = (javax.net.ssl.SSLSocket)context.getSocketFactory()
            .createSocket(java.net.InetAddress.getLoopbackAddress(), port))
        {
            socket.setSoTimeout(10_000);
            socket.setEnabledProtocols(new String[]{"TLSv1.2"});
            socket.setEnabledCipherSuites(new String[]{suite});
            final javax.net.ssl.SSLParameters parameters = socket.getSSLParameters();
            parameters.setServerNames(List.of(new javax.net.ssl.SNIHostName(DNS_HOSTNAME)));
            socket.setSSLParameters(parameters);
            socket.startHandshake();
            return socket.getSession().getCipherSuite();
        }
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("providers")
    void shouldSatisfyTheSha256RawPinRuleForASelfSignedIpCertificate(final TlsProvider provider) throws Exception
    {
        final ServerCertificate certificate = ManualCertificates.load(certdir, IP_HOSTNAME);
        try (LoopbackTlsServer server = ipServer(provider, certificate))
        {
            final TlsTestClient.Handshake handshake =
                TlsTestClient.handshake(server.port(), TlsTestClient.Options.tls13());

            // Spec §5.4 rule 5: ignoring derpkey certificates, exactly one certificate, and it matches the pin.
            final List<X509Certificate> pinned = handshake.peerChain().stream()
                .filter(c -> !commonName(c).startsWith(MetaCertificate.COMMON_NAME_PREFIX))
                .toList();
            assertThat(pinned).hasSize(1);
            assertThat(ServerCertificate.SHA256_RAW_PREFIX + Certificates.sha256Hex(pinned.getFirst()))
                .isEqualTo(certificate.sha256RawPin());
        }
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("providers")
    void shouldRefuseTls11ClientHello(final TlsProvider provider) throws Exception
    {
        try (LoopbackTlsServer server = ipServer(provider, ManualCertificates.load(certdir, IP_HOSTNAME)))
        {
            final byte[] answer = TlsTestClient.rawHello(server.port(), RawClientHello.record(RawClientHello.TLS_1_1));

            assertThat(answer[0]).as("record type").isEqualTo((byte)RawClientHello.CONTENT_ALERT);
            assertThat(answer[5]).as("alert level").isEqualTo((byte)RawClientHello.ALERT_FATAL);
            assertThat(answer[6]).as("alert").isEqualTo((byte)RawClientHello.ALERT_PROTOCOL_VERSION);
            assertThat(server.awaitHandshake().isSuccess()).isFalse();
        }
    }

    /**
     * The control for {@link #shouldRefuseTls11ClientHello}: the same hand-made hello at version 1.2 is answered
     * with a ServerHello, so the alert above is about the version and not a malformed hello.
     */
    @ParameterizedTest(name = "{0}")
    @MethodSource("providers")
    void shouldAnswerTheSameHandMadeHelloAtTls12(final TlsProvider provider) throws Exception
    {
        try (LoopbackTlsServer server = ipServer(provider, ManualCertificates.load(certdir, IP_HOSTNAME)))
        {
            final byte[] answer = TlsTestClient.rawHello(server.port(), RawClientHello.record(RawClientHello.TLS_1_2));

            assertThat(answer[0]).as("record type").isEqualTo((byte)RawClientHello.CONTENT_HANDSHAKE);
            assertThat(answer[5]).as("handshake type").isEqualTo((byte)RawClientHello.HANDSHAKE_SERVER_HELLO);
        }
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("providers")
    void shouldConnectClientOfferingNoAlpn(final TlsProvider provider) throws Exception
    {
        // DERP clients never offer ALPN. Check the server side too: over TLS 1.3 the client finishes first, so a
        // server that fails afterwards (as Netty's ALPN wrapper does on Conscrypt) would go unnoticed otherwise.
        try (LoopbackTlsServer server = dnsServer(provider, TestCertificates.selfSignedDns(DNS_HOSTNAME)))
        {
            final TlsTestClient.Handshake handshake =
                TlsTestClient.handshake(server.port(), TlsTestClient.Options.tls13().sni(DNS_HOSTNAME));

            assertThat(handshake.applicationProtocol()).isEmpty();
            assertThat(server.awaitHandshake().cause()).as("server-side failure").isNull();
        }
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("providers")
    void shouldSelectHttp11WhenOfferedAlongsideH2(final TlsProvider provider) throws Exception
    {
        try (LoopbackTlsServer server = dnsServer(provider, TestCertificates.selfSignedDns(DNS_HOSTNAME)))
        {
            final TlsTestClient.Handshake handshake = TlsTestClient.handshake(server.port(),
                TlsTestClient.Options.tls13().sni(DNS_HOSTNAME).alpn("h2", "http/1.1"));

            assertThat(handshake.applicationProtocol()).isEqualTo("http/1.1");
            assertThat(server.awaitHandshake().cause()).as("server-side failure").isNull();
        }
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("providers")
    void shouldNeitherSelectH2NorFailWhenOnlyH2IsOffered(final TlsProvider provider) throws Exception
    {
        try (LoopbackTlsServer server = dnsServer(provider, TestCertificates.selfSignedDns(DNS_HOSTNAME)))
        {
            final TlsTestClient.Handshake handshake = TlsTestClient.handshake(server.port(),
                TlsTestClient.Options.tls13().sni(DNS_HOSTNAME).alpn("h2"));

            assertThat(handshake.applicationProtocol()).isEmpty();
            assertThat(server.awaitHandshake().cause()).as("server-side failure").isNull();
        }
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("providers")
    void shouldRefuseMismatchedSniForDnsHostname(final TlsProvider provider) throws Exception
    {
        try (LoopbackTlsServer server = dnsServer(provider, TestCertificates.selfSignedDns(DNS_HOSTNAME)))
        {
            assertThatThrownBy(() -> TlsTestClient.handshake(server.port(),
                TlsTestClient.Options.tls13().sni("other.example.com"))).isInstanceOf(SSLException.class);
            assertThat(server.awaitHandshake().isSuccess()).isFalse();
            assertThatThrownBy(() -> TlsTestClient.handshake(server.port(),
                TlsTestClient.Options.tls12().sni("other.example.com"))).isInstanceOf(SSLException.class);
        }
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("providers")
    void shouldRefuseMissingSniForDnsHostnameLikeDerper(final TlsProvider provider) throws Exception
    {
        try (LoopbackTlsServer server = dnsServer(provider, TestCertificates.selfSignedDns(DNS_HOSTNAME)))
        {
            assertThatThrownBy(() -> TlsTestClient.handshake(server.port(), TlsTestClient.Options.tls13()))
                .isInstanceOf(SSLException.class);
            final SslHandshakeCompletionEvent outcome = server.awaitHandshake();
            assertThat(outcome.isSuccess()).isFalse();
        }
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("providers")
    void shouldAcceptDnsHostnameSniInAnyCase(final TlsProvider provider) throws Exception
    {
        try (LoopbackTlsServer server = dnsServer(provider, TestCertificates.selfSignedDns(DNS_HOSTNAME)))
        {
            assertThat(TlsTestClient.handshake(server.port(),
                TlsTestClient.Options.tls13().sni("DERP.Example.com")).protocol()).isEqualTo("TLSv1.3");
        }
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("providers")
    void shouldAcceptAnySniOrNoneForIpHostname(final TlsProvider provider) throws Exception
    {
        try (LoopbackTlsServer server = ipServer(provider, ManualCertificates.load(certdir, IP_HOSTNAME)))
        {
            assertThat(TlsTestClient.handshake(server.port(), TlsTestClient.Options.tls13()).protocol())
                .isEqualTo("TLSv1.3");
            assertThat(TlsTestClient.handshake(server.port(), TlsTestClient.Options.tls13().sni("any.example"))
                .protocol()).isEqualTo("TLSv1.3");
            assertThat(TlsTestClient.handshake(server.port(), TlsTestClient.Options.tls12().sni("any.example"))
                .protocol()).isEqualTo("TLSv1.2");
        }
    }

    /**
     * testssl.sh's renegotiation checks send no SNI, so against a DNS hostname they never reach this point; the JDK
     * provider allowed client-initiated renegotiation until {@link ServerTlsContexts} turned it off.
     */
    @ParameterizedTest(name = "{0}")
    @MethodSource("providers")
    void shouldRefuseClientInitiatedRenegotiation(final TlsProvider provider) throws Exception
    {
        try (LoopbackTlsServer server = dnsServer(provider, TestCertificates.selfSignedDns(DNS_HOSTNAME)))
        {
            assertThat(TlsTestClient.renegotiates(server.port(), DNS_HOSTNAME)).isFalse();
        }
    }

    private static LoopbackTlsServer dnsServer(final TlsProvider provider, final ServerCertificate certificate)
        throws SSLException
    {
        return server(provider, ManualCertificates.store(certificate, DNS_HOSTNAME));
    }

    private static LoopbackTlsServer ipServer(final TlsProvider provider, final ServerCertificate certificate)
        throws SSLException
    {
        return server(provider, ManualCertificates.store(certificate, IP_HOSTNAME));
    }

    private static LoopbackTlsServer server(final TlsProvider provider, final CertificateStore store)
        throws SSLException
    {
        final SslContext context = ServerTlsContexts.create(provider, store, MetaCertificate.create(SERVER_KEY_HEX));
        return new LoopbackTlsServer(context);
    }

    static String commonName(final X509Certificate certificate)
    {
        final X500Name name = X500Name.getInstance(certificate.getSubjectX500Principal().getEncoded());
        return IETFUtils.valueToString(name.getRDNs(BCStyle.CN)[0].getFirst().getValue());
    }
}
