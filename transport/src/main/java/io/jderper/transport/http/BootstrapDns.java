package io.jderper.transport.http;

import io.jderper.core.router.BootstrapDnsCounters;
import io.netty.util.NetUtil;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.net.InetAddress;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.SequencedSet;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.CancellationException;
import java.util.concurrent.Callable;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.regex.Pattern;

/**
 * The answers of {@code /bootstrap-dns} (spec §4.15): the addresses of derper's {@code -bootstrap-dns-names}, for
 * clients whose own DNS is broken, and of {@code -unpublished-bootstrap-dns-names}, given only to a client that asks
 * for that exact name with {@code ?q=}.
 *
 * <p>The names are looked up off the event loops ({@link #startRefreshing()}: at once, then every 10 minutes, each
 * round bounded by a minute) and the JSON answers are built then; serving one is a volatile read. A name whose
 * lookup fails keeps its previous addresses. derper's per-name rollout percentage from a TXT record is not
 * implemented: {@link #parseNames} refuses a {@code /txtname} suffix.
 */
public final class BootstrapDns
{
    /** How often the names are looked up again (derper's interval). */
    public static final Duration REFRESH_INTERVAL = Duration.ofMinutes(10);
    /** Bound on one round of lookups (derper's). */
    public static final Duration LOOKUP_TIMEOUT = Duration.ofMinutes(1);
    /** The longest DNS name in text form (RFC 1035 §2.3.4 less the final dot); longer queries are refused. */
    public static final int MAX_NAME_LENGTH = 253;
    /** The system's resolver ({@link InetAddress#getAllByName}, which never looks up an IP literal). */
    public static final Resolver SYSTEM_RESOLVER = name -> List.of(InetAddress.getAllByName(name));
    private static final Logger LOG = LoggerFactory.getLogger(BootstrapDns.class);
    private static final Pattern DNS_NAME = Pattern.compile("[A-Za-z0-9_](?:[A-Za-z0-9_-]{0,61}[A-Za-z0-9_])?" +
        "(?:\\.[A-Za-z0-9_](?:[A-Za-z0-9_-]{0,61}[A-Za-z0-9_])?)*");
    /** No names: {@code /bootstrap-dns} answers with an empty body, which clients take as a failure. */
    public static final BootstrapDns NONE = new BootstrapDns(List.of(), List.of(), SYSTEM_RESOLVER, LOOKUP_TIMEOUT);

    /** Looks up a name's addresses; blocking is fine, it runs on a virtual thread of its own. */
    @FunctionalInterface
    public interface Resolver
    {
        /**
         * @param name a DNS name.
         * @return its addresses.
         * @throws IOException if it has none or the lookup failed.
         */
        List<InetAddress> resolve(String name) throws IOException;
    }

    private final List<String> published;
    private final Set<String> publishedNames;
    private final List<String> unpublished;
    private final Resolver resolver;
    private final Duration timeout;
    /** Each name's addresses as last resolved, kept through failed lookups; guarded by this. */
    private final Map<String, List<String>> lastKnown = new HashMap<>();
    private volatile Answers answers = new Answers("", Set.of(), Map.of());

    /**
     * @param published   names answered to every request.
     * @param unpublished names answered only to a request naming them in {@code ?q=}.
     * @param resolver    looks the names up.
     * @param timeout     bound on one round of lookups.
     * @throws IllegalArgumentException if a name is not a DNS name.
     */
    public BootstrapDns(final List<String> published, final List<String> unpublished, final Resolver resolver,
        final Duration timeout)
    {
        published.forEach(BootstrapDns::checkName);
        unpublished.forEach(BootstrapDns::checkName);
        this.published = List.copyOf(published);
        this.publishedNames = Set.copyOf(published);
        this.unpublished = List.copyOf(unpublished);
        this.resolver = resolver;
        this.timeout = timeout;
    }

