package io.jderper.transport.http;

import io.jderper.core.net.Ip16;
import io.jderper.core.router.BootstrapDnsCounters;
import io.netty.util.NetUtil;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import javax.naming.NamingEnumeration;
import javax.naming.NamingException;
import javax.naming.directory.Attribute;
import javax.naming.directory.DirContext;
import javax.naming.directory.InitialDirContext;
import java.io.IOException;
import java.net.InetAddress;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.Hashtable;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.SequencedSet;
import java.util.Set;
import java.util.SplittableRandom;
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
 * lookup fails keeps its previous addresses.
 *
 * <p>An unpublished entry {@code name/txtname} is rolled out gradually, as in derper: the TXT record
 * {@code txtname} holds a percentage from 0 to 100, looked up with the addresses, and only that share of clients
 * get the name's addresses; the others get the published answer. Which clients is decided by their address alone,
 * so a client keeps its answer while the percentage stays. A TXT record that is missing, fails to resolve or holds
 * no such number means 0%, as in derper. derper gives loopback clients a coin toss instead, for its own testing;
 * jderper treats them as any other address.
 */
public final class BootstrapDns
{
    /** How often the names are looked up again (derper's interval). */
    public static final Duration REFRESH_INTERVAL = Duration.ofMinutes(10);
    /** Bound on one round of lookups (derper's). */
    public static final Duration LOOKUP_TIMEOUT = Duration.ofMinutes(1);
    /** The longest DNS name in text form (RFC 1035 §2.3.4 less the final dot); longer queries are refused. */
    public static final int MAX_NAME_LENGTH = 253;
    /**
     * The system's resolver: {@link InetAddress#getAllByName} (which never looks up an IP literal) for addresses, the
     * JDK's DNS directory provider (the system's name servers) for TXT records.
     */
    public static final Resolver SYSTEM_RESOLVER = new SystemResolver(null);
    private static final Logger LOG = LoggerFactory.getLogger(BootstrapDns.class);
    private static final Pattern DNS_NAME = Pattern.compile("[A-Za-z0-9_](?:[A-Za-z0-9_-]{0,61}[A-Za-z0-9_])?" +
        "(?:\\.[A-Za-z0-9_](?:[A-Za-z0-9_-]{0,61}[A-Za-z0-9_])?)*");
    /** No names: {@code /bootstrap-dns} answers with an empty body, which clients take as a failure. */
    public static final BootstrapDns NONE = new BootstrapDns(List.of(), List.of(), SYSTEM_RESOLVER, LOOKUP_TIMEOUT);

    /** Looks up a name's addresses and TXT records; blocking is fine, each runs on a virtual thread of its own. */
    @FunctionalInterface
    public interface Resolver
    {
        /**
         * @param name a DNS name.
         * @return its addresses.
         * @throws IOException if it has none or the lookup failed.
         */
        List<InetAddress> resolve(String name) throws IOException;

        /**
         * @param name a DNS name.
         * @return the text of each of its TXT records, empty if it has none.
         * @throws IOException if the lookup failed.
         */
        default List<String> txt(final String name) throws IOException
        {
            throw new IOException("this resolver does not look up TXT records");
        }
    }

    private final List<String> published;
    private final Set<String> publishedNames;
    private final List<String> unpublished;
    /** Each gradually rolled-out unpublished name's TXT record name. */
    private final Map<String, String> rolloutRecords;
    private final Resolver resolver;
    private final Duration timeout;
    /** Each name's addresses as last resolved, kept through failed lookups; guarded by this. */
    private final Map<String, List<String>> lastKnown = new HashMap<>();
    private volatile Answers answers = new Answers("", Set.of(), Map.of(), Map.of());

    /**
     * @param published   names answered to every request; a {@code /txtname} suffix is allowed and has no effect
     *                    (derper looks such a record up for published names too, and ignores it).
     * @param unpublished names answered only to a request naming them in {@code ?q=}, each as {@code name} or
     *                    {@code name/txtname} (rolled out to the percentage of clients the TXT record says).
     * @param resolver    looks the names up.
     * @param timeout     bound on one round of lookups.
     * @throws IllegalArgumentException if a name is not a DNS name, or an unpublished name comes twice.
     */
    public BootstrapDns(final List<String> published, final List<String> unpublished, final Resolver resolver,
        final Duration timeout)
    {
        final List<String> publishedOnly = new ArrayList<>();
        for (final String entry : published)
        {
            publishedOnly.add(splitEntry(entry)[0]);
        }
        final Map<String, String> rollouts = new HashMap<>();
        final SequencedSet<String> unpublishedOnly = new LinkedHashSet<>();
        for (final String entry : unpublished)
        {
            final String[] parts = splitEntry(entry);
            if (!unpublishedOnly.add(parts[0]))
            {
                throw new IllegalArgumentException("\"" + parts[0] + "\" is given twice as an unpublished name");
            }
            if (null != parts[1])
            {
                rollouts.put(parts[0], parts[1]);
            }
        }
        this.published = List.copyOf(new LinkedHashSet<>(publishedOnly));
        this.publishedNames = Set.copyOf(publishedOnly);
        this.unpublished = List.copyOf(unpublishedOnly);
        this.rolloutRecords = Map.copyOf(rollouts);
        this.resolver = resolver;
        this.timeout = timeout;
    }

