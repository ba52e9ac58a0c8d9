/**
 * TLS for the relay: the JSSE provider (Conscrypt when it loads), the DERP meta certificate of spec §1.4,
 * derper's manual certificate mode of spec §5.2 and the Netty server {@code SslContext} that ties them together.
 * <p>
 * Typical start-up:
 * <pre>{@code
 * TlsProvider tls = TlsProvider.detect();
 * ServerCertificate cert = ManualCertificates.load(certdir, hostname);
 * X509Certificate meta = MetaCertificate.create(serverPublicKeyHex);
 * SslContext ctx = ServerTlsContexts.create(tls, ManualCertificates.store(cert, hostname), meta);
 * }</pre>
 */
package io.jderper.tls;
