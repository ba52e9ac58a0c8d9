package io.jderper.transport.http;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.net.DatagramPacket;
import java.net.DatagramSocket;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.SocketException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * The system resolver's TXT lookups, through the JDK's DNS provider, against a name server of the test's own on
 * loopback UDP: what a rollout record's text looks like once read, and a missing name.
 */
class SystemResolverTxtTest
{
    private static final int TYPE_TXT = 16;

    /** Name (lower case) to its TXT records, each a list of character strings. */
    private static final Map<String, List<List<String>>> ZONE = Map.of(
        "rollout.example.com", List.of(List.of("50")),
        "two.example.com", List.of(List.of("v=spf1", "-all"), List.of("25")));

    private DatagramSocket server;
    private Thread serving;
    private final List<String> asked = new ArrayList<>();

    @BeforeEach
    void startNameServer() throws IOException
    {
        server = new DatagramSocket(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0));
        serving = Thread.ofPlatform().name("test-name-server").daemon().start(this::serve);
    }

    @AfterEach
    void stopNameServer() throws InterruptedException
    {
        server.close();
        serving.join(5_000);
    }

    @Test
    void shouldReadEachTxtRecordOfAName() throws IOException
    {
        final BootstrapDns.SystemResolver resolver = resolver();

        assertThat(resolver.txt("rollout.example.com")).containsExactly("50");
        assertThat(BootstrapDns.rolloutShare(resolver.txt("rollout.example.com"))).isEqualTo(0.5);
        final List<String> two = resolver.txt("two.example.com");
        assertThat(two).hasSize(2).contains("25");
        assertThat(BootstrapDns.rolloutShare(two)).isEqualTo(0.25);
        synchronized (asked)
        {
            assertThat(asked).contains("rollout.example.com TXT", "two.example.com TXT");
        }
    }

    @Test
    void shouldFailForANameThatDoesNotExist()
    {
        assertThatThrownBy(() -> resolver().txt("missing.example.com"))
            .isInstanceOf(IOException.class)
            .hasMessageStartingWith("TXT missing.example.com: ");
    }

    private BootstrapDns.SystemResolver resolver()
    {
        return new BootstrapDns.SystemResolver("dns://127.0.0.1:" + server.getLocalPort());
    }

    /** Answers queries until the socket closes: TXT records from the zone, NXDOMAIN for any other name. */
    private void serve()
    {
        final byte[] buffer = new byte[512];
        while (!server.isClosed())
        {
            final DatagramPacket query = new DatagramPacket(buffer, buffer.length);
            try
            {
                server.receive(query);
                final byte[] reply = answer(ByteBuffer.wrap(query.getData(), 0, query.getLength()));
                server.send(new DatagramPacket(reply, reply.length, query.getSocketAddress()));
            }
            catch (final SocketException closed)
            {
                return;
            }
            catch (final IOException | RuntimeException ex)
            {
                // A query this server cannot read goes unanswered; the resolver's timeout then fails the test.
            }
        }
    }

    private byte[] answer(final ByteBuffer query)
    {
        final short id = query.getShort(0);
        // The question: labels from offset 12 to the zero byte, then type and class.
        final StringBuilder name = new StringBuilder();
        int at = 12;
        for (int length = query.get(at) & 0xFF; length != 0; length = query.get(at) & 0xFF)
        {
            if (!name.isEmpty())
            {
                name.append('.');
            }
            name.append(StandardCharsets.US_ASCII.decode(query.slice(at + 1, length)));
            at += 1 + length;
        }
        final int questionEnd = at + 1 + 4;
        final int type = query.getShort(at + 1) & 0xFFFF;
        final String key = name.toString().toLowerCase(Locale.ROOT);
        synchronized (asked)
        {
            asked.add(key + (TYPE_TXT == type ? " TXT" : " type " + type));
        }
        final List<List<String>> records = TYPE_TXT == type ? ZONE.getOrDefault(key, List.of()) : List.of();
        final boolean exists = ZONE.containsKey(key);

        final ByteArrayOutputStream reply = new ByteArrayOutputStream();
        final ByteBuffer header = ByteBuffer.allocate(12);
        header.putShort(id).putShort((short)(exists ? 0x8180 : 0x8183)).putShort((short)1)
            .putShort((short)records.size()).putShort((short)0).putShort((short)0);
        reply.writeBytes(header.array());
        reply.write(query.array(), query.arrayOffset() + 12, questionEnd - 12);
        for (final List<String> record : records)
        {
            final ByteArrayOutputStream data = new ByteArrayOutputStream();
            for (final String text : record)
            {
                final byte[] bytes = text.getBytes(StandardCharsets.US_ASCII);
                data.write(bytes.length);
                data.writeBytes(bytes);
            }
            final ByteBuffer answer = ByteBuffer.allocate(12);
            // A pointer to the question's name, TXT, IN, a minute's TTL, the data's length.
            answer.putShort((short)0xC00C).putShort((short)TYPE_TXT).putShort((short)1).putInt(60)
                .putShort((short)data.size());
            reply.writeBytes(answer.array());
            reply.writeBytes(data.toByteArray());
        }
        return reply.toByteArray();
    }
}
