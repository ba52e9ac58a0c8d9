package io.jderper.stun.server;

import io.jderper.stun.BindingResponse;
import io.jderper.stun.StunMessages;
import org.agrona.concurrent.UnsafeBuffer;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.io.IOException;
import java.net.DatagramPacket;
import java.net.DatagramSocket;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.SocketTimeoutException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * The STUN server over loopback on both engines: who gets an answer, what the answer says, what is counted.
 * "No answer" is shown by order, never by waiting: a bad datagram is followed by a good one, and the first reply must
 * carry the good one's transaction ID (one socket pair on loopback keeps order, and the server answers in order).
 * Replies are counted after they are sent, so that counter is read only once the server has stopped.
 */
class StunServerTest
{
    private static final InetAddress LOOPBACK_V4 = InetAddress.getLoopbackAddress();
    private static final int TIMEOUT_MS = 5_000;

    private final List<AutoCloseable> resources = new ArrayList<>();

    @AfterEach
    void closeAll() throws Exception
    {
        for (final AutoCloseable resource : resources.reversed())
        {
            resource.close();
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"linux", "jdk"})
    void answersTailscaleFromIpv4WithItsAddressInTheShortForm(final String engine) throws Exception
    {
        final StunServer server = start(new InetSocketAddress(0), false, engine);
        final DatagramSocket client = client(LOOPBACK_V4);

        final byte[] reply = exchange(client, server, tailscaleRequest(1));

        assertThat(reply).hasSize(StunMessages.RESPONSE_LENGTH_IPV4);
        final BindingResponse response = parse(reply);
        assertThat(response.isAddress(LOOPBACK_V4.getAddress(), client.getLocalPort())).isTrue();
        assertThat(transactionId(reply)).isEqualTo(transactionId(tailscaleRequest(1)));
        assertThat(server.counters().ipv4.sum()).isEqualTo(1);
        server.close();
        assertThat(server.counters().replies.sum()).as("counted after the send, read once the server stopped")
            .isEqualTo(1);
    }

    @ParameterizedTest
    @ValueSource(strings = {"linux", "jdk"})
    void answersIpv6WithTheLongForm(final String engine) throws Exception
    {
        final InetAddress loopbackV6 = InetAddress.getByName("::1");
        final StunServer server = start(new InetSocketAddress(0), false, engine);
        final DatagramSocket client = client(loopbackV6);

        final byte[] reply = exchange(client, server, tailscaleRequest(2));

        assertThat(reply).hasSize(StunMessages.RESPONSE_LENGTH_IPV6);
        assertThat(parse(reply).isAddress(loopbackV6.getAddress(), client.getLocalPort())).isTrue();
        assertThat(server.counters().ipv6.sum()).isEqualTo(1);
    }

    @ParameterizedTest
    @ValueSource(strings = {"linux", "jdk"})
    void ignoresEveryMalformedOrForeignDatagram(final String engine) throws Exception
    {
        final StunServer server = start(new InetSocketAddress(LOOPBACK_V4, 0), false, engine);
        final DatagramSocket client = client(LOOPBACK_V4);
        final List<byte[]> bad = badDatagrams();

        for (final byte[] datagram : bad)
        {
            send(client, server, datagram);
        }
        final byte[] reply = exchange(client, server, tailscaleRequest(3));

        assertThat(transactionId(reply)).as("the first answer is to the good request")
            .isEqualTo(transactionId(tailscaleRequest(3)));
        assertThat(server.counters().ignored.sum()).isEqualTo(bad.size());
        assertThat(server.counters().datagrams.sum()).isEqualTo(bad.size() + 1);
        assertThat(server.counters().truncated.sum()).as("the 3000-byte datagram").isEqualTo(1);
    }

    @ParameterizedTest
    @ValueSource(strings = {"linux", "jdk"})
    void answersAGenericClientOnlyWhenAskedTo(final String engine) throws Exception
    {
        final StunServer strict = start(new InetSocketAddress(LOOPBACK_V4, 0), false, engine);
        final StunServer lenient = start(new InetSocketAddress(LOOPBACK_V4, 0), true, engine);
        final DatagramSocket client = client(LOOPBACK_V4);
        final byte[] generic = genericRequest(4);

        send(client, strict, generic);
        assertThat(transactionId(exchange(client, strict, tailscaleRequest(5))))
            .isEqualTo(transactionId(tailscaleRequest(5)));
        final byte[] reply = exchange(client, lenient, generic);

        assertThat(transactionId(reply)).isEqualTo(transactionId(generic));
        assertThat(parse(reply).isAddress(LOOPBACK_V4.getAddress(), client.getLocalPort())).isTrue();
        assertThat(reply).as("never more than the one attribute").hasSize(StunMessages.RESPONSE_LENGTH_IPV4);
        assertThat(strict.counters().ignored.sum()).isEqualTo(1);
        lenient.close();
        assertThat(lenient.counters().replies.sum()).isEqualTo(1);
    }

