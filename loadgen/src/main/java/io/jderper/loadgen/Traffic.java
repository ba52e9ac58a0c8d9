package io.jderper.loadgen;

/**
 * What every flow of one traffic run shares: the packet shape, the window and rate, and whether to keep sending.
 * Built after the connect phase; immutable but for {@link #running()}.
 */
final class Traffic
{
    final int packetSize;
    final int window;
    /** A blocked sender is woken when at most this many of its packets are in flight: half the window. */
    final int wakeThreshold;
    final boolean rateLimited;
    /** Whether a stalled window is presumed lost (outside the lossless profile) or waited for. */
    final boolean presumeLossOnStall;
    /** Packets each sender may have sent by {@code startNs + t}: {@code t * ratePerNs + 1}. */
    private final double ratePerNs;
    /** A disco packet is sent when a flow's 63-bit random draw is below this; 0 means never. */
    final long discoThreshold;
    /** Flows by sender peer index; null where the peer sends nothing. */
    private final Flow[] bySender;
    private volatile long startNs;
    private volatile boolean running;

    Traffic(final LoadSettings settings, final int peers)
    {
        this.packetSize = settings.packetSize();
        this.window = settings.window();
        this.wakeThreshold = settings.window() / 2;
        this.rateLimited = settings.ratePerSender() > 0;
        this.presumeLossOnStall = !settings.lossless();
        this.ratePerNs = settings.ratePerSender() / 1e9;
        this.discoThreshold = settings.discoFraction() >= 1 ? Long.MAX_VALUE :
            (long)(settings.discoFraction() * Long.MAX_VALUE);
        this.bySender = new Flow[peers];
    }

    void add(final Flow flow)
    {
        bySender[flow.sender.index] = flow;
    }

    /**
     * @param senderIndex a peer index read from a packet (unchecked).
     * @return its flow, or null if the index is out of range or the peer sends nothing.
     */
    Flow flowOf(final int senderIndex)
    {
        return senderIndex >= 0 && senderIndex < bySender.length ? bySender[senderIndex] : null;
    }

    void start(final long nowNs)
    {
        startNs = nowNs;
        running = true;
    }

    void stop()
    {
        running = false;
    }

    boolean running()
    {
        return running;
    }

    /**
     * @param nowNs the current time.
     * @return how many packets a rate-limited sender may have sent by now.
     */
    long allowedBy(final long nowNs)
    {
        return (long)((nowNs - startNs) * ratePerNs) + 1;
    }
}
