package io.jderper.core.admission;

import static org.assertj.core.api.Assertions.assertThat;

import java.net.InetAddress;
import java.security.SecureRandom;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;

import io.jderper.core.key.NodePrivateKey;
import io.jderper.core.key.NodePublicKey;
import org.agrona.concurrent.CachedNanoClock;
import org.junit.jupiter.api.Test;

class CachedAdmissionCheckTest
{
    private static final long SECOND = 1_000_000_000L;

    private final SecureRandom random = new SecureRandom();
    private final CachedNanoClock clock = new CachedNanoClock();
    private final AtomicInteger calls = new AtomicInteger();
    private final AtomicReference<AdmissionDecision> answer = new AtomicReference<>(AdmissionDecision.ADMITTED);
    private final CachedAdmissionCheck cache = new CachedAdmissionCheck(request ->
    {
        calls.incrementAndGet();
        return CompletableFuture.completedFuture(answer.get());
    }, 60 * SECOND, 10 * SECOND, 2, clock);

    private AdmissionDecision ask(final NodePublicKey key)
    {
        return cache.check(AdmissionRequest.of(key, InetAddress.ofLiteral("192.0.2.1"))).toCompletableFuture().join();
    }

    @Test
    void shouldRememberAnswersForTheirTimeToLive()
    {
        final NodePublicKey key = NodePrivateKey.generate(random).publicKey();
        ask(key);
        answer.set(AdmissionDecision.denied(DenialReason.URL_REFUSED, "removed from the tailnet"));

        clock.advance(59 * SECOND);
        assertThat(ask(key).admitted()).isTrue();
        assertThat(calls).hasValue(1);

        clock.advance(2 * SECOND);
        assertThat(ask(key).admitted()).isFalse();
        assertThat(calls).hasValue(2);

        clock.advance(9 * SECOND);
        assertThat(ask(key).admitted()).as("a refusal is remembered for its own, shorter time").isFalse();
        assertThat(calls).hasValue(2);
        clock.advance(2 * SECOND);
        ask(key);
        assertThat(calls).hasValue(3);
    }

    @Test
    void shouldNeverRememberProvisionalAnswersOrErrors()
    {
        final NodePublicKey key = NodePrivateKey.generate(random).publicKey();
        answer.set(AdmissionDecision.admittedProvisionally("admission URL unreachable; fail-open"));
        ask(key);
        ask(key);
        answer.set(AdmissionDecision.failed(DenialReason.URL_ERROR, "timeout"));
        ask(key);
        ask(key);

        assertThat(calls).hasValue(4);
        assertThat(cache.size()).isZero();
    }

    @Test
    void shouldHoldNoMoreThanItsBound()
    {
        for (int i = 0; i < 5; i++)
        {
            ask(NodePrivateKey.generate(random).publicKey());
        }

        assertThat(cache.size()).isEqualTo(2);
    }
}
