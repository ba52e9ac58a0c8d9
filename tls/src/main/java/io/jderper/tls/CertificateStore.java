package io.jderper.tls;

/**
 * Chooses the certificate for one handshake from the SNI host name the client sent. This is where a certificate
 * mode applies its SNI rule: returning null refuses the handshake.
 * <p>
 * Called on the TLS engine's thread during every handshake, so implementations must be thread-safe, must not
 * block and should return the same {@link ServerCertificate} instance until the certificate really changes.
 */
@FunctionalInterface
public interface CertificateStore
{
    /**
     * @param requestedServerName the SNI host name from the ClientHello, or null if the client sent none.
     * @return the certificate to present, or null to fail the handshake.
     */
    ServerCertificate select(String requestedServerName);
}
