package io.jderper.tls;

import java.util.List;

import javax.net.ssl.SSLEngine;

import io.netty.handler.ssl.ApplicationProtocolNames;
import io.netty.handler.ssl.DelegatingSslContext;
import io.netty.handler.ssl.SslContext;

/**
 * Server ALPN that selects {@code http/1.1} when the client offers it and otherwise answers without ALPN, set on
 * each engine through the standard {@link SSLEngine#setHandshakeApplicationProtocolSelector} API.
 * <p>
 * Not Netty's {@code ApplicationProtocolConfig}: on Java 15 and later Netty wraps a Conscrypt engine in its JDK
 * ALPN wrapper, which expects {@code getApplicationProtocol()} to return {@code ""} after a handshake without ALPN.
 * Conscrypt returns null there, so every client that offers no ALPN (every DERP client) fails with an
 * AssertionError under {@code -ea} or a NullPointerException without it.
 * <p>
 * Consequence: {@code SslHandler.applicationProtocol()} returns null; read
 * {@code sslHandler.engine().getApplicationProtocol()} instead (null or empty both mean none).
 */
final class Http11OnlyAlpn extends DelegatingSslContext
{
    static final String PROTOCOL = ApplicationProtocolNames.HTTP_1_1;

    Http11OnlyAlpn(final SslContext delegate)
    {
        super(delegate);
    }

    @Override
    protected void initEngine(final SSLEngine engine)
    {
        try
        {
            engine.setHandshakeApplicationProtocolSelector(Http11OnlyAlpn::select);
        }
        catch (final UnsupportedOperationException ex)
        {
            // A provider without the API: the handshake then carries no ALPN, which DERP clients never send anyway.
        }
    }

    /**
     * @return {@code http/1.1} if offered, else {@code ""}: no ALPN in the answer rather than a fatal alert, so a
     * client that offers only {@code h2} still connects and falls back to HTTP/1.1.
     */
    static String select(final SSLEngine engine, final List<String> offered)
    {
        return offered.contains(PROTOCOL) ? PROTOCOL : "";
    }
}
