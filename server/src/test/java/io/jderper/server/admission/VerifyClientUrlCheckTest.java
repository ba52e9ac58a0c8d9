package io.jderper.server.admission;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.security.SecureRandom;
import java.time.Duration;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.LongAdder;
import javax.net.ssl.SSLContext;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.sun.net.httpserver.HttpServer;
import io.jderper.core.admission.AdmissionDecision;
import io.jderper.core.admission.AdmissionRequest;
import io.jderper.core.admission.DenialReason;
import io.jderper.core.key.NodePrivateKey;
import io.jderper.core.key.NodePublicKey;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * derper's admission URL semantics against a real HTTP server on loopback.
 */
class VerifyClientUrlCheckTest
{
    /** Long enough for a loopback round trip on a loaded 2-core machine (500 ms was not). */
    private static final Duration TIMEOUT = Duration.ofSeconds(3);
    /** The timeout the stalled service is asked with; it holds its answer for 30 s. */
    private static final Duration SHORT_TIMEOUT = Duration.ofMillis(500);
    /** How long a test waits for a decision: beyond this, the check's own timeout did not work. */
    private static final Duration DECISION_WAIT = Duration.ofSeconds(15);

    private final NodePublicKey key = NodePrivateKey.generate(new SecureRandom()).publicKey();
    private final BlockingQueue<JsonNode> requests = new LinkedBlockingQueue<>();
    private final CountDownLatch release = new CountDownLatch(1);
    private final LongAdder failOpen = new LongAdder();
    private HttpServer server;
    private volatile int status = 200;
    private volatile String answer = "{\"Allow\":true}\n";
    private volatile boolean stall;

    @BeforeEach
    void startServer() throws IOException
    {
        server = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 0);
        server.createContext("/verify", exchange ->
        {
            try (exchange)
            {
                requests.add(new ObjectMapper().readTree(exchange.getRequestBody()));
                if (stall)
                {
                    release.await(30, TimeUnit.SECONDS);
                }
                final byte[] body = answer.getBytes(StandardCharsets.UTF_8);
                exchange.sendResponseHeaders(status, body.length);
                exchange.getResponseBody().write(body);
            }
            catch (final InterruptedException ex)
            {
                Thread.currentThread().interrupt();
            }
        });
        server.setExecutor(java.util.concurrent.Executors.newVirtualThreadPerTaskExecutor());
        server.start();
    }

    @AfterEach
    void stopServer()
    {
        release.countDown();
        server.stop(0);
    }

    private AdmissionDecision ask(final URI url, final boolean failOpenOn) throws Exception
    {
        return ask(url, failOpenOn, TIMEOUT);
    }

    private AdmissionDecision ask(final URI url, final boolean failOpenOn, final Duration timeout) throws Exception
    {
        try (VerifyClientUrlCheck check = new VerifyClientUrlCheck(url, failOpenOn, timeout, SSLContext.getDefault(),
            failOpen))
        {
            return check.check(AdmissionRequest.of(key, InetAddress.ofLiteral("2001:db8::7"))).toCompletableFuture()
                .get(DECISION_WAIT.toMillis(), TimeUnit.MILLISECONDS);
        }
    }

    private URI url()
    {
        return URI.create("http://127.0.0.1:" + server.getAddress().getPort() + "/verify");
    }

    @Test
    void shouldPostDerpAdmitClientRequestAndAdmitOnAllow() throws Exception
    {
        final AdmissionDecision decision = ask(url(), true);

        assertThat(decision.admitted()).isTrue();
        assertThat(decision.definitive()).isTrue();
        final JsonNode request = requests.take();
        assertThat(request.get("NodePublic").asText()).isEqualTo("nodekey:" + key.toHex());
        assertThat(request.get("Source").asText()).isEqualTo("2001:db8::7");
    }

    @Test
    void shouldRefuseOnAllowFalseOrAnotherStatusEvenWhenFailingOpen() throws Exception
    {
        answer = "{\"Allow\":false}";
        assertThat(ask(url(), true).reason()).isEqualTo(DenialReason.URL_REFUSED);
        answer = "{\"allow\":true}";
        assertThat(ask(url(), true).admitted()).as("Go matches JSON names without regard to case").isTrue();
        status = 403;
        final AdmissionDecision forbidden = ask(url(), true);
        assertThat(forbidden.reason()).isEqualTo(DenialReason.URL_REFUSED);
        assertThat(forbidden.detail()).contains("403");
        assertThat(failOpen.sum()).isZero();
    }

    @Test
    void shouldRefuseGarbageWhateverFailOpenSays() throws Exception
    {
        for (final String garbage : new String[] {"<html>ok</html>", "[true]", "{\"Allow\":\"yes\"}", "",
            "{\"Allow\":" + " ".repeat(VerifyClientUrlCheck.MAX_RESPONSE_BYTES) + "true}"})
        {
            answer = garbage;
            final AdmissionDecision decision = ask(url(), true);
            assertThat(decision.reason()).as(garbage.strip()).isEqualTo(DenialReason.URL_ERROR);
            assertThat(decision.definitive()).isFalse();
        }
        assertThat(failOpen.sum()).isZero();
    }

    @Test
    void shouldFailOpenOrClosedWhenTheServiceCannotBeReached() throws Exception
    {
        final int closedPort;
        try (ServerSocket probe = new ServerSocket(0, 1, InetAddress.getLoopbackAddress()))
        {
            closedPort = probe.getLocalPort();
        }
        final URI unreachable = URI.create("http://127.0.0.1:" + closedPort + "/verify");

        final AdmissionDecision open = ask(unreachable, true);
        assertThat(open.admitted()).isTrue();
        assertThat(open.definitive()).as("never cached").isFalse();
        assertThat(failOpen.sum()).isEqualTo(1);

        assertThat(ask(unreachable, false).reason()).isEqualTo(DenialReason.URL_ERROR);
        assertThat(failOpen.sum()).isEqualTo(1);
    }

    @Test
    void shouldGiveUpOnASlowServiceWithinItsTimeout() throws Exception
    {
        stall = true;

        // A decision at all proves the timeout: the service holds its answer twice as long as ask() waits.
        final AdmissionDecision closed = ask(url(), false, SHORT_TIMEOUT);

        assertThat(closed.reason()).isEqualTo(DenialReason.URL_ERROR);
        assertThat(ask(url(), true, SHORT_TIMEOUT).admitted()).as("a timeout is 'unreachable' for fail-open, as in " +
            "derper").isTrue();
    }
}
