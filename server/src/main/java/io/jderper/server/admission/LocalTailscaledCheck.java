package io.jderper.server.admission;

import io.jderper.core.admission.AdmissionCheck;
import io.jderper.core.admission.AdmissionDecision;
import io.jderper.core.admission.AdmissionRequest;
import io.jderper.core.admission.DenialReason;

import java.io.IOException;
import java.net.UnixDomainSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.TimeUnit;

/**
 * derper's {@code -verify-clients}: asks the tailscaled on this host, over its LocalAPI unix socket, whether the
 * client's node key belongs to a node of its tailnet ({@code GET /localapi/v0/whois?addr=nodekey:<hex>}, as
 * {@code tailscale.com/client/local.Client.WhoIsNodeKey}). 200 admits, 404 refuses; anything else (tailscaled down,
 * another status, no answer in time) refuses too, since derper has no fail-open for this check.
 */
public final class LocalTailscaledCheck implements AdmissionCheck
{
    /** tailscaled's LocalAPI socket on Linux, derper's default for {@code -socket}. */
    public static final String DEFAULT_SOCKET = "/var/run/tailscale/tailscaled.sock";

    private static final int MAX_RESPONSE_HEAD = 16 << 10;

    private final Path socket;
    private final Duration timeout;

    /**
     * @param socket  the LocalAPI socket.
     * @param timeout bound on one question, connect to answer.
     */
    public LocalTailscaledCheck(final Path socket, final Duration timeout)
    {
        this.socket = socket;
        this.timeout = timeout;
    }

    @Override
    public CompletionStage<AdmissionDecision> check(final AdmissionRequest request)
    {
        final CompletableFuture<AdmissionDecision> decision = new CompletableFuture<>();
        final String target = "/localapi/v0/whois?addr=nodekey%3A" + request.key().toHex();
        // Blocking socket I/O on a virtual thread; a timer closes the socket if tailscaled does not answer in time.
        Thread.ofVirtual().name("jderper-admission-tailscaled").start(() ->
        {
            try (SocketChannel channel = SocketChannel.open(UnixDomainSocketAddress.of(socket)))
            {
                CompletableFuture.delayedExecutor(timeout.toMillis(), TimeUnit.MILLISECONDS).execute(() ->
                {
                    if (!decision.isDone())
                    {
                        closeQuietly(channel);
                    }
                });
                channel.write(ByteBuffer.wrap(("GET " + target + " HTTP/1.1\r\n" +
                    "Host: local-tailscaled.sock\r\n" +
                    "User-Agent: jderper\r\n" +
                    "Connection: close\r\n\r\n").getBytes(StandardCharsets.US_ASCII)));
                decision.complete(decide(readStatus(channel), request));
            }
            catch (final IOException | RuntimeException ex)
            {
                decision.complete(AdmissionDecision.failed(DenialReason.TAILSCALED_ERROR,
                    "cannot ask tailscaled at " + socket + " (within " + timeout.toMillis() + " ms): " + ex));
            }
        });
        return decision;
    }

    private static AdmissionDecision decide(final int status, final AdmissionRequest request)
    {
        return switch (status)
        {
            case 200 -> AdmissionDecision.ADMITTED;
            case 404 -> AdmissionDecision.denied(DenialReason.NOT_IN_TAILNET,
                "peer " + request.key().toShortString() + " not authorized (not found in local tailscaled)");
            default -> AdmissionDecision.failed(DenialReason.TAILSCALED_ERROR,
                "tailscaled answered the whois query with HTTP " + status);
        };
    }

    /**
     * Reads the response until its status line is complete; the body is not needed for the decision.
     */
    static int readStatus(final SocketChannel channel) throws IOException
    {
        final ByteBuffer head = ByteBuffer.allocate(MAX_RESPONSE_HEAD);
        while (head.hasRemaining())
        {
            if (channel.read(head) < 0)
            {
                break;
            }
            final String text = new String(head.array(), 0, head.position(), StandardCharsets.ISO_8859_1);
            final int lineEnd = text.indexOf("\r\n");
            if (lineEnd >= 0)
            {
                return parseStatusLine(text.substring(0, lineEnd));
            }
        }
        throw new IOException("no HTTP status line from tailscaled");
    }

    static int parseStatusLine(final String line) throws IOException
    {
        final String[] parts = line.split(" ", 3);
        if (parts.length < 2 || !parts[0].startsWith("HTTP/1.") || parts[1].length() != 3)
        {
            throw new IOException("not an HTTP status line from tailscaled: " + line);
        }
        try
        {
            return Integer.parseInt(parts[1]);
        }
        catch (final NumberFormatException ex)
        {
            throw new IOException("not an HTTP status line from tailscaled: " + line, ex);
        }
    }

    private static void closeQuietly(final SocketChannel channel)
    {
        try
        {
            channel.close();
        }
        catch (final IOException ignored)
        {
            // Closing only to unblock the reader.
        }
    }

    @Override
    public String toString()
    {
        return "tailscaled at " + socket;
    }
}
