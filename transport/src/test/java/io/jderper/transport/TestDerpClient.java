package io.jderper.transport;

import io.jderper.core.crypto.NaclBox;
import io.jderper.core.key.NodePrivateKey;
import io.jderper.core.key.NodePublicKey;
import io.jderper.core.protocol.FrameType;

import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLSocket;
import javax.net.ssl.TrustManager;
import javax.net.ssl.X509TrustManager;
import java.io.ByteArrayOutputStream;
import java.io.DataInputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.security.SecureRandom;
import java.security.cert.X509Certificate;
import java.util.Arrays;

/**
 * A blocking DERP client for tests: raw frames over TLS (or plain TCP), so tests can send what a real client
 * never would. Every read has a timeout.
 */
final class TestDerpClient implements AutoCloseable
{
    static final int READ_TIMEOUT_MS = 10_000;
    private static final SecureRandom RANDOM = new SecureRandom();

    final NodePrivateKey key = NodePrivateKey.generate(RANDOM);
    private final Socket socket;
    private final DataInputStream in;
    private final OutputStream out;
    private byte[] serverPublicKey;

    private TestDerpClient(final Socket socket) throws IOException
    {
        this.socket = socket;
        socket.setSoTimeout(READ_TIMEOUT_MS);
        this.in = new DataInputStream(socket.getInputStream());
        this.out = socket.getOutputStream();
    }

    static Socket openTls(final InetSocketAddress address) throws Exception
    {
        return openTls(address, null);
    }

    /**
     * @param protocols the TLS versions to offer, or null for the JDK's defaults.
     */
    static SSLSocket openTls(final InetSocketAddress address, final String[] protocols) throws Exception
    {
        final SSLContext context = SSLContext.getInstance("TLS");
        context.init(null, new TrustManager[]{new TrustAll()}, RANDOM);
        final SSLSocket socket = (SSLSocket)context.getSocketFactory().createSocket();
        if (null != protocols)
        {
            socket.setEnabledProtocols(protocols);
        }
        socket.connect(address, READ_TIMEOUT_MS);
        socket.setSoTimeout(READ_TIMEOUT_MS);
        socket.startHandshake();
        return socket;
    }

    /**
     * Connects over TLS and performs the HTTP upgrade (no fast start), reading the 101 and ServerKey.
     */
    static TestDerpClient upgraded(final InetSocketAddress address) throws Exception
    {
        final TestDerpClient client = new TestDerpClient(openTls(address));
        client.upgrade();
        return client;
    }

    /**
     * Connects, upgrades and completes the handshake (ClientInfo sent, ServerInfo read).
     */
    static TestDerpClient connected(final InetSocketAddress address) throws Exception
    {
        return handshaken(new TestDerpClient(openTls(address)));
    }

    /**
     * As {@link #connected(InetSocketAddress)}, over the given socket.
     */
    static TestDerpClient connected(final Socket socket) throws Exception
    {
        return handshaken(new TestDerpClient(socket));
    }

    private static TestDerpClient handshaken(final TestDerpClient client) throws Exception
    {
        client.upgrade();
        client.sendClientInfo("{\"version\":2,\"CanAckPings\":true}");
        client.expectServerInfo();
        return client;
    }

    NodePublicKey publicKey()
    {
        return key.publicKey();
    }

    void upgrade() throws IOException
    {
        out.write("GET /derp HTTP/1.1\r\nHost: test\r\nUpgrade: DERP\r\nConnection: Upgrade\r\n\r\n"
            .getBytes(StandardCharsets.US_ASCII));
        out.flush();
        final String head = readHttpHead();
        if (!head.startsWith("HTTP/1.1 101 Switching Protocols\r\n"))
        {
            throw new IOException("no 101: " + head);
        }
        final Frame serverKey = readFrame();
        if (serverKey.type() != FrameType.SERVER_KEY || serverKey.payload().length != 40)
        {
            throw new IOException("no ServerKey frame: " + serverKey);
        }
        serverPublicKey = Arrays.copyOfRange(serverKey.payload(), 8, 40);
    }