    @ParameterizedTest
    @ValueSource(strings = {"linux", "jdk"})
    void answersEveryRequestOfABurst(final String engine) throws Exception
    {
        // More than one receive batch of the Linux engine, fewer than the socket buffer holds.
        final int burst = 3 * LinuxBatchEngine.BATCH / 2;
        final StunServer server = start(new InetSocketAddress(LOOPBACK_V4, 0), false, engine);
        final DatagramSocket client = client(LOOPBACK_V4);

        for (int i = 0; i < burst; i++)
        {
            send(client, server, tailscaleRequest(1000 + i));
        }
        for (int i = 0; i < burst; i++)
        {
            assertThat(transactionId(receive(client))).isEqualTo(transactionId(tailscaleRequest(1000 + i)));
        }
        server.close();
        assertThat(server.counters().replies.sum()).isEqualTo(burst);
    }

    @ParameterizedTest
    @ValueSource(strings = {"linux", "jdk"})
    void floodsFromManySourcesAreNeverAmplified(final String engine) throws Exception
    {
        // Sources that look spoofed: eight IPv4 loopback addresses and IPv6, each sending a mix of valid requests,
        // reflection bait (generic requests, responses, malformed and oversized datagrams) and random bytes.
        final StunServer server = start(new InetSocketAddress(0), false, engine);
        final List<DatagramSocket> sources = new ArrayList<>();
        for (int i = 2; i < 10; i++)
        {
            sources.add(client(InetAddress.getByAddress(new byte[]{127, 0, 0, (byte)i})));
        }
        sources.add(client(InetAddress.getByName("::1")));
        final java.util.Random random = new java.util.Random(42);
        final java.util.Map<Integer, Integer> requestLengths = new java.util.HashMap<>();
        long bytesIn = 0;
        long bytesOut = 0;
        int id = 10_000;
        for (int round = 0; round < 10; round++)
        {
            for (final DatagramSocket source : sources)
            {
                final List<Integer> valid = new ArrayList<>();
                for (int n = 0; n < 40; n++)
                {
                    final byte[] datagram;
                    switch (random.nextInt(4))
                    {
                        case 0 ->
                        {
                            datagram = tailscaleRequest(++id);
                            valid.add(id);
                            requestLengths.put(id, datagram.length);
                        }
                        case 1 -> datagram = genericRequest(++id);
                        case 2 -> datagram = badDatagrams().get(random.nextInt(badDatagrams().size()));
                        default ->
                        {
                            datagram = new byte[random.nextInt(1200)];
                            random.nextBytes(datagram);
                        }
                    }
                    bytesIn += datagram.length;
                    send(source, server, datagram);
                }
                // The answers come in order: the valid requests' and nothing else, each no larger than its request
                // plus 4 bytes (the IPv6 address case), the IPv4 ones smaller.
                for (final int expected : valid)
                {
                    final byte[] reply = receive(source);
                    assertThat(transactionId(reply)).isEqualTo(transactionId(tailscaleRequest(expected)));
                    assertThat(reply.length).isLessThanOrEqualTo(requestLengths.get(expected) + 4);
                    bytesOut += reply.length;
                }
                final byte[] marker = tailscaleRequest(++id);
                assertThat(transactionId(exchange(source, server, marker))).as("nothing answered beyond them")
                    .isEqualTo(transactionId(marker));
            }
        }
        assertThat(bytesOut).as("bytes answered vs bytes received").isLessThan(bytesIn);
        assertThat(server.counters().ipv6.sum()).as("the IPv6 source was answered").isPositive();
    }

    @ParameterizedTest
    @ValueSource(strings = {"linux", "jdk"})
    void reportsAPortInUseAndFreesItsPortWhenClosed(final String engine) throws Exception
    {
        final StunServer first = StunServer.start(new InetSocketAddress(LOOPBACK_V4, 0), false, engine);
        final InetSocketAddress taken = first.localAddress();

        assertThatThrownBy(() -> start(taken, false, engine))
            .isInstanceOf(IOException.class).hasMessageContaining("in use");
        first.close();
        final StunServer second = start(taken, false, engine);

        assertThat(second.localAddress().getPort()).isEqualTo(taken.getPort());
    }