    /**
     * Reads {@code -bootstrap-dns-names} or {@code -unpublished-bootstrap-dns-names}.
     *
     * @param flagName the flag's name, for messages.
     * @param flag     comma-separated DNS names; blanks around them and empty entries are ignored.
     * @return the names, without duplicates, in the order given.
     * @throws IllegalArgumentException naming the entry that is not a DNS name, or that has derper's {@code /txtname}
     *                                  rollout suffix, which jderper does not implement.
     */
    public static List<String> parseNames(final String flagName, final String flag)
    {
        final SequencedSet<String> names = new LinkedHashSet<>();
        for (final String part : flag.split(","))
        {
            final String name = part.strip();
            if (name.isEmpty())
            {
                continue;
            }
            if (name.indexOf('/') >= 0)
            {
                throw new IllegalArgumentException("-" + flagName + ": \"" + name + "\": a /txtname suffix (derper's " +
                    "rollout percentage from a TXT record) is not supported by jderper; give the name alone to " +
                    "answer every client that asks for it");
            }
            try
            {
                checkName(name);
            }
            catch (final IllegalArgumentException ex)
            {
                throw new IllegalArgumentException("-" + flagName + ": " + ex.getMessage(), ex);
            }
            names.add(name);
        }
        return List.copyOf(names);
    }

    private static void checkName(final String name)
    {
        if (name.length() > MAX_NAME_LENGTH || !DNS_NAME.matcher(name).matches())
        {
            throw new IllegalArgumentException("\"" + name + "\" is not a DNS name (letters, digits, '-' and '_' " +
                "in dot-separated labels of at most 63, " + MAX_NAME_LENGTH + " characters in all)");
        }
    }

    /**
     * @return whether any name is configured.
     */
    public boolean configured()
    {
        return !published.isEmpty() || !unpublished.isEmpty();
    }

    /**
     * The body of a {@code /bootstrap-dns} answer. Never blocks.
     *
     * @param query the {@code q} parameter, or null if none.
     * @return JSON {@code {"name": ["ip", ...]}}: just the queried name if it is an unpublished one, else every
     *         published name resolved so far; empty if no published name is configured or none resolved yet.
     */
    public String answer(final String query)
    {
        final Answers current = answers;
        if (null != query && !query.isEmpty())
        {
            final String hit = current.unpublished().get(query);
            if (null != hit)
            {
                return hit;
            }
        }
        return current.published();
    }

    /**
     * As {@link #answer(String)}, counting a {@code ?q=} name as derper's {@code handleBootstrapDNS} does: an
     * unpublished name with addresses is an unpublished hit (answered to every client: jderper has no rollout
     * percentages, so never a percent miss); else a published name is a published hit if it has addresses and a
     * published miss if it has none yet; any other name is an unpublished miss. derper drops a name whose last lookup
     * failed from its cache, so that a query for it counts as an unpublished miss; jderper keeps the addresses it had,
     * and only a published name that never resolved is a published miss. Never blocks.
     *
     * @param query    the {@code q} parameter, or null if none.
     * @param counters where the name is counted (the request itself is counted by the caller).
     * @return as {@link #answer(String)}.
     */
    public String answer(final String query, final BootstrapDnsCounters counters)
    {
        final Answers current = answers;
        if (null == query || query.isEmpty())
        {
            return current.published();
        }
        counters.queried(query);
        final String hit = current.unpublished().get(query);
        if (null != hit)
        {
            counters.unpublishedHits.increment();
            return hit;
        }
        if (current.publishedResolved().contains(query))
        {
            counters.publishedHits.increment();
        }
        else if (publishedNames.contains(query))
        {
            counters.publishedMisses.increment();
        }
        else
        {
            counters.unpublishedMisses.increment();
        }
        return current.published();
    }

