package io.jderper.stun.server;

import static org.assertj.core.api.Assertions.assertThat;

import com.code_intelligence.jazzer.junit.FuzzTest;
import org.agrona.concurrent.UnsafeBuffer;

/**
 * Any datagram, from an IPv4 or an IPv6 sender (the first byte chooses): the responder never throws, and by default
 * (Tailscale's requests only, as derper) never answers with more than 4 bytes beyond the request: no amplification
 * for spoofed senders (spec §6). With jderper's opt-in {@code -stun-any-client} a bare 20-byte RFC 5389 request gets
 * the 32- or 44-byte reply, never more.
 */
class StunResponderFuzzTest
{
    @FuzzTest(maxDuration = "30s")
    void neverAmplifies(final byte[] input)
    {
        if (0 == input.length)
        {
            return;
        }
        final boolean ipv6 = 0 != (input[0] & 1);
        final boolean anyClient = 0 != (input[0] & 2);
        final byte[] sender = new byte[ipv6 ? 16 : 4];
        sender[0] = 10;
        final UnsafeBuffer request = new UnsafeBuffer(input, 1, input.length - 1);
        final UnsafeBuffer reply = new UnsafeBuffer(new byte[StunResponder.MAX_REPLY_LENGTH]);

        final int length = new StunResponder(anyClient, new StunCounters()).respond(request, 0, request.capacity(),
            new UnsafeBuffer(sender), 0, sender.length, 41641, reply, 0);

        if (anyClient)
        {
            assertThat(length).isBetween(0, StunResponder.MAX_REPLY_LENGTH);
            assertThat(0 == length || request.capacity() >= 20).isTrue();
        }
        else
        {
            assertThat(length).isBetween(0, request.capacity() + 4);
        }
    }
}
