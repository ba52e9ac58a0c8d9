package io.jderper.core.admission;

import io.jderper.core.key.NodePublicKey;
import org.agrona.concurrent.NanoClock;

import java.net.InetAddress;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;

/**
 * Remembers another check's definitive answers for a while, so that a client reconnecting (or a denied one
 * retrying in a loop) does not cost the admission service a call each time. Fail-open admissions and errors are
 * never remembered. Bounded: the least recently used entry goes when the cache is full.
 */
public final class CachedAdmissionCheck implements AdmissionCheck
{
    private final AdmissionCheck inner;
    private final long admitTtlNs;
    private final long denyTtlNs;
    private final NanoClock clock;
    private final LinkedHashMap<Asked, Remembered> remembered;

    /**
     * @param inner      the check to ask on a miss.
     * @param admitTtlNs how long an admission is remembered.
     * @param denyTtlNs  how long a refusal is remembered.
     * @param maxEntries bound on remembered answers.
     * @param clock      monotonic clock.
     */
    public CachedAdmissionCheck(final AdmissionCheck inner, final long admitTtlNs, final long denyTtlNs,
        final int maxEntries, final NanoClock clock)
    {
        if (maxEntries <= 0)
        {
            throw new IllegalArgumentException("maxEntries=" + maxEntries + ", must be > 0");
        }
        this.inner = inner;
        this.admitTtlNs = admitTtlNs;
        this.denyTtlNs = denyTtlNs;
        this.clock = clock;
        this.remembered = new LinkedHashMap<>(16, 0.75f, true)
        {
            @Override
            protected boolean removeEldestEntry(final Map.Entry<Asked, Remembered> eldest)
            {
                return size() > maxEntries;
            }
        };
    }

    @Override
    public CompletionStage<AdmissionDecision> check(final AdmissionRequest request)
    {
        final Asked asked = new Asked(request.key(), request.address());
        final long nowNs = clock.nanoTime();
        synchronized (remembered)
        {
            final Remembered known = remembered.get(asked);
            if (null != known)
            {
                if (known.expiresNs - nowNs > 0)
                {
                    return CompletableFuture.completedFuture(known.decision);
                }
                remembered.remove(asked);
            }
        }
        return inner.check(request).thenApply(decision ->
        {
            final long ttlNs = decision.admitted() ? admitTtlNs : denyTtlNs;
            if (decision.definitive() && ttlNs > 0)
            {
                synchronized (remembered)
                {
                    remembered.put(asked, new Remembered(decision, clock.nanoTime() + ttlNs));
                }
            }
            return decision;
        });
    }

    /**
     * @return answers remembered now (expired ones included until they are asked for or pushed out).
     */
    public int size()
    {
        synchronized (remembered)
        {
            return remembered.size();
        }
    }

    private record Asked(NodePublicKey key, InetAddress address)
    {
    }

    private record Remembered(AdmissionDecision decision, long expiresNs)
    {
    }
}
