package io.jderper.transport.http;

import io.jderper.core.router.BootstrapDnsCounters;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.io.IOException;
import java.net.InetAddress;
import java.net.UnknownHostException;
import java.time.Duration;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * The answers of {@code /bootstrap-dns} (spec §4.15), from an injected resolver: no real DNS.
 */
class BootstrapDnsTest
{
    private static final Duration TIMEOUT = Duration.ofSeconds(10);
    private static final InetAddress CLIENT = InetAddress.ofLiteral("198.51.100.7");

    /** A resolver answering from maps that the test changes between refreshes; an absent name fails. */
    private final Map<String, List<InetAddress>> zone = new ConcurrentHashMap<>();
    private final Map<String, List<String>> txtZone = new ConcurrentHashMap<>();
    private final BootstrapDns.Resolver resolver = new BootstrapDns.Resolver()
    {
        @Override
        public List<InetAddress> resolve(final String name) throws IOException
        {
            final List<InetAddress> addresses = zone.get(name);
            if (null == addresses)
            {
                throw new UnknownHostException(name);
            }
            return addresses;
        }

        @Override
        public List<String> txt(final String name) throws IOException
        {
            final List<String> texts = txtZone.get(name);
            if (null == texts)
            {
                throw new IOException("no such name: " + name);
            }
            return texts;
        }
    };

    private static InetAddress ip(final String literal)
    {
        return InetAddress.ofLiteral(literal);
    }

    @Test
    void shouldAnswerWithTheResolvedNamesAsDerperWritesThem()
    {
        zone.put("controlplane.example.com", List.of(ip("192.0.2.10")));
        zone.put("log.example.com", List.of(ip("2001:db8:0:0:0:0:0:1")));
        final BootstrapDns dns = new BootstrapDns(List.of("log.example.com", "controlplane.example.com"), List.of(),
            resolver, TIMEOUT);

        assertThat(dns.answer(null)).as("before the first lookup").isEmpty();
        dns.refresh();

        // Keys sorted and tab-indented as Go's json.MarshalIndent(m, "", "\t"); IPv6 in its short form.
        assertThat(dns.answer(null)).isEqualTo("""
            {
            \t"controlplane.example.com": [
            \t\t"192.0.2.10"
            \t],
            \t"log.example.com": [
            \t\t"2001:db8::1"
            \t]
            }""");
        assertThat(dns.answer("")).isEqualTo(dns.answer(null));
        assertThat(dns.answer("other.example.com")).as("an unknown q gets the published names")
            .isEqualTo(dns.answer(null));
    }

    @Test
    void shouldCountEachQueryAsDerperDoes()
    {
        zone.put("public.example.com", List.of(ip("192.0.2.1")));
        zone.put("hidden.example.com", List.of(ip("192.0.2.2")));
        final BootstrapDns dns = new BootstrapDns(List.of("public.example.com", "unresolved.example.com"),
            List.of("hidden.example.com", "hidden-unresolved.example.com"), resolver, TIMEOUT);
        dns.refresh();
        final BootstrapDnsCounters counters = new BootstrapDnsCounters();

        assertThat(dns.answer(null, counters, CLIENT)).as("no q: nothing to count").isEqualTo(dns.answer(null));
        assertThat(dns.answer("", counters, CLIENT)).isEqualTo(dns.answer(null));
        assertThat(counters.queriedDomains()).isZero();

        assertThat(dns.answer("hidden.example.com", counters, CLIENT)).isEqualTo(dns.answer("hidden.example.com"));
        assertThat(dns.answer("public.example.com", counters, CLIENT)).isEqualTo(dns.answer(null));
        assertThat(dns.answer("public.example.com", counters, CLIENT)).isEqualTo(dns.answer(null));
        assertThat(dns.answer("unresolved.example.com", counters, CLIENT)).isEqualTo(dns.answer(null));
        assertThat(dns.answer("other.example.com", counters, CLIENT)).isEqualTo(dns.answer(null));
        assertThat(dns.answer("hidden-unresolved.example.com", counters, CLIENT))
            .as("derper has no entry for it either")
            .isEqualTo(dns.answer(null));

        assertThat(counters.unpublishedHits.sum()).isEqualTo(1);
        assertThat(counters.publishedHits.sum()).isEqualTo(2);
        assertThat(counters.publishedMisses.sum()).as("a published name that never resolved").isEqualTo(1);
        assertThat(counters.unpublishedMisses.sum()).as("neither list answers").isEqualTo(2);
        assertThat(counters.queriedDomains()).as("distinct names asked").isEqualTo(5);
        assertThat(counters.requests.sum()).as("the handler counts requests").isZero();
    }

