package io.jderper.stun.server;

import io.jderper.stun.StunMessages;
import org.agrona.DirectBuffer;
import org.agrona.MutableDirectBuffer;

/**
 * Decides, for one datagram, whether to answer and writes the answer: the part of the server that both socket
 * engines share. Only Tailscale's own binding request is answered (spec §6.1) unless any client is allowed; the reply
 * is always the single XOR-MAPPED-ADDRESS response (spec §6.3), 32 bytes for IPv4 and 44 for IPv6, never more.
 */
public final class StunResponder
{
    /** The longest reply: an IPv6 XOR-MAPPED-ADDRESS response. */
    public static final int MAX_REPLY_LENGTH = StunMessages.RESPONSE_LENGTH_IPV6;

    private final boolean anyClient;
    private final StunCounters counters;

    /**
     * @param anyClient also answer well-formed binding requests from clients other than Tailscale's.
     * @param counters  where to count what was done.
     */
    public StunResponder(final boolean anyClient, final StunCounters counters)
    {
        this.anyClient = anyClient;
        this.counters = counters;
    }

    /**
     * @return the counters this responder updates.
     */
    public StunCounters counters()
    {
        return counters;
    }

    /**
     * Answers one datagram.
     *
     * @param request       holds the datagram.
     * @param offset        where it starts.
     * @param length        its length.
     * @param sender        holds the sender's 4 or 16 address bytes; IPv4-mapped IPv6 addresses are answered in
     *                      the IPv4 form, as a Tailscale client on an IPv4 network expects (spec §6.3).
     * @param senderOffset  where they start.
     * @param senderLength  4 or 16.
     * @param senderPort    the sender's UDP port.
     * @param reply         where to write the reply, {@link #MAX_REPLY_LENGTH} bytes of room.
     * @param replyOffset   where it starts.
     * @return the reply's length, or 0 to send nothing.
     */
    public int respond(
        final DirectBuffer request, final int offset, final int length,
        final DirectBuffer sender, final int senderOffset, final int senderLength, final int senderPort,
        final MutableDirectBuffer reply, final int replyOffset)
    {
        counters.datagrams.increment();
        if (!StunMessages.isTailscaleRequest(request, offset, length) &&
            !(anyClient && StunMessages.isBindingRequest(request, offset, length)))
        {
            counters.ignored.increment();
            return 0;
        }
        final boolean ipv4 = 4 == senderLength || isIpv4Mapped(sender, senderOffset, senderLength);
        if (ipv4)
        {
            counters.ipv4.increment();
        }
        else
        {
            counters.ipv6.increment();
        }
        final int addressOffset = ipv4 ? senderOffset + senderLength - 4 : senderOffset;
        return StunMessages.writeSuccessResponse(reply, replyOffset, request,
            offset + StunMessages.TRANSACTION_ID_OFFSET, sender, addressOffset, ipv4 ? 4 : 16, senderPort);
    }

    /**
     * Counts a datagram the socket cut short; never answered, since no binding request this server answers is
     * anywhere near the receive buffer's size.
     */
    public void truncated()
    {
        counters.datagrams.increment();
        counters.truncated.increment();
        counters.ignored.increment();
    }

    private static boolean isIpv4Mapped(final DirectBuffer address, final int offset, final int length)
    {
        if (16 != length || 0 != address.getLong(offset) || 0 != address.getShort(offset + 8))
        {
            return false;
        }
        return (short)0xFFFF == address.getShort(offset + 10);
    }
}
