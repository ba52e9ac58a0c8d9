package io.jderper.core.admission;

import io.jderper.core.key.NodePublicKey;

import java.net.InetAddress;

/**
 * A client asking to be admitted: the key its ClientInfo proved it holds, where it connects from, and the bearer
 * token its upgrade request carried, if any.
 *
 * @param key         the client's node key.
 * @param address     the client's IP, or null if unknown.
 * @param bearerToken the {@code Authorization: Bearer} value of the upgrade request, or null.
 */
public record AdmissionRequest(NodePublicKey key, InetAddress address, String bearerToken)
{
    /**
     * @param key     the client's node key.
     * @param address the client's IP, or null.
     * @return a request without a token, as every Tailscale client makes.
     */
    public static AdmissionRequest of(final NodePublicKey key, final InetAddress address)
    {
        return new AdmissionRequest(key, address, null);
    }

    @Override
    public String toString()
    {
        // Never the token, and only the key's prefix: requests end up in logs.
        return "AdmissionRequest{" + key.toShortString() + " from " +
            (null == address ? "unknown" : address.getHostAddress()) + (null == bearerToken ? "" : ", token") + "}";
    }
}