    @Test
    void shouldAnswerNothingWithoutNames()
    {
        BootstrapDns.NONE.refresh();

        assertThat(BootstrapDns.NONE.configured()).isFalse();
        assertThat(BootstrapDns.NONE.answer(null)).isEmpty();
        assertThat(BootstrapDns.NONE.answer("example.com")).isEmpty();
    }

    @Test
    void shouldAnswerAnUnpublishedNameOnlyToAnExactQuery()
    {
        zone.put("public.example.com", List.of(ip("192.0.2.1")));
        zone.put("hidden.example.com", List.of(ip("192.0.2.2")));
        final BootstrapDns dns = new BootstrapDns(List.of("public.example.com"), List.of("hidden.example.com"),
            resolver, TIMEOUT);
        dns.refresh();

        assertThat(dns.answer("hidden.example.com")).isEqualTo("{\n\t\"hidden.example.com\": [\n\t\t\"192.0.2.2\"" +
            "\n\t]\n}");
        assertThat(dns.answer(null)).doesNotContain("hidden").contains("public.example.com");
        assertThat(dns.answer("HIDDEN.example.com")).doesNotContain("hidden");
        assertThat(dns.answer("hidden.example.com.")).doesNotContain("hidden");
    }

    @Test
    void shouldAnswerNothingToAMissWhenOnlyUnpublishedNamesAreConfigured()
    {
        zone.put("hidden.example.com", List.of(ip("192.0.2.2")));
        final BootstrapDns dns = new BootstrapDns(List.of(), List.of("hidden.example.com"), resolver, TIMEOUT);
        dns.refresh();

        assertThat(dns.answer(null)).isEmpty();
        assertThat(dns.answer("hidden.example.com")).contains("192.0.2.2");
    }

    @Test
    void shouldKeepThePreviousAddressesOfANameWhoseLookupFails()
    {
        zone.put("a.example.com", List.of(ip("192.0.2.1")));
        zone.put("b.example.com", List.of(ip("192.0.2.2")));
        final BootstrapDns dns = new BootstrapDns(List.of("a.example.com", "b.example.com"), List.of(), resolver,
            TIMEOUT);
        dns.refresh();
        zone.remove("a.example.com");
        zone.put("b.example.com", List.of(ip("192.0.2.3")));

        dns.refresh();

        assertThat(dns.answer(null)).contains("192.0.2.1").contains("192.0.2.3").doesNotContain("192.0.2.2");
    }

    @Test
    void shouldLeaveOutANameThatNeverResolved()
    {
        zone.put("a.example.com", List.of(ip("192.0.2.1")));
        final BootstrapDns dns = new BootstrapDns(List.of("a.example.com", "missing.example.com"), List.of(),
            resolver, TIMEOUT);
        dns.refresh();

        assertThat(dns.answer(null)).contains("a.example.com").doesNotContain("missing");
    }

    @Test
    void shouldAnswerAnEmptyObjectWhenNoPublishedNameResolved()
    {
        final BootstrapDns dns = new BootstrapDns(List.of("missing.example.com"), List.of(), resolver, TIMEOUT);
        dns.refresh();

        assertThat(dns.answer(null)).isEqualTo("{}");
    }

    @Test
    void shouldGiveUpOnALookupThatDoesNotFinishInTime() throws Exception
    {
        final CountDownLatch release = new CountDownLatch(1);
        final CountDownLatch stuck = new CountDownLatch(1);
        zone.put("fast.example.com", List.of(ip("192.0.2.1")));
        zone.put("slow.example.com", List.of(ip("192.0.2.9")));
        final BootstrapDns.Resolver slowOnSecondRound = new BootstrapDns.Resolver()
        {
            private int slowCalls;

            @Override
            public List<InetAddress> resolve(final String name) throws IOException
            {
                if ("slow.example.com".equals(name) && 2 == ++slowCalls)
                {
                    stuck.countDown();
                    try
                    {
                        release.await();
                    }
                    catch (final InterruptedException ex)
                    {
                        Thread.currentThread().interrupt();
                        throw new IOException("interrupted");
                    }
                    return List.of(ip("192.0.2.99"));
                }
                return resolver.resolve(name);
            }
        };
        final BootstrapDns dns = new BootstrapDns(List.of("fast.example.com", "slow.example.com"), List.of(),
            slowOnSecondRound, Duration.ofMillis(200));
        dns.refresh();
        zone.put("fast.example.com", List.of(ip("192.0.2.2")));
        try
        {
            final long start = System.nanoTime();
            dns.refresh();
            final Duration took = Duration.ofNanos(System.nanoTime() - start);

            assertThat(stuck.getCount()).as("the slow lookup was started").isZero();
            assertThat(took).as("the round ends at its timeout").isLessThan(Duration.ofSeconds(5));
            assertThat(dns.answer(null)).contains("192.0.2.2").contains("192.0.2.9").doesNotContain("192.0.2.99");
        }
        finally
        {
            release.countDown();
        }
    }