    private String readHttpHead() throws IOException
    {
        final ByteArrayOutputStream head = new ByteArrayOutputStream();
        while (head.size() < 8192)
        {
            head.write(in.readUnsignedByte());
            final byte[] bytes = head.toByteArray();
            final int n = bytes.length;
            if (n >= 4 && bytes[n - 4] == '\r' && bytes[n - 3] == '\n' && bytes[n - 2] == '\r' && bytes[n - 1] == '\n')
            {
                return head.toString(StandardCharsets.US_ASCII);
            }
        }
        throw new IOException("HTTP head too long");
    }

    void sendClientInfo(final String json) throws IOException
    {
        final byte[] box = NaclBox.seal(key, serverPublicKey, json.getBytes(StandardCharsets.UTF_8), RANDOM);
        final byte[] payload = new byte[32 + box.length];
        key.publicKey().copyTo(payload, 0);
        System.arraycopy(box, 0, payload, 32, box.length);
        sendFrame(FrameType.CLIENT_INFO, payload);
    }

    void expectServerInfo() throws IOException
    {
        final Frame frame = readFrame();
        if (frame.type() != FrameType.SERVER_INFO)
        {
            throw new IOException("first frame after ClientInfo is " + FrameType.name(frame.type()));
        }
        final byte[] json = NaclBox.open(key, serverPublicKey, 0, frame.payload(), 0, frame.payload().length)
            .orElseThrow(() -> new IOException("ServerInfo box does not open"));
        if (!"{\"version\":2}".equals(new String(json, StandardCharsets.UTF_8)))
        {
            throw new IOException("unexpected ServerInfo " + new String(json, StandardCharsets.UTF_8));
        }
    }

    void sendFrame(final byte type, final byte[] payload) throws IOException
    {
        out.write(header(type, payload.length));
        out.write(payload);
        out.flush();
    }

    /**
     * @return the connection's socket, for tests that act on TLS or TCP directly.
     */
    Socket socket()
    {
        return socket;
    }

    void sendRaw(final byte[] bytes) throws IOException
    {
        out.write(bytes);
        out.flush();
    }

    static byte[] header(final byte type, final long length)
    {
        return ByteBuffer.allocate(5).put(type).putInt((int)length).array();
    }

    void sendPacket(final NodePublicKey destination, final byte[] data) throws IOException
    {
        final byte[] payload = new byte[32 + data.length];
        destination.copyTo(payload, 0);
        System.arraycopy(data, 0, payload, 32, data.length);
        sendFrame(FrameType.SEND_PACKET, payload);
    }

    /**
     * Pings and waits for the matching Pong, skipping KeepAlives and other frames.
     */
    void pingPong() throws IOException
    {
        final byte[] data = new byte[8];
        RANDOM.nextBytes(data);
        sendFrame(FrameType.PING, data);
        final Frame pong = readUntil(FrameType.PONG);
        if (!Arrays.equals(pong.payload(), data))
        {
            throw new IOException("Pong carries other data");
        }
    }

    Frame readUntil(final byte type) throws IOException
    {
        for (int i = 0; i < 1000; i++)
        {
            final Frame frame = readFrame();
            if (frame.type() == type)
            {
                return frame;
            }
        }
        throw new IOException("no " + FrameType.name(type) + " within 1000 frames");
    }

    Frame readFrame() throws IOException
    {
        final byte type = in.readByte();
        final int length = in.readInt();
        if (length < 0 || length > (1 << 20))
        {
            throw new IOException("frame length " + length);
        }
        final byte[] payload = new byte[length];
        in.readFully(payload);
        return new Frame(type, payload);
    }

    /**
     * @return true if the server closed the connection (EOF or reset) within the read timeout.
     */
    boolean closedByServer() throws IOException
    {
        try
        {
            final InputStream raw = in;
            while (true)
            {
                if (raw.read() < 0)
                {
                    return true;
                }
            }
        }
        catch (final EOFException ex)
        {
            return true;
        }
        catch (final SocketTimeoutException ex)
        {
            return false;
        }
        catch (final IOException ex)
        {
            // A reset is a close too.
            return !socket.isClosed();
        }
    }

    @Override
    public void close() throws IOException
    {
        socket.close();
    }

    record Frame(byte type, byte[] payload)
    {
        @Override
        public String toString()
        {
            return FrameType.name(type) + "(" + payload.length + " bytes)";
        }
    }

    /** Tests only: the server's self-signed certificate is accepted without checks. */
    private static final class TrustAll implements X509TrustManager
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
    }
}
