package io.jderper.core.admission;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.function.Supplier;

/**
 * The relay's admission policy built from its flags (spec §4.9 and jderper's own): the allow/deny list, the shared
 * bearer token, then every configured check in order (a local tailscaled, an admission URL), each of which must
 * admit, as derper requires both of its checks to pass. Order of precedence:
 * <ol>
 *     <li>a key the list denies is refused;</li>
 *     <li>a request carrying the relay's bearer token is admitted (one carrying another token is refused);</li>
 *     <li>a list with allowed keys refuses every other key;</li>
 *     <li>every check must admit; the first refusal is the answer.</li>
 * </ol>
 */
public final class AdmissionChain implements AdmissionPolicy
{
    private static final AdmissionDecision TOKEN_ADMITTED = new AdmissionDecision(true, null, "bearer token", true);

    private final Supplier<NodeKeyList> keyList;
    private final byte[] bearerToken;
    private final List<AdmissionCheck> checks;

    /**
     * @param keyList     the current allow/deny list (reloads swap it), returning null for none.
     * @param bearerToken the shared token, or null for none.
     * @param checks      the checks, in the order they are asked.
     */
    public AdmissionChain(final Supplier<NodeKeyList> keyList, final String bearerToken,
        final List<AdmissionCheck> checks)
    {
        this.keyList = keyList;
        this.bearerToken = null == bearerToken ? null : bearerToken.getBytes(StandardCharsets.UTF_8);
        this.checks = List.copyOf(checks);
    }

    @Override
    public CompletionStage<AdmissionDecision> admit(final AdmissionRequest request)
    {
        final NodeKeyList list = keyList.get();
        final AdmissionDecision listed = null == list ? AdmissionDecision.ADMITTED : list.decide(request.key());
        if (DenialReason.DENYLISTED == listed.reason())
        {
            return CompletableFuture.completedFuture(listed);
        }
        if (null != bearerToken && null != request.bearerToken())
        {
            // Constant time: the token is a shared secret.
            return CompletableFuture.completedFuture(MessageDigest.isEqual(bearerToken,
                request.bearerToken().getBytes(StandardCharsets.UTF_8)) ? TOKEN_ADMITTED :
                AdmissionDecision.denied(DenialReason.BAD_TOKEN, "the upgrade request's bearer token is wrong"));
        }
        if (!listed.admitted())
        {
            return CompletableFuture.completedFuture(listed);
        }
        CompletionStage<AdmissionDecision> decision = CompletableFuture.completedFuture(AdmissionDecision.ADMITTED);
        for (final AdmissionCheck check : checks)
        {
            decision = decision.thenCompose(previous -> previous.admitted() ? check.check(request) :
                CompletableFuture.completedFuture(previous));
        }
        return decision;
    }
}