    @Test
    void shouldShuffleTheAddressesOfANameOnEachRefresh()
    {
        final List<InetAddress> addresses = List.of(ip("192.0.2.1"), ip("192.0.2.2"), ip("192.0.2.3"),
            ip("192.0.2.4"), ip("192.0.2.5"), ip("192.0.2.6"), ip("192.0.2.7"), ip("192.0.2.8"));
        zone.put("many.example.com", addresses);
        final BootstrapDns dns = new BootstrapDns(List.of("many.example.com"), List.of(), resolver, TIMEOUT);
        final Set<String> orders = new HashSet<>();

        for (int i = 0; i < 20; i++)
        {
            dns.refresh();
            final String answer = dns.answer(null);
            for (final InetAddress address : addresses)
            {
                assertThat(answer).contains("\"" + address.getHostAddress() + "\"");
            }
            orders.add(answer);
        }

        // 20 rounds all in one of 8! orders would happen with probability (1/40320)^19 if shuffled.
        assertThat(orders).hasSizeGreaterThan(1);
    }

    @Test
    void shouldReadTheNameFlags()
    {
        assertThat(BootstrapDns.parseNames("bootstrap-dns-names", "")).isEmpty();
        assertThat(BootstrapDns.parseNames("bootstrap-dns-names",
            " log.example.com,controlplane.example.com, ,log.example.com,"))
            .containsExactly("log.example.com", "controlplane.example.com");
        assertThat(BootstrapDns.parseNames("bootstrap-dns-names", "localhost,_srv.example-1.com"))
            .containsExactly("localhost", "_srv.example-1.com");
    }

    @Test
    void shouldReadTheRolloutSuffixAndRefuseABadOne()
    {
        assertThat(BootstrapDns.parseNames("unpublished-bootstrap-dns-names",
            "a.example.com,b.example.com/rollout.example.com"))
            .containsExactly("a.example.com", "b.example.com/rollout.example.com");
        assertThatThrownBy(() -> BootstrapDns.parseNames("unpublished-bootstrap-dns-names",
            "b.example.com/rollout example.com"))
            .isInstanceOf(IllegalArgumentException.class)
            .hasMessageStartingWith("-unpublished-bootstrap-dns-names: \"rollout example.com\" is not a DNS name");
        assertThatThrownBy(() -> BootstrapDns.parseNames("unpublished-bootstrap-dns-names", "a/b/c"))
            .isInstanceOf(IllegalArgumentException.class)
            .hasMessage("-unpublished-bootstrap-dns-names: \"a/b/c\": want name or name/txtname");
        assertThatThrownBy(() -> new BootstrapDns(List.of(), List.of("a.example.com", "a.example.com/r.example.com"),
            resolver, TIMEOUT))
            .isInstanceOf(IllegalArgumentException.class)
            .hasMessage("\"a.example.com\" is given twice as an unpublished name");
    }

