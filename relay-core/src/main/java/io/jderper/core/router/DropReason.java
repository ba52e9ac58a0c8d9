package io.jderper.core.router;

/**
 * Why a packet was not delivered (spec §4.3, §4.4). Labels match derper's {@code derp_packets_dropped{reason}}.
 */
public enum DropReason
{
    /** No connection for the destination key. */
    UNKNOWN_DEST("unknown_dest"),
    /** A mesh peer forwarded a packet for a key we do not have. */
    UNKNOWN_DEST_ON_FWD("unknown_dest_on_fwd"),
    /** The destination connection closed before the packet was written. */
    GONE_DISCONNECTED("gone_disconnected"),
    /** Dropped from the head of a full queue to make room for a fresher packet. */
    QUEUE_HEAD("queue_head"),
    /** The packet itself could not be queued. */
    QUEUE_TAIL("queue_tail"),
    /** Writing to the destination failed. */
    WRITE_ERROR("write_error"),
    /** The destination key has duplicate connections and none is active. */
    DUP_CLIENT("dup_client"),
    /** Over the destination's queued-bytes bound (jderper's own): oldest first, or the packet if it alone is over. */
    QUEUE_BYTES("queue_bytes"),
    /** The relay as a whole holds its queued-bytes bound (jderper's own): the new packet is not queued. */
    TOTAL_QUEUE_BYTES("total_queue_bytes");

    private final String label;

    DropReason(final String label)
    {
        this.label = label;
    }

    /**
     * @return the metric label value.
     */
    public String label()
    {
        return label;
    }
}
