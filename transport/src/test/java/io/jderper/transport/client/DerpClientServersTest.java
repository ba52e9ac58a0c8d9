package io.jderper.transport.client;

import com.sun.net.httpserver.HttpServer;
import io.jderper.core.key.NodePrivateKey;
import io.netty.channel.EventLoopGroup;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.security.SecureRandom;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The client against servers other than a TLS relay: one that accepts and says nothing, a plain HTTP server that
 * answers 404, and a relay serving plain HTTP.
 */
class DerpClientServersTest
{
    private static final SecureRandom RANDOM = new SecureRandom();
    private static final long SHORT_TIMEOUT_MS = 300;

    private static EventLoopGroup group;
    private static DerpClients clients;

    @BeforeAll
    static void start()
    {
        group = DerpClients.newEventLoopGroup(1);
        clients = DerpClients.builder(group).build();
    }

    @AfterAll
    static void stop()
    {
        group.shutdownGracefully(0, 1, TimeUnit.SECONDS).syncUninterruptibly();
        clients.close();
    }

    private static Throwable failureOf(final DerpClient client) throws Exception
    {
        try
        {
            client.ready().get(Recorder.WAIT_SECONDS, TimeUnit.SECONDS);
        }
        catch (final ExecutionException ex)
        {
            return ex.getCause();
        }
        throw new AssertionError("handshake succeeded but should have failed");
    }

    private static DerpClientOptions.Builder options(final String url)
    {
        return DerpClientOptions.builder(URI.create(url), NodePrivateKey.generate(RANDOM))
            .trust(DerpTrust.sha256Raw("sha256-raw:" + "ab".repeat(32)));
    }

    @Test
    void shouldTimeOutTheHandshakeAgainstAServerThatSaysNothing() throws Exception
    {
        // The kernel completes the TCP handshake into the backlog; nobody ever accepts or writes.
        try (ServerSocket silent = new ServerSocket(0, 50, InetAddress.getLoopbackAddress()))
        {
            final String hostPort = "127.0.0.1:" + silent.getLocalPort();
            final Recorder tlsEvents = new Recorder();
            final Recorder plainEvents = new Recorder();
            final long start = System.nanoTime();
            final DerpClient tls = clients.open(options("https://" + hostPort + "/derp")
                .handshakeTimeoutMs(SHORT_TIMEOUT_MS).build(), tlsEvents);
            final DerpClient plain = clients.open(options("http://" + hostPort + "/derp")
                .handshakeTimeoutMs(SHORT_TIMEOUT_MS).build(), plainEvents);

            assertThat(failureOf(tls)).isInstanceOf(DerpClientException.class)
                .hasMessage("handshake with https://" + hostPort + "/derp did not finish within 300 ms " +
                    "(TCP connect or TLS handshake)");
            assertThat(failureOf(plain)).isInstanceOf(DerpClientException.class)
                .hasMessage("handshake with http://" + hostPort + "/derp did not finish within 300 ms " +
                    "(waiting for the HTTP 101 response)");
            assertThat(TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start)).isGreaterThanOrEqualTo(
                SHORT_TIMEOUT_MS);
            assertThat(tlsEvents.awaitClosed()).isInstanceOf(DerpClientException.class);
            assertThat(plainEvents.awaitClosed()).isInstanceOf(DerpClientException.class);
        }
    }

    @Test
    void shouldNameTheStatusLineWhenTheServerDoesNotUpgrade() throws Exception
    {
        final HttpServer http = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 0);
        http.createContext("/", exchange ->
        {
            final byte[] body = "no DERP here\n".getBytes(StandardCharsets.UTF_8);
            exchange.sendResponseHeaders(404, body.length);
            exchange.getResponseBody().write(body);
            exchange.close();
        });
        http.start();
        try
        {
            final String url = "http://127.0.0.1:" + http.getAddress().getPort() + "/derp";
            final Recorder recorder = new Recorder();

            final Throwable failure = failureOf(clients.open(options(url).build(), recorder));

            assertThat(failure).isInstanceOf(DerpClientException.class)
                .hasMessage("unexpected HTTP response from " + url + ": \"HTTP/1.1 404 Not Found\" " +
                    "(want 101 Switching Protocols)");
            assertThat(recorder.awaitClosed()).isSameAs(failure);
        }
        finally
        {
            http.stop(0);
        }
    }

    @Test
    void shouldExchangePacketsWithARelayServingPlainHttp() throws Exception
    {
        try (ClientTestRelay relay = ClientTestRelay.plain())
        {
            final Recorder recorderA = new Recorder();
            final Recorder recorderB = new Recorder();
            final DerpClient a = clients.connect(DerpClientOptions.builder(relay.url(),
                NodePrivateKey.generate(RANDOM)).build(), recorderA).get(Recorder.WAIT_SECONDS, TimeUnit.SECONDS);
            final DerpClient b = clients.connect(DerpClientOptions.builder(relay.url(),
                NodePrivateKey.generate(RANDOM)).build(), recorderB).get(Recorder.WAIT_SECONDS, TimeUnit.SECONDS);

            assertThat(relay.url().getScheme()).isEqualTo("http");
            assertThat(a.usedFastStart()).as("no TLS, no meta certificate").isFalse();
            assertThat(a.serverPublicKey()).isEqualTo(relay.publicKey());
            assertThat(a.sendPacketAndFlush(b.publicKey(), new byte[]{9, 8, 7})).isTrue();
            assertThat(b.sendPacketAndFlush(a.publicKey(), new byte[]{1})).isTrue();
            final Recorder.Packet atB = Recorder.next(recorderB.packets);
            assertThat(atB.source()).isEqualTo(a.publicKey());
            assertThat(atB.data()).containsExactly(9, 8, 7);
            final Recorder.Packet atA = Recorder.next(recorderA.packets);
            assertThat(atA.source()).isEqualTo(b.publicKey());
            assertThat(atA.data()).containsExactly(1);
            a.close();
            b.close();
            assertThat(recorderA.awaitClosed()).isSameAs(Recorder.CLEAN);
            assertThat(recorderB.awaitClosed()).isSameAs(Recorder.CLEAN);
        }
    }
}