    /**
     * @return {name, TXT record name or null} of a {@code name} or {@code name/txtname} entry, both checked.
     */
    private static String[] splitEntry(final String entry)
    {
        final int slash = entry.indexOf('/');
        final String name = slash < 0 ? entry : entry.substring(0, slash);
        final String txtName = slash < 0 ? null : entry.substring(slash + 1);
        checkName(name);
        if (null != txtName)
        {
            checkName(txtName);
        }
        return new String[]{name, txtName};
    }

    /**
     * Reads {@code -bootstrap-dns-names} or {@code -unpublished-bootstrap-dns-names}.
     *
     * @param flagName the flag's name, for messages.
     * @param flag     comma-separated entries, each a DNS name or derper's {@code name/txtname} (the TXT record
     *                 giving the rollout percentage); blanks around them and empty entries are ignored.
     * @return the entries, without duplicates, in the order given.
     * @throws IllegalArgumentException naming the entry that is not a DNS name or {@code name/txtname}.
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
            try
            {
                if (name.indexOf('/') != name.lastIndexOf('/'))
                {
                    throw new IllegalArgumentException("\"" + name + "\": want name or name/txtname");
                }
                splitEntry(name);
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
     * The body of a {@code /bootstrap-dns} answer, as a client within every rollout percentage gets it. Never blocks.
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
     * As {@link #answer(String)} for one client, counting a {@code ?q=} name as derper's {@code handleBootstrapDNS}
     * does: an unpublished name with addresses is an unpublished hit, answered with its own addresses if the client
     * is within the name's rollout percentage and otherwise a percent miss that goes on as below; a published name
     * is a published hit if it has addresses and a published miss if it has none yet; any other name is an
     * unpublished miss. derper drops a name whose last lookup failed from its cache, so that a query for it counts as
     * an unpublished miss; jderper keeps the addresses it had, and only a published name that never resolved is a
     * published miss. Never blocks.
     *
     * @param query    the {@code q} parameter, or null if none.
     * @param counters where the name is counted (the request itself is counted by the caller).
     * @param client   the client's address, which places it inside or outside a rollout.
     * @return as {@link #answer(String)}.
     */
    public String answer(final String query, final BootstrapDnsCounters counters, final InetAddress client)
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
            if (inRollout(client, current.rollout().getOrDefault(query, 1.0)))
            {
                return hit;
            }
            counters.unpublishedPercentMisses.increment();
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
     * @param client the client's address, or null if unknown (outside every partial rollout).
     * @param share  the rollout, 0 to 1.
     * @return whether the client is inside it: always at 1, never at 0, else for that share of addresses, each
     *         address always on the same side.
     */
    static boolean inRollout(final InetAddress client, final double share)
    {
        if (share >= 1)
        {
            return true;
        }
        if (share <= 0 || null == client)
        {
            return false;
        }
        return share > rolloutPoint(client);
    }

