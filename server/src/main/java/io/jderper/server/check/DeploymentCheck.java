package io.jderper.server.check;

import io.jderper.core.key.NodePrivateKey;
import io.jderper.stun.BindingResponse;
import io.jderper.stun.StunMessages;
import io.jderper.transport.client.DerpClient;
import io.jderper.transport.client.DerpClientListener;
import io.jderper.transport.client.DerpClientOptions;
import io.jderper.transport.client.DerpClients;
import io.jderper.transport.client.DerpTrust;
import org.agrona.DirectBuffer;
import org.agrona.concurrent.UnsafeBuffer;

import java.io.IOException;
import java.io.PrintStream;
import java.net.DatagramPacket;
import java.net.DatagramSocket;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.SocketTimeoutException;
import java.security.SecureRandom;
import java.security.cert.Certificate;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.time.Instant;
import java.util.Arrays;
import java.util.Locale;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/**
 * The steps that prove a DERP node works, each timed, each with a one-line verdict: a STUN round trip, the TLS
 * handshake with the trust a client would use (the pin if the map has one), the {@code /derp} upgrade and DERP
 * handshake with a throw-away key, and a packet from that connection to a second one through the server.
 */
final class DeploymentCheck
{
    private static final int STUN_TRIES = 3;
    private static final Duration STUN_WAIT = Duration.ofSeconds(1);
    private static final int CERT_EXPIRY_WARNING_DAYS = 14;

    private final DerpClients clients;
    private final Duration timeout;
    private final DerpTrust caTrust;
    private final PrintStream out;
    private final SecureRandom random = new SecureRandom();
    private int passed;
    private int failed;

    /**
     * @param clients the DERP clients to connect with.
     * @param timeout bound on each step.
     * @param caTrust trust for nodes without a pin: the system's CAs, or a CA file.
     * @param out     where the verdicts go.
     */
    DeploymentCheck(final DerpClients clients, final Duration timeout, final DerpTrust caTrust, final PrintStream out)
    {
        this.clients = clients;
        this.timeout = timeout;
        this.caTrust = caTrust;
        this.out = out;
    }

    int passed()
    {
        return passed;
    }

    int failed()
    {
        return failed;
    }

    /**
     * Runs every step against one node; a failed step does not stop the later ones that do not need it.
     */
    void check(final CheckTarget target)
    {
        out.println(target.label());
        stun(target);
        if (target.stunOnly())
        {
            report("skip", "DERP", "the node is STUN-only");
            return;
        }
        final DerpTrust trust = target.certName().map(DerpTrust::sha256Raw).orElse(caTrust);
        final boolean tls = "https".equals(target.url().getScheme());
        if (tls)
        {
            tls(target, trust);
        }
        else
        {
            report("skip", "TLS", "plain HTTP (" + target.url() + "); Tailscale clients only use TLS");
        }
        relay(target, trust);
    }

    private void stun(final CheckTarget target)
    {
        if (target.stunPort() < 0)
        {
            report("skip", "STUN", "no STUN port for this node");
            return;
        }
        final String where = target.stunHost() + ":" + target.stunPort();
        final long start = System.nanoTime();
        try (DatagramSocket socket = new DatagramSocket())
        {
            final InetSocketAddress server = new InetSocketAddress(InetAddress.getByName(target.stunHost()),
                target.stunPort());
            socket.setSoTimeout((int)STUN_WAIT.toMillis());
            final byte[] transactionId = new byte[StunMessages.TRANSACTION_ID_LENGTH];
            random.nextBytes(transactionId);
            final UnsafeBuffer request = new UnsafeBuffer(new byte[StunMessages.TAILSCALE_REQUEST_LENGTH]);
            StunMessages.writeTailscaleRequest(request, 0, new UnsafeBuffer(transactionId), 0);
            final byte[] reply = new byte[1500];
            for (int attempt = 1; attempt <= STUN_TRIES; attempt++)
            {
                final long sent = System.nanoTime();
                socket.send(new DatagramPacket(request.byteArray(), request.capacity(), server));
                final DatagramPacket packet = new DatagramPacket(reply, reply.length);
                try
                {
                    socket.receive(packet);
                }
                catch (final SocketTimeoutException ex)
                {
                    continue;
                }
                final BindingResponse response = new BindingResponse();
                if (!response.wrap(new UnsafeBuffer(reply), 0, packet.getLength()) ||
                    !Arrays.equals(transactionId, 0, transactionId.length, reply,
                        StunMessages.TRANSACTION_ID_OFFSET, StunMessages.TRANSACTION_ID_OFFSET + transactionId.length))
                {
                    report("FAIL", "STUN", where + " answered with something that is not a reply to the request");
                    return;
                }
                final byte[] mapped = new byte[response.addressLength()];
                for (int i = 0; i < mapped.length; i++)
                {
                    mapped[i] = response.addressByte(i);
                }
                report("ok", "STUN", where + " answered in " + millis(System.nanoTime() - sent) +
                    ": this machine is " + hostPort(InetAddress.getByAddress(mapped), response.port()) +
                    " as the server sees it");
                return;
            }
            report("FAIL", "STUN", "no answer from " + where + " to " + STUN_TRIES + " requests in " +
                millis(System.nanoTime() - start) + ": is UDP " + target.stunPort() + " open, and STUN on?");
        }
        catch (final IOException ex)
        {
            report("FAIL", "STUN", where + ": " + ex);
        }
    }

