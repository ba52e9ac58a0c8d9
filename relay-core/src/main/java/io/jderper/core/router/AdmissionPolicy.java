package io.jderper.core.router;

import io.jderper.core.key.NodePublicKey;

import java.net.InetAddress;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;

/**
 * Decides whether an authenticated, non-mesh client may use the relay (spec §4.9). Implementations that call
 * out (tailscaled, an admission URL) must not block the caller: they complete the stage on another thread.
 */
@FunctionalInterface
public interface AdmissionPolicy
{
    /** Admits everyone, as derper does without {@code -verify-clients} or {@code -verify-client-url}. */
    AdmissionPolicy ADMIT_ALL = (key, address) -> CompletableFuture.completedFuture(Boolean.TRUE);

    /**
     * @param key     the client's node key.
     * @param address the client's IP, or null if unknown.
     * @return true to admit.
     */
    CompletionStage<Boolean> admit(NodePublicKey key, InetAddress address);
}