    /**
     * Looks every name up now, at most for the timeout, and replaces the answers. A name whose lookup fails or does
     * not finish in time keeps the addresses it had; the failures are logged in one line. Blocks: call it off the
     * event loops.
     */
    public synchronized void refresh()
    {
        if (!configured())
        {
            return;
        }
        final SequencedSet<String> names = new LinkedHashSet<>(published);
        names.addAll(unpublished);
        final List<Callable<List<InetAddress>>> lookups = new ArrayList<>();
        names.forEach(name -> lookups.add(() -> resolver.resolve(name)));
        // A thread per lookup, so that one slow name does not hold up the others; the executor is not closed (close
        // waits) but shut down: a lookup stuck past the timeout in the system resolver is left to end on its own.
        final ExecutorService executor = Executors.newThreadPerTaskExecutor(
            Thread.ofVirtual().name("jderper-bootstrap-dns-lookup-", 0).factory());
        final List<Future<List<InetAddress>>> results;
        try
        {
            results = executor.invokeAll(lookups, timeout.toNanos(), TimeUnit.NANOSECONDS);
        }
        catch (final InterruptedException ex)
        {
            Thread.currentThread().interrupt();
            return;
        }
        finally
        {
            executor.shutdownNow();
        }
        final List<String> failures = new ArrayList<>();
        int index = 0;
        for (final String name : names)
        {
            final Future<List<InetAddress>> result = results.get(index++);
            try
            {
                final List<String> addresses = new ArrayList<>();
                result.get().forEach(address -> addresses.add(NetUtil.toAddressString(address)));
                if (addresses.isEmpty())
                {
                    throw new ExecutionException(new IOException("no addresses"));
                }
                // Clients try the first address first: a new order each round spreads them over all.
                Collections.shuffle(addresses, ThreadLocalRandom.current());
                lastKnown.put(name, List.copyOf(addresses));
            }
            catch (final ExecutionException ex)
            {
                failures.add(name + ": " + ex.getCause());
            }
            catch (final CancellationException ex)
            {
                failures.add(name + ": no answer within " + timeout.toMillis() + " ms");
            }
            catch (final InterruptedException ex)
            {
                Thread.currentThread().interrupt();
                return;
            }
        }
        if (!failures.isEmpty())
        {
            LOG.warn("bootstrap DNS: {} of {} lookups failed, keeping their previous addresses: {}", failures.size(),
                names.size(), String.join("; ", failures));
        }
        answers = buildAnswers();
        LOG.debug("bootstrap DNS: {} of {} names resolved", lastKnown.size(), names.size());
    }

    private Answers buildAnswers()
    {
        final Map<String, List<String>> publishedAddresses = new TreeMap<>();
        for (final String name : published)
        {
            final List<String> addresses = lastKnown.get(name);
            if (null != addresses)
            {
                publishedAddresses.put(name, addresses);
            }
        }
        final Map<String, String> unpublishedAnswers = new HashMap<>();
        for (final String name : unpublished)
        {
            final List<String> addresses = lastKnown.get(name);
            if (null != addresses)
            {
                unpublishedAnswers.put(name, json(Map.of(name, addresses)));
            }
        }
        return new Answers(published.isEmpty() ? "" : json(publishedAddresses),
            Set.copyOf(publishedAddresses.keySet()), Map.copyOf(unpublishedAnswers));
    }

    /**
     * JSON as derper writes it (Go's encoder, tab-indented, keys sorted). Names and addresses need no escaping: the
     * names are checked DNS names, the addresses IP literals.
     */
    private static String json(final Map<String, List<String>> entries)
    {
        if (entries.isEmpty())
        {
            return "{}";
        }
        final StringBuilder text = new StringBuilder("{");
        String separator = "\n";
        for (final Map.Entry<String, List<String>> entry : new TreeMap<>(entries).entrySet())
        {
            text.append(separator).append("\t\"").append(entry.getKey()).append("\": [");
            String addressSeparator = "\n";
            for (final String address : entry.getValue())
            {
                text.append(addressSeparator).append("\t\t\"").append(address).append('"');
                addressSeparator = ",\n";
            }
            text.append("\n\t]");
            separator = ",\n";
        }
        return text.append("\n}").toString();
    }

    /**
     * Looks the names up now and then every {@link #REFRESH_INTERVAL}, on a virtual thread.
     *
     * @return the scheduler, to shut down when the server stops.
     */
    public ScheduledExecutorService startRefreshing()
    {
        final ScheduledExecutorService scheduler = Executors.newSingleThreadScheduledExecutor(
            Thread.ofVirtual().name("jderper-bootstrap-dns").factory());
        scheduler.scheduleWithFixedDelay(this::refreshLoggingErrors, 0, REFRESH_INTERVAL.toSeconds(),
            TimeUnit.SECONDS);
        return scheduler;
    }

    private void refreshLoggingErrors()
    {
        try
        {
            refresh();
        }
        catch (final RuntimeException ex)
        {
            // A scheduled task that throws is never run again: log, and keep refreshing.
            LOG.warn("bootstrap DNS refresh failed", ex);
        }
    }

    /**
     * @return the names, for the start-up log.
     */
    @Override
    public String toString()
    {
        return published.size() + " published name(s) " + published + ", " + unpublished.size() +
            " unpublished name(s)";
    }

    /**
     * The bodies served until the next refresh.
     *
     * @param published         every published name's addresses.
     * @param publishedResolved the published names that have addresses.
     * @param unpublished       each unpublished name's own answer.
     */
    private record Answers(String published, Set<String> publishedResolved, Map<String, String> unpublished)
    {
    }
}
