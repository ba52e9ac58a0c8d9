package io.jderper.stun.server;

import java.util.concurrent.atomic.LongAdder;

/**
 * What the STUN server did with each datagram, named after derper's {@code stun} expvars
 * ({@code counter_requests{disposition}} and {@code counter_addrfamily{family}}). Increments are uncontended
 * {@link LongAdder}s on the one serving thread: no allocation after warm-up, readable from any thread.
 */
public final class StunCounters
{
    /** Datagrams received, answered or not. */
    public final LongAdder datagrams = new LongAdder();
    /** Replies sent: derper's {@code success}. */
    public final LongAdder replies = new LongAdder();
    /** Datagrams that were not a binding request this server answers: derper's {@code not_stun}. */
    public final LongAdder ignored = new LongAdder();
    /** Datagrams cut short by the receive buffer (a real binding request is 40 bytes); counted in ignored too. */
    public final LongAdder truncated = new LongAdder();
    /** Answered requests from IPv4 senders (IPv4-mapped IPv6 included). */
    public final LongAdder ipv4 = new LongAdder();
    /** Answered requests from IPv6 senders. */
    public final LongAdder ipv6 = new LongAdder();
    /** Receive calls that failed: derper's {@code read_error}. */
    public final LongAdder readErrors = new LongAdder();
    /** Replies the kernel refused: derper's {@code write_error}. */
    public final LongAdder writeErrors = new LongAdder();

    @Override
    public String toString()
    {
        return "datagrams=" + datagrams.sum() + " replies=" + replies.sum() + " ignored=" + ignored.sum() +
            " truncated=" + truncated.sum() + " ipv4=" + ipv4.sum() + " ipv6=" + ipv6.sum() +
            " read_errors=" + readErrors.sum() + " write_errors=" + writeErrors.sum();
    }
}
