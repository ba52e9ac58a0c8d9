package io.jderper.tls;

import org.junit.jupiter.api.Test;

import javax.net.ssl.SNIHostName;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLEngine;
import javax.net.ssl.SSLParameters;
import java.nio.ByteBuffer;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

class ClientHelloPeekTest
{
    /** The first record a real (JDK) TLS client sends with this SNI and ALPN list. */
    private static ByteBuffer clientHello(final String serverName, final String... protocols) throws Exception
    {
        final SSLEngine engine = SSLContext.getDefault().createSSLEngine(serverName, 443);
        engine.setUseClientMode(true);
        final SSLParameters parameters = engine.getSSLParameters();
        parameters.setServerNames(List.of(new SNIHostName(serverName)));
        parameters.setApplicationProtocols(protocols);
        engine.setSSLParameters(parameters);
        final ByteBuffer out = ByteBuffer.allocate(engine.getSession().getPacketBufferSize());
        engine.wrap(ByteBuffer.allocate(0), out);
        return out.flip();
    }

    @Test
    void findsTheNameAndAcmeTlsInARealClientHello() throws Exception
    {
        final ByteBuffer record = clientHello("Derp.Example.com", "acme-tls/1");

        assertThat(ClientHelloPeek.recordLength(record)).isEqualTo(record.remaining());
        assertThat(ClientHelloPeek.parse(record)).hasValue(
            new ClientHelloPeek(java.util.Optional.of("derp.example.com"), true));
    }

    @Test
    void seesNoAcmeTlsInAnOrdinaryClientHello() throws Exception
    {
        final ByteBuffer record = clientHello("derp.example.com", "h2", "http/1.1");

        assertThat(ClientHelloPeek.parse(record)).hasValueSatisfying(peek ->
            assertThat(peek.offersAcmeTls()).isFalse());
    }

    @Test
    void leavesTruncatedAndForeignBytesToTheEngine() throws Exception
    {
        final ByteBuffer record = clientHello("derp.example.com", "acme-tls/1");
        final ByteBuffer truncated = record.duplicate().limit(record.limit() - 20);

        assertThat(ClientHelloPeek.parse(truncated)).isEmpty();
        assertThat(ClientHelloPeek.recordLength(ByteBuffer.wrap("GET / HTTP/1.1".getBytes()))).isEqualTo(-1);
        assertThat(ClientHelloPeek.recordLength(ByteBuffer.wrap(new byte[] {0x16, 3}))).isEqualTo(5);
    }
}
