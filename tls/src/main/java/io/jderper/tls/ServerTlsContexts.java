package io.jderper.tls;

import java.security.cert.X509Certificate;
import java.util.List;

import javax.net.ssl.KeyManagerFactory;
import javax.net.ssl.SSLException;
import javax.net.ssl.X509ExtendedKeyManager;

import io.netty.handler.ssl.ApplicationProtocolConfig;
import io.netty.handler.ssl.OpenSslCachingX509KeyManagerFactory;
import io.netty.handler.ssl.SslContext;
import io.netty.handler.ssl.SslContextBuilder;
import io.netty.handler.ssl.SupportedCipherSuiteFilter;
import io.netty.handler.ssl.util.KeyManagerFactoryWrapper;

/**
 * Builds the Netty {@link SslContext} for the relay's TLS listener.
 * <ul>
 *   <li>The engine of the chosen {@link TlsProvider}: Netty's JDK engine path for a JSSE provider (this is how
 *       Conscrypt runs under Netty), or Netty's native engine for OpenSSL.</li>
 *   <li>TLS 1.3 and 1.2 only; derper's minimum is 1.2 and fast start needs 1.3 (spec §1.4, §1.5).</li>
 *   <li>ALPN selects only {@code http/1.1}: DERP upgrades only over HTTP/1.1, and derper's manual mode dropped
 *       {@code h2} after HTTP/2-speaking proxies broke clients (spec §1.5). A client offering no ALPN, or only
 *       protocols we lack, still connects and gets none selected. Because ALPN is set per engine rather than
 *       through Netty's {@code ApplicationProtocolConfig}, {@code SslHandler.applicationProtocol()} returns null;
 *       use {@code sslHandler.engine().getApplicationProtocol()}.</li>
 *   <li>Certificates come from a {@link ServerKeyManager}, which applies the store's SNI rule and appends the
 *       meta certificate.</li>
 *   <li>No client-initiated renegotiation (TLS 1.2), as Go's crypto/tls: it lets a client make the server do a
 *       private-key operation per request at no cost of its own (CVE-2011-1473). BoringSSL (OpenSSL, Conscrypt)
 *       never allows it; the JDK provider does unless {@value #REJECT_CLIENT_RENEGOTIATION} is true, which
 *       {@link #create} sets.</li>
 * </ul>
 */
public final class ServerTlsContexts
{
    /**
     * The protocol versions enabled, newest first.
     */
    public static final List<String> PROTOCOLS = List.of("TLSv1.3", "TLSv1.2");

    /**
     * The only ALPN protocol offered.
     */
    public static final String ALPN_PROTOCOL = Http11OnlyAlpn.PROTOCOL;

    /**
     * Forward-secret AEAD suites only, in Go's order of preference: TLS 1.3's three, then ECDHE with AES-GCM or
     * ChaCha20 for TLS 1.2. Netty's defaults would also offer static-RSA key exchange, which Go no longer does.
     * Suites the provider lacks are filtered out.
     */
    public static final List<String> CIPHER_SUITES = List.of(
        "TLS_AES_128_GCM_SHA256",
        "TLS_AES_256_GCM_SHA384",
        "TLS_CHACHA20_POLY1305_SHA256",
        "TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256",
        "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256",
        "TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384",
        "TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384",
        "TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256",
        "TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256");

    /**
     * The JDK's switch for refusing client-initiated renegotiation. JSSE reads it once, at the first server-side
     * handshake in the JVM, so it is set before any server context is built.
     */
    static final String REJECT_CLIENT_RENEGOTIATION = "jdk.tls.rejectClientInitiatedRenegotiation";

    /** Native key materials OpenSSL keeps, a few more than the certificates a key manager remembers. */
    private static final int CACHED_KEY_MATERIALS = 16;

    private ServerTlsContexts()
    {
    }

    /**
     * @param tlsProvider     the JSSE provider to run TLS on.
     * @param store           chooses, or refuses, the certificate for each handshake.
     * @param metaCertificate appended after every chain, from {@link MetaCertificate#create(String)}.
     * @return a server context; share it between all connections.
     * @throws SSLException if the provider cannot build a context with these settings.
     */
    public static SslContext create(
        final TlsProvider tlsProvider, final CertificateStore store, final X509Certificate metaCertificate)
        throws SSLException
    {
        return create(tlsProvider, new ServerKeyManager(store, metaCertificate));
    }

    /**
     * @param tlsProvider the JSSE provider to run TLS on.
     * @param keyManager  supplies the certificate chain for each handshake.
     * @return a server context; share it between all connections.
     * @throws SSLException if the provider cannot build a context with these settings.
     */
    public static SslContext create(final TlsProvider tlsProvider, final X509ExtendedKeyManager keyManager)
        throws SSLException
    {
        rejectClientInitiatedRenegotiation();
        final KeyManagerFactory keys = tlsProvider.isOpenSsl() ?
            // Without the caching factory Netty converts the chain and key to native form on every handshake. An
            // alias names one prepared certificate for good, so caching by alias is exact; aliases the key manager
            // has forgotten are evicted when the cache is full.
            new OpenSslCachingX509KeyManagerFactory(new KeyManagerFactoryWrapper(keyManager), CACHED_KEY_MATERIALS) :
            new KeyManagerFactoryWrapper(keyManager);
        final SslContextBuilder builder = tlsProvider.configure(SslContextBuilder.forServer(keys))
            .protocols(PROTOCOLS)
            .ciphers(CIPHER_SUITES, SupportedCipherSuiteFilter.INSTANCE);
        if (tlsProvider.isOpenSsl())
        {
            // Netty's native engine has no per-engine selector, and its own ALPN path handles "no ALPN" correctly.
            return builder.applicationProtocolConfig(new ApplicationProtocolConfig(ApplicationProtocolConfig.Protocol.ALPN,
                ApplicationProtocolConfig.SelectorFailureBehavior.NO_ADVERTISE,
                ApplicationProtocolConfig.SelectedListenerFailureBehavior.ACCEPT, ALPN_PROTOCOL)).build();
        }
        // No applicationProtocolConfig for JSSE engines: see Http11OnlyAlpn for why ALPN is set on each engine.
        return new Http11OnlyAlpn(builder.build());
    }

    /**
     * Makes the JDK provider refuse client-initiated renegotiation with a handshake_failure alert, unless the
     * operator chose otherwise with {@code -D}{@value #REJECT_CLIENT_RENEGOTIATION}. Call before building any server
     * context that may run on the JDK provider.
     */
    static void rejectClientInitiatedRenegotiation()
    {
        if (null == System.getProperty(REJECT_CLIENT_RENEGOTIATION))
        {
            System.setProperty(REJECT_CLIENT_RENEGOTIATION, "true");
        }
    }
}
