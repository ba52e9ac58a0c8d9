package io.jderper.core.admission;

import java.util.concurrent.CompletionStage;

/**
 * One source of admission decisions (a local tailscaled, an admission URL); {@link AdmissionChain} requires every
 * configured check to admit. Checks that call out complete on their own threads and bound their own waits.
 */
@FunctionalInterface
public interface AdmissionCheck
{
    /**
     * @param request who is asking.
     * @return the decision.
     */
    CompletionStage<AdmissionDecision> check(AdmissionRequest request);
}
