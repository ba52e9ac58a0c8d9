package io.jderper.core.admission;

import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;

/**
 * Decides whether an authenticated, non-mesh client may use the relay (spec §4.9), during the handshake, before
 * ServerInfo. Implementations that call out (tailscaled, an admission URL) must not block the caller: they complete
 * the stage on another thread.
 */
@FunctionalInterface
public interface AdmissionPolicy
{
    /** Admits everyone, as derper does without {@code -verify-clients} or {@code -verify-client-url}. */
    AdmissionPolicy ADMIT_ALL = request -> CompletableFuture.completedFuture(AdmissionDecision.ADMITTED);

    /**
     * @param request who is asking.
     * @return the decision; an exceptional completion counts as a denial.
     */
    CompletionStage<AdmissionDecision> admit(AdmissionRequest request);
}
