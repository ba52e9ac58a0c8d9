package io.jderper.core.admission;

import static org.assertj.core.api.Assertions.assertThat;

import java.net.InetAddress;
import java.security.SecureRandom;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.atomic.AtomicReference;

import io.jderper.core.key.NodePrivateKey;
import io.jderper.core.key.NodePublicKey;
import org.junit.jupiter.api.Test;

class AdmissionChainTest
{
    private final SecureRandom random = new SecureRandom();
    private final NodePublicKey alice = NodePrivateKey.generate(random).publicKey();
    private final NodePublicKey mallory = NodePrivateKey.generate(random).publicKey();
    private final InetAddress from = InetAddress.ofLiteral("192.0.2.1");
    private final List<String> asked = new ArrayList<>();

    private AdmissionCheck check(final String name, final AdmissionDecision answer)
    {
        return request ->
        {
            asked.add(name);
            return CompletableFuture.completedFuture(answer);
        };
    }

    private AdmissionDecision decide(final AdmissionChain chain, final NodePublicKey key, final String token)
    {
        return chain.admit(new AdmissionRequest(key, from, token)).toCompletableFuture().join();
    }

    @Test
    void shouldRequireEveryCheckAndStopAtTheFirstRefusal()
    {
        final AdmissionChain chain = new AdmissionChain(() -> null, null, List.of(
            check("tailscaled", AdmissionDecision.ADMITTED),
            check("url", AdmissionDecision.denied(DenialReason.URL_REFUSED, "no")),
            check("never", AdmissionDecision.ADMITTED)));

        assertThat(decide(chain, alice, null).reason()).isEqualTo(DenialReason.URL_REFUSED);
        assertThat(asked).containsExactly("tailscaled", "url");
    }

    @Test
    void shouldApplyTheListBeforeAskingAnyone()
    {
        final AtomicReference<NodeKeyList> list = new AtomicReference<>(
            NodeKeyList.parse(List.of("deny nodekey:" + mallory.toHex())));
        final AdmissionChain chain = new AdmissionChain(list::get, "t0ken",
            List.of(check("url", AdmissionDecision.ADMITTED)));

        assertThat(decide(chain, mallory, "t0ken").reason()).as("denied even with the token")
            .isEqualTo(DenialReason.DENYLISTED);
        assertThat(decide(chain, alice, null).admitted()).isTrue();
        assertThat(asked).containsExactly("url");

        list.set(NodeKeyList.parse(List.of("nodekey:" + mallory.toHex())));
        assertThat(decide(chain, alice, null).reason()).as("a reloaded list applies at once")
            .isEqualTo(DenialReason.NOT_ALLOWLISTED);
    }

    @Test
    void shouldAdmitTheRightBearerTokenWithoutAskingAndRefuseAWrongOne()
    {
        final AdmissionChain chain = new AdmissionChain(() -> null, "t0ken",
            List.of(check("url", AdmissionDecision.denied(DenialReason.URL_REFUSED, "unknown key"))));

        assertThat(decide(chain, alice, "t0ken").admitted()).isTrue();
        assertThat(decide(chain, alice, "t0ken ").reason()).isEqualTo(DenialReason.BAD_TOKEN);
        assertThat(asked).isEmpty();
        assertThat(decide(chain, alice, null).reason()).as("no token: the checks decide")
            .isEqualTo(DenialReason.URL_REFUSED);
        assertThat(decide(new AdmissionChain(() -> null, null, List.of()), alice, "whatever").admitted())
            .as("a token is ignored by a relay that has none").isTrue();
    }
}
