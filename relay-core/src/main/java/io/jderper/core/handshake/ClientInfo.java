package io.jderper.core.handshake;

import java.util.Optional;

/**
 * What a client says about itself in its sealed ClientInfo (spec §2.7).
 *
 * @param meshKey     the 32-byte mesh key, if the client sent one.
 * @param version     protocol version the client speaks (not checked, as derper does not).
 * @param canAckPings whether the client answers server Pings.
 * @param isProber    whether the client is a monitoring prober.
 * @param appName     opaque application name for statistics, possibly empty.
 */
public record ClientInfo(Optional<byte[]> meshKey, int version, boolean canAckPings, boolean isProber, String appName)
{
}