    private void tls(final CheckTarget target, final DerpTrust trust)
    {
        final long start = System.nanoTime();
        final DerpClientOptions options = options(target, trust);
        try
        {
            final Certificate[] chain = clients.probeTls(options).get(timeout.toMillis(), TimeUnit.MILLISECONDS);
            final X509Certificate leaf = (X509Certificate)chain[0];
            final long daysLeft = Duration.between(Instant.now(), leaf.getNotAfter().toInstant()).toDays();
            final String trusted = target.certName().map(pin -> "pinned " + pin)
                .orElse("issued by " + leaf.getIssuerX500Principal().getName());
            report(daysLeft < CERT_EXPIRY_WARNING_DAYS ? "warn" : "ok", "TLS", options.host() + ":" +
                options.port() + " in " + millis(System.nanoTime() - start) + ": certificate " + trusted +
                ", valid until " + leaf.getNotAfter().toInstant() + " (" + daysLeft + " days)");
        }
        catch (final ExecutionException ex)
        {
            report("FAIL", "TLS", options.host() + ":" + options.port() + ": " + reason(ex.getCause()) +
                (target.certName().isPresent() ? " (with the pin " + target.certName().get() + ")" : ""));
        }
        catch (final TimeoutException ex)
        {
            report("FAIL", "TLS", options.host() + ":" + options.port() + ": no handshake within " +
                timeout.toSeconds() + " s");
        }
        catch (final InterruptedException ex)
        {
            Thread.currentThread().interrupt();
        }
    }

    private void relay(final CheckTarget target, final DerpTrust trust)
    {
        final CompletableFuture<byte[]> received = new CompletableFuture<>();
        final DerpClientListener receiver = (client, source, sourceOffset, data, dataOffset, dataLength) ->
            received.complete(copy(data, dataOffset, dataLength));
        final DerpClientListener ignore = (client, source, sourceOffset, data, dataOffset, dataLength) ->
        {
        };
        DerpClient sender = null;
        DerpClient receiving = null;
        try
        {
            long start = System.nanoTime();
            try
            {
                sender = clients.open(options(target, trust), ignore);
                sender.ready().get(timeout.toMillis(), TimeUnit.MILLISECONDS);
            }
            catch (final ExecutionException | TimeoutException ex)
            {
                report("FAIL", "DERP", target.url() + ": " + (ex instanceof TimeoutException ?
                    "no DERP handshake within " + timeout.toSeconds() + " s" : reason(ex.getCause())));
                report("skip", "relay", "needs a DERP connection");
                return;
            }
            report("ok", "DERP", "upgrade and handshake in " + millis(System.nanoTime() - start) +
                " with a throw-away key: server key " + sender.serverPublicKey() +
                (sender.usedFastStart() ? ", fast start" : ""));
            receiving = clients.open(options(target, trust), receiver);
            receiving.ready().get(timeout.toMillis(), TimeUnit.MILLISECONDS);
            final byte[] payload = new byte[64];
            random.nextBytes(payload);
            start = System.nanoTime();
            sender.sendPacketAndFlush(receiving.publicKey(), payload);
            final byte[] got = received.get(timeout.toMillis(), TimeUnit.MILLISECONDS);
            if (Arrays.equals(payload, got))
            {
                report("ok", "relay", "a packet to a second connection arrived in " +
                    millis(System.nanoTime() - start));
            }
            else
            {
                report("FAIL", "relay", "the packet arrived changed (" + got.length + " bytes)");
            }
        }
        catch (final ExecutionException ex)
        {
            report("FAIL", "relay", "second connection: " + reason(ex.getCause()));
        }
        catch (final TimeoutException ex)
        {
            report("FAIL", "relay", "no packet through the server within " + timeout.toSeconds() + " s");
        }
        catch (final InterruptedException ex)
        {
            Thread.currentThread().interrupt();
        }
        finally
        {
            if (null != sender)
            {
                sender.close();
            }
            if (null != receiving)
            {
                receiving.close();
            }
        }
    }

    private DerpClientOptions options(final CheckTarget target, final DerpTrust trust)
    {
        return DerpClientOptions.builder(target.url(), NodePrivateKey.generate(random))
            .trust(trust)
            .handshakeTimeoutMs(timeout.toMillis())
            .build();
    }

    private void report(final String verdict, final String step, final String detail)
    {
        if ("FAIL".equals(verdict))
        {
            failed++;
        }
        else if (!"skip".equals(verdict))
        {
            passed++;
        }
        out.printf(Locale.ROOT, "  %-4s  %-5s  %s%n", verdict, step, detail);
        out.flush();
    }

    private static byte[] copy(final DirectBuffer data, final int offset, final int length)
    {
        final byte[] bytes = new byte[length];
        data.getBytes(offset, bytes);
        return bytes;
    }

    private static String reason(final Throwable cause)
    {
        for (Throwable t = cause; null != t; t = t.getCause() == t ? null : t.getCause())
        {
            if (t instanceof java.net.ConnectException && String.valueOf(t.getMessage()).contains("refused"))
            {
                return "connection refused: nothing listens there (is the server running, the port open?)";
            }
        }
        Throwable root = cause;
        while (null != root.getCause() && root.getCause() != root && null == root.getMessage())
        {
            root = root.getCause();
        }
        return null == root.getMessage() ? root.toString() : root.getMessage();
    }

    private static String millis(final long nanos)
    {
        return String.format(Locale.ROOT, "%.1f ms", nanos / 1e6);
    }

    private static String hostPort(final InetAddress address, final int port)
    {
        final String host = address.getHostAddress();
        return (host.contains(":") ? "[" + host + "]" : host) + ":" + port;
    }
}