    /**
     * @return the client's fixed place in [0, 1): a pseudo-random number seeded by its address in 16-byte form (an
     *         IPv4 address mapped, as derper does), so that addresses spread evenly whatever their prefix.
     */
    static double rolloutPoint(final InetAddress client)
    {
        final byte[] address = Ip16.of(client);
        long high = 0;
        long low = 0;
        for (int i = 7; i >= 0; i--)
        {
            high = high << 8 | (address[i] & 0xFF);
            low = low << 8 | (address[i + 8] & 0xFF);
        }
        return new SplittableRandom(high * 0x9E3779B97F4A7C15L ^ low).nextDouble();
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
        final List<Callable<List<?>>> lookups = new ArrayList<>();
        names.forEach(name -> lookups.add(() -> resolver.resolve(name)));
        final List<String> rolledOut = List.copyOf(rolloutRecords.keySet());
        rolledOut.forEach(name -> lookups.add(() -> resolver.txt(rolloutRecords.get(name))));
        // A thread per lookup, so that one slow name does not hold up the others; the executor is not closed (close
        // waits) but shut down: a lookup stuck past the timeout in the system resolver is left to end on its own.
        final ExecutorService executor = Executors.newThreadPerTaskExecutor(
            Thread.ofVirtual().name("jderper-bootstrap-dns-lookup-", 0).factory());
        final List<Future<List<?>>> results;
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
            final Future<List<?>> result = results.get(index++);
            try
            {
                final List<String> addresses = new ArrayList<>();
                result.get().forEach(address -> addresses.add(NetUtil.toAddressString((InetAddress)address)));
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
        final Map<String, Double> rollout = new HashMap<>();
        final List<String> rolloutFailures = new ArrayList<>();
        for (final String name : rolledOut)
        {
            final String record = rolloutRecords.get(name);
            double share = 0;
            try
            {
                share = rolloutShare(results.get(index++).get());
            }
            catch (final ExecutionException ex)
            {
                rolloutFailures.add(record + ": " + ex.getCause());
            }
            catch (final CancellationException ex)
            {
                rolloutFailures.add(record + ": no answer within " + timeout.toMillis() + " ms");
            }
            catch (final InterruptedException ex)
            {
                Thread.currentThread().interrupt();
                return;
            }
            rollout.put(name, share);
        }
        if (!rolloutFailures.isEmpty())
        {
            LOG.warn("bootstrap DNS: {} of {} rollout TXT lookups failed, so their names go to no client until the " +
                "next round: {}", rolloutFailures.size(), rolledOut.size(), String.join("; ", rolloutFailures));
        }
        answers = buildAnswers(rollout);
        LOG.debug("bootstrap DNS: {} of {} names resolved", lastKnown.size(), names.size());
    }

    /**
     * @return the share of clients a rollout TXT record lets in, 0 to 1: its last text that is a whole number from 0
     *         to 100 (quotes and blanks around it allowed), over 100; 0 if none is (derper's reading).
     */
    static double rolloutShare(final List<?> texts)
    {
        double share = 0;
        for (final Object text : texts)
        {
            final String value = text.toString().strip().replace("\"", "");
            if (value.length() <= 3 && !value.isEmpty() && value.chars().allMatch(c -> c >= '0' && c <= '9'))
            {
                final int percent = Integer.parseInt(value);
                if (percent <= 100)
                {
                    share = percent / 100.0;
                }
            }
        }
        return share;
    }

    private Answers buildAnswers(final Map<String, Double> rollout)
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
            Set.copyOf(publishedAddresses.keySet()), Map.copyOf(unpublishedAnswers), Map.copyOf(rollout));
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
            " unpublished name(s)" + (rolloutRecords.isEmpty() ? "" : ", " + rolloutRecords.size() +
            " of them rolled out by TXT record " + new TreeMap<>(rolloutRecords));
    }

    /**
     * The bodies served until the next refresh.
     *
     * @param published         every published name's addresses.
     * @param publishedResolved the published names that have addresses.
     * @param unpublished       each unpublished name's own answer.
     * @param rollout           the share of clients each gradually rolled-out unpublished name goes to, 0 to 1.
     */
    private record Answers(String published, Set<String> publishedResolved, Map<String, String> unpublished,
        Map<String, Double> rollout)
    {
    }

    /**
     * Addresses from the system's resolver; TXT records from the JDK's DNS directory provider, which asks the
     * system's name servers, or the one given.
     */
    static final class SystemResolver implements Resolver
    {
        private final String nameServer;

        /**
         * @param nameServer {@code dns://host:port} to ask for TXT records, or null for the system's name servers.
         */
        SystemResolver(final String nameServer)
        {
            this.nameServer = nameServer;
        }

        @Override
        public List<InetAddress> resolve(final String name) throws IOException
        {
            return List.of(InetAddress.getAllByName(name));
        }

        @Override
        public List<String> txt(final String name) throws IOException
        {
            final Hashtable<String, String> environment = new Hashtable<>();
            environment.put(DirContext.INITIAL_CONTEXT_FACTORY, "com.sun.jndi.dns.DnsContextFactory");
            if (null != nameServer)
            {
                environment.put(DirContext.PROVIDER_URL, nameServer);
            }
            try
            {
                final DirContext dns = new InitialDirContext(environment);
                try
                {
                    final Attribute records = dns.getAttributes(name, new String[]{"TXT"}).get("TXT");
                    final List<String> texts = new ArrayList<>();
                    if (null != records)
                    {
                        final NamingEnumeration<?> values = records.getAll();
                        while (values.hasMore())
                        {
                            texts.add(String.valueOf(values.next()));
                        }
                    }
                    return texts;
                }
                finally
                {
                    dns.close();
                }
            }
            catch (final NamingException ex)
            {
                throw new IOException("TXT " + name + ": " + ex, ex);
            }
        }
    }
}
