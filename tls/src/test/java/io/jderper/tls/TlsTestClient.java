package io.jderper.tls;

import java.io.DataInputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.SocketException;
import java.net.SocketTimeoutException;
import java.security.GeneralSecurityException;
import java.security.cert.Certificate;
import java.security.cert.X509Certificate;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;

import javax.net.ssl.SNIHostName;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLEngine;
import javax.net.ssl.SSLException;
import javax.net.ssl.SSLParameters;
import javax.net.ssl.SSLSession;
import javax.net.ssl.SSLSocket;
import javax.net.ssl.TrustManager;
import javax.net.ssl.X509ExtendedTrustManager;

/**
 * A TLS client on the JDK's own provider, independent of the server's, that trusts anything and reports what it
 * negotiated and which chain it received. Every socket operation has a timeout.
 */
final class TlsTestClient
{
    private static final int TIMEOUT_MS = 10_000;
    /** How long a renegotiation the server goes through with may take to complete on loopback. */
    private static final int RENEGOTIATION_MS = 3_000;

    private TlsTestClient()
    {
    }

    /**
     * @param protocols            protocol versions the client offers.
     * @param serverName           SNI to send, or null for none.
     * @param applicationProtocols ALPN protocols to offer, or null to send no ALPN extension.
     */
    record Options(List<String> protocols, String serverName, List<String> applicationProtocols)
    {
        static Options tls13()
        {
            return new Options(List.of("TLSv1.3"), null, null);
        }

        static Options tls12()
        {
            return new Options(List.of("TLSv1.2"), null, null);
        }

        Options sni(final String name)
        {
            return new Options(protocols, name, applicationProtocols);
        }

        Options alpn(final String... names)
        {
            return new Options(protocols, serverName, List.of(names));
        }
    }

    /**
     * @param applicationProtocol the ALPN protocol selected, empty if none.
     */
    record Handshake(String protocol, String applicationProtocol, List<X509Certificate> peerChain)
    {
    }

    static Handshake handshake(final int port, final Options options) throws IOException, GeneralSecurityException
    {
        try (SSLSocket socket = connect(port))
        {
            final SSLParameters parameters = socket.getSSLParameters();
            parameters.setProtocols(options.protocols().toArray(String[]::new));
            parameters.setServerNames(null == options.serverName() ?
                List.of() : List.of(new SNIHostName(options.serverName())));
            if (null != options.applicationProtocols())
            {
                parameters.setApplicationProtocols(options.applicationProtocols().toArray(String[]::new));
            }
            socket.setSSLParameters(parameters);
            socket.startHandshake();
            final SSLSession session = socket.getSession();
            final Certificate[] chain = session.getPeerCertificates();
            return new Handshake(session.getProtocol(), socket.getApplicationProtocol(),
                Arrays.stream(chain).map(X509Certificate.class::cast).toList());
        }
    }

    /**
     * @return a JDK TLS socket that trusts any server, connected to the loopback port, handshake not yet started.
     */
    private static SSLSocket connect(final int port) throws IOException, GeneralSecurityException
    {
        final SSLContext context = SSLContext.getInstance("TLS", "SunJSSE");
        context.init(null, new TrustManager[] {new TrustEverything()}, null);
        final SSLSocket socket = (SSLSocket)context.getSocketFactory().createSocket();
        try
        {
            socket.connect(new InetSocketAddress(InetAddress.getLoopbackAddress(), port), TIMEOUT_MS);
            socket.setSoTimeout(TIMEOUT_MS);
            return socket;
        }
        catch (final IOException ex)
        {
            socket.close();
            throw ex;
        }
    }

    /**
     * Completes a TLS 1.2 handshake, then asks for a second full handshake on the same connection: client-initiated
     * renegotiation, which lets a client make the server do a private-key operation per request at no cost of its
     * own (CVE-2011-1473). The first session is invalidated so the second handshake cannot be a resumption.
     *
     * @return whether the server went through with the second handshake.
     */
    static boolean renegotiates(final int port, final String serverName)
        throws IOException, GeneralSecurityException, InterruptedException
    {
        try (SSLSocket socket = connect(port))
        {
            final SSLParameters parameters = socket.getSSLParameters();
            parameters.setProtocols(new String[] {"TLSv1.2"});
            parameters.setServerNames(List.of(new SNIHostName(serverName)));
            socket.setSSLParameters(parameters);
            final BlockingQueue<SSLSession> completed = new LinkedBlockingQueue<>();
            socket.addHandshakeCompletedListener(event -> completed.add(event.getSession()));
            socket.startHandshake();
            final SSLSession first = completed.poll(TIMEOUT_MS, TimeUnit.MILLISECONDS);
            if (null == first)
            {
                throw new AssertionError("the first handshake reported no completion within " + TIMEOUT_MS + " ms");
            }
            first.invalidate();
            try
            {
                // On a negotiated connection this only sends the ClientHello; reading drives the handshake. The test
                // server never sends data, so the read ends with the server's alert, its close, or the timeout.
                socket.startHandshake();
                socket.setSoTimeout(RENEGOTIATION_MS);
                socket.getInputStream().read();
            }
            catch (final SocketTimeoutException ex)
            {
                // Nothing more arrived: whether a second handshake completed meanwhile is what the listener says.
            }
            catch (final SSLException | SocketException ex)
            {
                return false;
            }
            final SSLSession second = completed.poll(RENEGOTIATION_MS, TimeUnit.MILLISECONDS);
            return null != second;
        }
    }

    /**
     * Sends a hand-made ClientHello and returns the first 7 bytes the server answers with: a record header and
     * the first two bytes of its body (handshake type, or alert level and description). Needed because the JDK
     * client refuses to offer TLS 1.1 at all, so it cannot show that the server refuses it.
     */
    static byte[] rawHello(final int port, final byte[] clientHello) throws IOException
    {
        try (Socket socket = new Socket())
        {
            socket.connect(new InetSocketAddress(InetAddress.getLoopbackAddress(), port), TIMEOUT_MS);
            socket.setSoTimeout(TIMEOUT_MS);
            final OutputStream out = socket.getOutputStream();
            out.write(clientHello);
            out.flush();
            final byte[] answer = new byte[7];
            new DataInputStream(socket.getInputStream()).readFully(answer);
            return answer;
        }
    }

    private static final class TrustEverything extends X509ExtendedTrustManager
    {
        @Override
        public void checkClientTrusted(final X509Certificate[] chain, final String authType, final Socket socket)
        {
        }

        @Override
        public void checkServerTrusted(final X509Certificate[] chain, final String authType, final Socket socket)
        {
        }

        @Override
        public void checkClientTrusted(final X509Certificate[] chain, final String authType, final SSLEngine engine)
        {
        }

        @Override
        public void checkServerTrusted(final X509Certificate[] chain, final String authType, final SSLEngine engine)
        {
        }

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
    }
}
