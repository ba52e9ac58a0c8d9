package io.jderper.core.router;

import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.LongAdder;

/**
 * What {@code /bootstrap-dns} was asked (spec §4.15), counted as derper counts it in {@code handleBootstrapDNS}
 * under its {@code bootstrap_dns_*} names (spec §4.10). Counted on the event loop that serves the request: the
 * counters are {@link LongAdder}s and the set of names asked for is capped, so counting neither waits for another
 * thread for long nor grows without bound.
 */
public final class BootstrapDnsCounters
{
    /** derper's cap on the names remembered for {@code bootstrap_dns_queried_domains}: past it the set is cleared. */
    public static final int MAX_QUERIED_DOMAINS = 500;

    /** Every {@code /bootstrap-dns} request, with or without {@code ?q=}. */
    public final LongAdder requests = new LongAdder();
    /** {@code ?q=} names that are published names with addresses. */
    public final LongAdder publishedHits = new LongAdder();
    /** {@code ?q=} names that are published names without addresses yet. */
    public final LongAdder publishedMisses = new LongAdder();
    /** {@code ?q=} names that are unpublished names with addresses, answered with those alone. */
    public final LongAdder unpublishedHits = new LongAdder();
    /** {@code ?q=} names that neither list answers (a rollout miss included, as in derper). */
    public final LongAdder unpublishedMisses = new LongAdder();
    /** {@code ?q=} unpublished names with addresses withheld because the client is outside the rollout percentage. */
    public final LongAdder unpublishedPercentMisses = new LongAdder();

    /** Names asked for since the last clearing; at most {@link #MAX_QUERIED_DOMAINS} plus one per racing thread. */
    private final Set<String> queriedDomains = ConcurrentHashMap.newKeySet();

    /**
     * Remembers a name asked for with {@code ?q=}; as derper does, forgets every name once more than
     * {@link #MAX_QUERIED_DOMAINS} are remembered.
     *
     * @param name the name, as asked.
     */
    public void queried(final String name)
    {
        if (queriedDomains.add(name) && queriedDomains.size() > MAX_QUERIED_DOMAINS)
        {
            queriedDomains.clear();
        }
    }

    /**
     * @return the distinct names asked for since the set was last cleared (derper's
     *         {@code bootstrap_dns_queried_domains}).
     */
    public int queriedDomains()
    {
        return queriedDomains.size();
    }
}
