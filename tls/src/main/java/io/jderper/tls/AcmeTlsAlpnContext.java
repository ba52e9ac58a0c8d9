package io.jderper.tls;

import io.netty.handler.ssl.DelegatingSslContext;
import io.netty.handler.ssl.SslContext;
import io.netty.handler.ssl.SslContextBuilder;
import io.netty.handler.ssl.SslProvider;
import org.shredzone.acme4j.Identifier;
import org.shredzone.acme4j.challenge.TlsAlpn01Challenge;
import org.shredzone.acme4j.exception.AcmeException;

import javax.net.ssl.SSLEngine;
import javax.net.ssl.SSLException;
import java.security.KeyPair;
import java.security.cert.X509Certificate;

/**
 * The TLS context a tls-alpn-01 validation is answered with (RFC 8737): a self-signed certificate for the identifier
 * carrying the acmeIdentifier extension, and ALPN {@code acme-tls/1} selected. The CA closes after the handshake.
 */
final class AcmeTlsAlpnContext extends DelegatingSslContext
{
    private AcmeTlsAlpnContext(final SslContext delegate)
    {
        super(delegate);
    }

    static SslContext create(final TlsAlpn01Challenge challenge, final Identifier identifier) throws AcmeException
    {
        // RSA: acme4j 3.5 signs the challenge certificate with SHA256withRSA whatever key it is given.
        final KeyPair keys = org.shredzone.acme4j.util.KeyPairUtils.createKeyPair(2048);
        // Always the JDK provider: in case this is the JVM's first server handshake, settle renegotiation first.
        ServerTlsContexts.rejectClientInitiatedRenegotiation();
        final X509Certificate certificate = challenge.createCertificate(keys, identifier);
        try
        {
            return new AcmeTlsAlpnContext(SslContextBuilder.forServer(keys.getPrivate(), certificate)
                .sslProvider(SslProvider.JDK)
                .protocols(ServerTlsContexts.PROTOCOLS)
                .build());
        }
        catch (final SSLException ex)
        {
            throw new AcmeException("cannot build the tls-alpn-01 TLS context: " + ex.getMessage());
        }
    }

    @Override
    protected void initEngine(final SSLEngine engine)
    {
        engine.setHandshakeApplicationProtocolSelector((e, offered) ->
            offered.contains(ClientHelloPeek.ACME_TLS_1) ? ClientHelloPeek.ACME_TLS_1 : null);
    }
}
