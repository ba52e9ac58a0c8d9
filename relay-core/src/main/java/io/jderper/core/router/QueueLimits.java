package io.jderper.core.router;

import io.jderper.core.protocol.ProtocolLimits;

/**
 * Byte bounds on what the relay holds for receivers that cannot take packets as fast as they come, beside the
 * per-client depth of {@link RelayConfig#sendQueueDepth()}: a few slow receivers of 64 KiB packets must not be able
 * to pin gigabytes of packet buffers.
 *
 * @param perClientBytes packet bytes queued for one client (data and disco together); the oldest of the queue go
 *                       first, as when the queue is full.
 * @param totalBytes     packet bytes queued for all clients together; past it, new packets for a queue are dropped.
 */
public record QueueLimits(long perClientBytes, long totalBytes)
{
    /** Two full queues of typical (1,280-byte MTU) packets fit many times; one of 64 KiB packets does. */
    public static final long DEFAULT_PER_CLIENT_BYTES = 2L << 20;
    /** No bound on the total, for tests and embedders; the server derives one from the JVM's direct memory. */
    public static final QueueLimits PER_CLIENT_ONLY = new QueueLimits(DEFAULT_PER_CLIENT_BYTES, Long.MAX_VALUE);

    /**
     * @throws IllegalArgumentException if a bound could not hold even one largest packet.
     */
    public QueueLimits
    {
        if (perClientBytes < ProtocolLimits.MAX_PACKET_SIZE || totalBytes < perClientBytes)
        {
            throw new IllegalArgumentException("queue byte bounds must hold at least one " +
                ProtocolLimits.MAX_PACKET_SIZE + "-byte packet, the total at least the per-client bound, got " +
                perClientBytes + " per client and " + totalBytes + " in total");
        }
    }
}