    @Test
    void refusesAnUnknownEngine()
    {
        assertThatThrownBy(() -> start(new InetSocketAddress(LOOPBACK_V4, 0), false, "dpdk"))
            .isInstanceOf(IOException.class).hasMessageContaining("not one of auto, linux, jdk");
    }

    private StunServer start(final InetSocketAddress bind, final boolean anyClient, final String engine)
        throws IOException
    {
        final StunServer server = StunServer.start(bind, anyClient, engine);
        resources.add(server);
        return server;
    }

    private DatagramSocket client(final InetAddress address) throws IOException
    {
        final DatagramSocket socket = new DatagramSocket(new InetSocketAddress(address, 0));
        socket.setSoTimeout(TIMEOUT_MS);
        resources.add(socket);
        return socket;
    }

    private static void send(final DatagramSocket client, final StunServer server, final byte[] datagram)
        throws IOException
    {
        final InetAddress own = client.getLocalAddress();
        client.send(new DatagramPacket(datagram, datagram.length,
            new InetSocketAddress(own, server.localAddress().getPort())));
    }

    private static byte[] exchange(final DatagramSocket client, final StunServer server, final byte[] request)
        throws IOException
    {
        send(client, server, request);
        return receive(client);
    }

    private static byte[] receive(final DatagramSocket client) throws IOException
    {
        final DatagramPacket packet = new DatagramPacket(new byte[1500], 1500);
        try
        {
            client.receive(packet);
        }
        catch (final SocketTimeoutException ex)
        {
            throw new AssertionError("no STUN reply within " + TIMEOUT_MS + " ms", ex);
        }
        return Arrays.copyOf(packet.getData(), packet.getLength());
    }

    private static BindingResponse parse(final byte[] reply)
    {
        final BindingResponse response = new BindingResponse();
        assertThat(response.wrap(new UnsafeBuffer(reply), 0, reply.length)).as("a binding success response").isTrue();
        return response;
    }

    private static byte[] transactionId(final byte[] message)
    {
        return Arrays.copyOfRange(message, StunMessages.TRANSACTION_ID_OFFSET,
            StunMessages.TRANSACTION_ID_OFFSET + StunMessages.TRANSACTION_ID_LENGTH);
    }

    static byte[] tailscaleRequest(final int id)
    {
        final UnsafeBuffer request = new UnsafeBuffer(new byte[StunMessages.TAILSCALE_REQUEST_LENGTH]);
        StunMessages.writeTailscaleRequest(request, 0, transactionIdOf(id), 0);
        return request.byteArray();
    }

    /** A binding request as RFC 5389 clients send it: header only, no SOFTWARE, no FINGERPRINT. */
    static byte[] genericRequest(final int id)
    {
        final UnsafeBuffer request = new UnsafeBuffer(new byte[StunMessages.HEADER_LENGTH]);
        request.putShort(0, (short)StunMessages.BINDING_REQUEST, java.nio.ByteOrder.BIG_ENDIAN);
        request.putInt(4, StunMessages.MAGIC_COOKIE, java.nio.ByteOrder.BIG_ENDIAN);
        request.putBytes(StunMessages.TRANSACTION_ID_OFFSET, transactionIdOf(id), 0,
            StunMessages.TRANSACTION_ID_LENGTH);
        return request.byteArray();
    }

    private static UnsafeBuffer transactionIdOf(final int id)
    {
        final UnsafeBuffer txid = new UnsafeBuffer(new byte[StunMessages.TRANSACTION_ID_LENGTH]);
        txid.putInt(8, id);
        txid.putInt(0, 0x6a646572);
        return txid;
    }

    /** The list: truncated, wrong cookie, bad fingerprint, attribute past the end, huge length, and more. */
    private static List<byte[]> badDatagrams()
    {
        final List<byte[]> bad = new ArrayList<>();
        final byte[] good = tailscaleRequest(99);
        bad.add(new byte[0]);
        bad.add(Arrays.copyOf(good, 19));
        bad.add(Arrays.copyOf(good, good.length - 1));
        final byte[] cookie = good.clone();
        cookie[4] ^= 1;
        bad.add(cookie);
        final byte[] fingerprint = good.clone();
        fingerprint[good.length - 1] ^= 1;
        bad.add(fingerprint);
        final byte[] pastTheEnd = good.clone();
        pastTheEnd[23] = 0x40;
        bad.add(pastTheEnd);
        final byte[] hugeLength = good.clone();
        hugeLength[2] = (byte)0xFF;
        hugeLength[3] = (byte)0xFC;
        bad.add(hugeLength);
        final byte[] response = good.clone();
        response[0] = 0x01;
        response[1] = 0x01;
        bad.add(response);
        bad.add(genericRequest(98));
        bad.add(new byte[3000]);
        return bad;
    }
}
