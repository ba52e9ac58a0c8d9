package io.jderper.core.router;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

class BootstrapDnsCountersTest
{
    @Test
    void shouldCountDistinctNamesAsked()
    {
        final BootstrapDnsCounters counters = new BootstrapDnsCounters();
        counters.queried("a.example.com");
        counters.queried("b.example.com");
        counters.queried("a.example.com");

        assertThat(counters.queriedDomains()).isEqualTo(2);
    }

    @Test
    void shouldForgetEveryNameOncePastDerpersCap()
    {
        final BootstrapDnsCounters counters = new BootstrapDnsCounters();
        for (int i = 0; i < BootstrapDnsCounters.MAX_QUERIED_DOMAINS; i++)
        {
            counters.queried("n" + i + ".example.com");
        }
        assertThat(counters.queriedDomains()).isEqualTo(BootstrapDnsCounters.MAX_QUERIED_DOMAINS);
        counters.queried("n0.example.com");
        assertThat(counters.queriedDomains()).as("a name already remembered").isEqualTo(500);

        counters.queried("one-too-many.example.com");

        assertThat(counters.queriedDomains()).as("cleared, as derper clears its map past 500").isZero();
        counters.queried("n0.example.com");
        assertThat(counters.queriedDomains()).isEqualTo(1);
    }
}
