package io.jderper.server.admission;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.net.UnixDomainSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.security.SecureRandom;
import java.time.Duration;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.net.StandardProtocolFamily;

import io.jderper.core.admission.AdmissionDecision;
import io.jderper.core.admission.AdmissionRequest;
import io.jderper.core.admission.DenialReason;
import io.jderper.core.key.NodePrivateKey;
import io.jderper.core.key.NodePublicKey;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The tailscaled LocalAPI whois question over a unix socket, against a fake tailscaled that answers with a status
 * line and a body. (The interop suite asks a Go LocalAPI server with the real JSON shapes.)
 */
class LocalTailscaledCheckTest
{
    @TempDir
    Path dir;

    private final NodePublicKey key = NodePrivateKey.generate(new SecureRandom()).publicKey();
    private final BlockingQueue<String> requests = new LinkedBlockingQueue<>();
    private ServerSocketChannel listener;
    private Thread server;

    private Path serve(final String response)
    {
        final Path socket = dir.resolve("tailscaled.sock");
        try
        {
            listener = ServerSocketChannel.open(StandardProtocolFamily.UNIX);
            listener.bind(UnixDomainSocketAddress.of(socket));
        }
        catch (final IOException ex)
        {
            throw new IllegalStateException(ex);
        }
        server = Thread.ofVirtual().start(() ->
        {
            while (listener.isOpen())
            {
                try (SocketChannel client = listener.accept())
                {
                    final ByteBuffer in = ByteBuffer.allocate(4096);
                    client.read(in);
                    requests.add(new String(in.array(), 0, in.position(), StandardCharsets.US_ASCII));
                    if (null != response)
                    {
                        client.write(ByteBuffer.wrap(response.getBytes(StandardCharsets.US_ASCII)));
                    }
                    else
                    {
                        // Never answers: reads until the asker gives up and closes.
                        client.read(ByteBuffer.allocate(1));
                    }
                }
                catch (final IOException ex)
                {
                    return;
                }
            }
        });
        return socket;
    }

    @AfterEach
    void stop() throws Exception
    {
        if (null != listener)
        {
            listener.close();
            server.join(5_000);
        }
    }

    private AdmissionDecision ask(final Path socket) throws Exception
    {
        return new LocalTailscaledCheck(socket, Duration.ofMillis(500)).check(AdmissionRequest.of(key, null))
            .toCompletableFuture().get(10, TimeUnit.SECONDS);
    }

    @Test
    void shouldAdmitAKeyTailscaledKnowsAndAskAsTheLocalClientDoes() throws Exception
    {
        final AdmissionDecision decision = ask(serve("HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n" +
            "Content-Length: 2\r\n\r\n{}"));

        assertThat(decision.admitted()).isTrue();
        assertThat(requests.take()).startsWith("GET /localapi/v0/whois?addr=nodekey%3A" + key.toHex() +
            " HTTP/1.1\r\n").contains("\r\nHost: local-tailscaled.sock\r\n");
    }

    @Test
    void shouldRefuseAKeyTailscaledDoesNotKnow() throws Exception
    {
        final AdmissionDecision decision = ask(serve("HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n"));

        assertThat(decision.reason()).isEqualTo(DenialReason.NOT_IN_TAILNET);
        assertThat(decision.detail()).contains(key.toShortString()).doesNotContain(key.toHex());
    }

    @Test
    void shouldRefuseWhenTailscaledFailsIsAbsentOrSilent() throws Exception
    {
        assertThat(ask(serve("HTTP/1.1 500 Internal Server Error\r\n\r\n")).reason())
            .isEqualTo(DenialReason.TAILSCALED_ERROR);
        stop();
        listener = null;
        java.nio.file.Files.deleteIfExists(dir.resolve("tailscaled.sock"));
        assertThat(ask(dir.resolve("missing.sock")).reason()).isEqualTo(DenialReason.TAILSCALED_ERROR);
        final long started = System.nanoTime();
        final AdmissionDecision silent = ask(serve(null));
        assertThat(silent.reason()).isEqualTo(DenialReason.TAILSCALED_ERROR);
        assertThat(Duration.ofNanos(System.nanoTime() - started)).isLessThan(Duration.ofSeconds(5));
    }

    @Test
    void shouldReadOnlyARealStatusLine() throws Exception
    {
        assertThat(LocalTailscaledCheck.parseStatusLine("HTTP/1.1 404 Not Found")).isEqualTo(404);
        org.assertj.core.api.Assertions.assertThatThrownBy(() -> LocalTailscaledCheck.parseStatusLine("SSH-2.0-x"))
            .isInstanceOf(IOException.class);
        assertThat(ask(serve("garbage\r\n")).reason()).isEqualTo(DenialReason.TAILSCALED_ERROR);
    }
}
