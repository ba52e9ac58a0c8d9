package io.jderper.server.admission;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.jderper.core.admission.AdmissionCheck;
import io.jderper.core.admission.AdmissionDecision;
import io.jderper.core.admission.AdmissionRequest;
import io.jderper.core.admission.DenialReason;
import io.netty.util.NetUtil;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.io.InputStream;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.Iterator;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.LongAdder;
import javax.net.ssl.SSLContext;

/**
 * derper's {@code -verify-client-url}: POSTs {@code tailcfg.DERPAdmitClientRequest}
 * ({@code {"NodePublic":"nodekey:<hex>","Source":"<ip>"}}) and admits only on a 200 whose
 * {@code DERPAdmitClientResponse} says {@code "Allow": true} (Headscale's {@code /verify} answers exactly this).
 * As derper: another status or an unreadable answer refuses; only an admission service that cannot be reached (or
 * does not answer within the timeout) is subject to fail-open, which derper turns on by default.
 */
public final class VerifyClientUrlCheck implements AdmissionCheck, AutoCloseable
{
    /** derper reads at most this much of the answer. */
    static final int MAX_RESPONSE_BYTES = 4 << 10;

    private static final Logger LOG = LoggerFactory.getLogger(VerifyClientUrlCheck.class);
    private static final ObjectMapper JSON = new ObjectMapper();

    private final URI url;
    private final boolean failOpen;
    private final Duration timeout;
    private final LongAdder failOpenCount;
    private final ExecutorService executor = Executors.newVirtualThreadPerTaskExecutor();
    private final HttpClient client;

    /**
     * @param url           the admission URL.
     * @param failOpen      admit while the URL cannot be reached.
     * @param timeout       bound on one question (derper: 5 s).
     * @param sslContext    trust for an https URL.
     * @param failOpenCount counts clients admitted by fail-open.
     */
    public VerifyClientUrlCheck(final URI url, final boolean failOpen, final Duration timeout,
        final SSLContext sslContext, final LongAdder failOpenCount)
    {
        this.url = url;
        this.failOpen = failOpen;
        this.timeout = timeout;
        this.failOpenCount = failOpenCount;
        this.client = HttpClient.newBuilder()
            .connectTimeout(timeout)
            .executor(executor)
            .sslContext(sslContext)
            .followRedirects(HttpClient.Redirect.NORMAL)
            .build();
    }

    @Override
    public CompletionStage<AdmissionDecision> check(final AdmissionRequest request)
    {
        final ObjectNode body = JSON.createObjectNode()
            .put("NodePublic", "nodekey:" + request.key().toHex())
            .put("Source", null == request.address() ? "" : NetUtil.toAddressString(request.address()));
        final HttpRequest post = HttpRequest.newBuilder(url)
            .timeout(timeout)
            .header("Content-Type", "application/json")
            .POST(HttpRequest.BodyPublishers.ofString(body.toString()))
            .build();
        return client.sendAsync(post, HttpResponse.BodyHandlers.ofInputStream())
            .thenApply(response -> decide(response, request))
            // The request timeout covers the answer's head; this also bounds a body that trickles in.
            .orTimeout(2 * timeout.toMillis(), TimeUnit.MILLISECONDS)
            .exceptionally(error -> onFailure(unwrap(error), request));
    }

    private AdmissionDecision decide(final HttpResponse<InputStream> response, final AdmissionRequest request)
    {
        final byte[] answer;
        try (InputStream in = response.body())
        {
            answer = in.readNBytes(MAX_RESPONSE_BYTES);
        }
        catch (final IOException ex)
        {
            throw new CompletionException(new AnswerException("cannot read the answer: " + ex));
        }
        if (200 != response.statusCode())
        {
            return AdmissionDecision.denied(DenialReason.URL_REFUSED,
                "admission controller: HTTP " + response.statusCode());
        }
        final JsonNode allow;
        try
        {
            allow = field(JSON.readTree(answer), "Allow");
        }
        catch (final IOException ex)
        {
            throw new CompletionException(new AnswerException("unreadable answer: " + ex.getMessage()));
        }
        if (null != allow && !allow.isBoolean() && !allow.isNull())
        {
            throw new CompletionException(new AnswerException("\"Allow\" is not a boolean"));
        }
        return null != allow && allow.asBoolean() ? AdmissionDecision.ADMITTED :
            AdmissionDecision.denied(DenialReason.URL_REFUSED, "admission controller: " +
                request.key().toShortString() + " not allowed");
    }

    /** Go's JSON decoder matches field names without regard to case. */
    private static JsonNode field(final JsonNode object, final String name)
    {
        if (null == object || !object.isObject())
        {
            throw new CompletionException(new AnswerException("the answer is not a JSON object"));
        }
        final Iterator<Map.Entry<String, JsonNode>> fields = object.fields();
        while (fields.hasNext())
        {
            final Map.Entry<String, JsonNode> each = fields.next();
            if (each.getKey().equalsIgnoreCase(name))
            {
                return each.getValue();
            }
        }
        return null;
    }

    private AdmissionDecision onFailure(final Throwable error, final AdmissionRequest request)
    {
        if (error instanceof AnswerException answer)
        {
            return AdmissionDecision.failed(DenialReason.URL_ERROR, "admission controller at " + url + ": " +
                answer.getMessage());
        }
        if (failOpen)
        {
            failOpenCount.increment();
            LOG.warn("admission controller {} unreachable ({}); allowing client {} (-verify-client-url-fail-open)", url,
                error, request.key().toShortString());
            return AdmissionDecision.admittedProvisionally("admission controller unreachable; fail-open");
        }
        return AdmissionDecision.failed(DenialReason.URL_ERROR, "admission controller " + url + " unreachable: " +
            error);
    }

    private static Throwable unwrap(final Throwable error)
    {
        Throwable cause = error;
        while (cause instanceof CompletionException && null != cause.getCause())
        {
            cause = cause.getCause();
        }
        return cause;
    }

    @Override
    public void close()
    {
        client.shutdownNow();
        executor.shutdownNow();
    }

    @Override
    public String toString()
    {
        return url.toString();
    }

    /** The service answered, but not with something derper would accept. */
    private static final class AnswerException extends RuntimeException
    {
        AnswerException(final String message)
        {
            super(message, null, false, false);
        }
    }
}