    @Test
    void shouldGiveARolledOutNameToTheShareOfClientsItsTxtRecordSays()
    {
        zone.put("public.example.com", List.of(ip("192.0.2.1")));
        zone.put("half.example.com", List.of(ip("192.0.2.2")));
        zone.put("none.example.com", List.of(ip("192.0.2.3")));
        zone.put("all.example.com", List.of(ip("192.0.2.4")));
        zone.put("broken.example.com", List.of(ip("192.0.2.5")));
        txtZone.put("half.rollout.example.com", List.of("v=spf1 -all", "\"50\""));
        txtZone.put("none.rollout.example.com", List.of("0"));
        txtZone.put("all.rollout.example.com", List.of("100"));
        final BootstrapDns dns = new BootstrapDns(List.of("public.example.com/ignored.example.com"), List.of(
            "half.example.com/half.rollout.example.com", "none.example.com/none.rollout.example.com",
            "all.example.com/all.rollout.example.com", "broken.example.com/missing.rollout.example.com"),
            resolver, TIMEOUT);
        dns.refresh();
        final BootstrapDnsCounters counters = new BootstrapDnsCounters();
        final String published = dns.answer(null);
        assertThat(published).contains("public.example.com").doesNotContain("ignored");

        int answered = 0;
        final int clients = 2_000;
        for (int i = 0; i < clients; i++)
        {
            final InetAddress client = InetAddress.ofLiteral("10." + (i >> 8) + "." + (i & 0xFF) + ".1");
            final String answer = dns.answer("half.example.com", counters, client);
            assertThat(dns.answer("half.example.com", counters, client)).as("the same client, the same answer")
                .isEqualTo(answer);
            if (answer.contains("192.0.2.2"))
            {
                answered++;
            }
            else
            {
                assertThat(answer).isEqualTo(published);
            }
            assertThat(dns.answer("all.example.com", counters, client)).contains("192.0.2.4");
            assertThat(dns.answer("none.example.com", counters, client)).isEqualTo(published);
            assertThat(dns.answer("broken.example.com", counters, client)).as("a TXT lookup that failed: 0%")
                .isEqualTo(published);
        }
        // Binomial(2000, 0.5): 1000 give or take 22 (one standard deviation); 880-1120 is over five of them.
        assertThat(answered).as("clients given the half-rolled-out name").isBetween(880, 1_120);
        // Per client: the half-rolled-out name asked twice, the others once each; only "all" never withheld.
        final int withheld = 2 * (clients - answered) + clients + clients;
        assertThat(counters.unpublishedHits.sum()).isEqualTo(5L * clients);
        assertThat(counters.unpublishedPercentMisses.sum()).isEqualTo(withheld);
        assertThat(counters.unpublishedMisses.sum()).as("a withheld name counts as a miss too, as in derper")
            .isEqualTo(withheld);
        assertThat(BootstrapDns.inRollout(InetAddress.ofLiteral("2001:db8::1"), 0.5))
            .isEqualTo(BootstrapDns.inRollout(InetAddress.ofLiteral("2001:db8::1"), 0.5));
        assertThat(BootstrapDns.inRollout(null, 0.99)).as("no address: outside a partial rollout").isFalse();
        assertThat(BootstrapDns.inRollout(null, 1)).isTrue();

        txtZone.put("none.rollout.example.com", List.of("100"));
        dns.refresh();
        assertThat(dns.answer("none.example.com", counters, CLIENT)).as("the next round reads the new percentage")
            .contains("192.0.2.3");
    }

    @Test
    void shouldReadTheRolloutPercentageAsDerperDoes()
    {
        assertThat(BootstrapDns.rolloutShare(List.of("25"))).isEqualTo(0.25);
        assertThat(BootstrapDns.rolloutShare(List.of(" \"7\" "))).isEqualTo(0.07);
        assertThat(BootstrapDns.rolloutShare(List.of("30", "junk", "60"))).as("the last valid one").isEqualTo(0.6);
        assertThat(BootstrapDns.rolloutShare(List.of())).isZero();
        assertThat(BootstrapDns.rolloutShare(List.of("101"))).isZero();
        assertThat(BootstrapDns.rolloutShare(List.of("-5"))).isZero();
        assertThat(BootstrapDns.rolloutShare(List.of("50%"))).isZero();
        assertThat(BootstrapDns.rolloutShare(List.of("0100"))).isZero();
    }

    @ParameterizedTest
    @ValueSource(strings = {"exa mple.com", "example..com", ".example.com", "example.com.", "-example.com",
        "ex\"ample.com", "exämple.com"})
    void shouldRefuseWhatIsNotADnsName(final String name)
    {
        assertThatThrownBy(() -> BootstrapDns.parseNames("bootstrap-dns-names", name))
            .isInstanceOf(IllegalArgumentException.class)
            .hasMessageStartingWith("-bootstrap-dns-names: \"" + name + "\" is not a DNS name");
    }

    @Test
    void shouldRefuseOverlongNames()
    {
        final String label64 = "a".repeat(64);
        final String name254 = ("a".repeat(62) + ".").repeat(4) + "ab";

        assertThat(name254).hasSize(254);
        assertThatThrownBy(() -> BootstrapDns.parseNames("bootstrap-dns-names", label64 + ".com"))
            .hasMessageContaining("is not a DNS name");
        assertThatThrownBy(() -> BootstrapDns.parseNames("bootstrap-dns-names", name254))
            .hasMessageContaining("is not a DNS name");
        assertThat(BootstrapDns.parseNames("bootstrap-dns-names", name254.substring(1))).hasSize(1);
    }
}
