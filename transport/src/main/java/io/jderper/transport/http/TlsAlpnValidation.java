package io.jderper.transport.http;

import io.netty.handler.ssl.SslContext;

import java.util.Optional;

/**
 * ACME tls-alpn-01 (RFC 8737) as the TLS port sees it: while a validation runs, a connection whose ClientHello offers
 * {@code acme-tls/1} for the validated name gets the challenge's TLS context instead of the normal one.
 */
public interface TlsAlpnValidation
{
    /**
     * @return whether a validation runs now; when false, connections are not looked at.
     */
    boolean active();

    /**
     * @param serverName the ClientHello's SNI name, lower case.
     * @return the challenge's TLS context, if that name is being validated.
     */
    Optional<SslContext> contextFor(String serverName);
}
