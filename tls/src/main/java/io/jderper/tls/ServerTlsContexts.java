package io.jderper.tls;

import java.security.cert.X509Certificate;
import java.util.List;

import javax.net.ssl.SSLException;
import javax.net.ssl.X509ExtendedKeyManager;

import io.netty.handler.ssl.SslContext;
import io.netty.handler.ssl.SslContextBuilder;
import io.netty.handler.ssl.SslProvider;
import io.netty.handler.ssl.util.KeyManagerFactoryWrapper;

/**
 * Builds the Netty {@link SslContext} for the relay's TLS listener.
 * <ul>
 *   <li>Netty's JDK engine path with the chosen JSSE provider: this is how Conscrypt runs under Netty without
 *       netty-tcnative.</li>
 *   <li>TLS 1.3 and 1.2 only; derper's minimum is 1.2 and fast start needs 1.3 (spec §1.4, §1.5).</li>
 *   <li>ALPN selects only {@code http/1.1}: DERP upgrades only over HTTP/1.1, and derper's manual mode dropped
 *       {@code h2} after HTTP/2-speaking proxies broke clients (spec §1.5). A client offering no ALPN, or only
 *       protocols we lack, still connects and gets none selected. Because ALPN is set per engine rather than
 *       through Netty's {@code ApplicationProtocolConfig}, {@code SslHandler.applicationProtocol()} returns null;
 *       use {@code sslHandler.engine().getApplicationProtocol()}.</li>
 *   <li>Certificates come from a {@link ServerKeyManager}, which applies the store's SNI rule and appends the
 *       meta certificate.</li>
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
        // No applicationProtocolConfig here: see Http11OnlyAlpn for why ALPN is set on each engine instead.
        return new Http11OnlyAlpn(SslContextBuilder.forServer(new KeyManagerFactoryWrapper(keyManager))
            .sslProvider(SslProvider.JDK)
            .sslContextProvider(tlsProvider.provider())
            .protocols(PROTOCOLS)
            .build());
    }
}
