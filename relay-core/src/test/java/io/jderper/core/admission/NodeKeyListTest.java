package io.jderper.core.admission;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.security.SecureRandom;
import java.util.List;

import io.jderper.core.key.NodePrivateKey;
import io.jderper.core.key.NodePublicKey;
import org.junit.jupiter.api.Test;

class NodeKeyListTest
{
    private final SecureRandom random = new SecureRandom();
    private final NodePublicKey alice = NodePrivateKey.generate(random).publicKey();
    private final NodePublicKey bob = NodePrivateKey.generate(random).publicKey();
    private final NodePublicKey mallory = NodePrivateKey.generate(random).publicKey();

    private static String text(final NodePublicKey key)
    {
        return "nodekey:" + key.toHex();
    }

    @Test
    void shouldAdmitOnlyListedKeysWhenAnyKeyIsAllowed()
    {
        final NodeKeyList list = NodeKeyList.parse(List.of("# the home tailnet", "", text(alice) + "  # laptop",
            "allow " + text(bob), "deny " + text(mallory)));

        assertThat(list.decide(alice).admitted()).isTrue();
        assertThat(list.decide(bob).admitted()).isTrue();
        assertThat(list.decide(mallory).reason()).isEqualTo(DenialReason.DENYLISTED);
        assertThat(list.decide(NodePrivateKey.generate(random).publicKey()).reason())
            .isEqualTo(DenialReason.NOT_ALLOWLISTED);
        assertThat(list.allowedCount()).isEqualTo(2);
        assertThat(list.deniedCount()).isEqualTo(1);
    }

    @Test
    void shouldAdmitEveryoneElseWhenOnlyDeniedKeysAreListed()
    {
        final NodeKeyList list = NodeKeyList.parse(List.of("deny " + text(mallory)));

        assertThat(list.decide(alice).admitted()).isTrue();
        assertThat(list.decide(mallory).admitted()).isFalse();
        assertThat(NodeKeyList.parse(List.of("# nothing yet")).decide(alice).admitted()).isTrue();
    }

    @Test
    void shouldNameTheFirstBadLine()
    {
        assertThatThrownBy(() -> NodeKeyList.parse(List.of(text(alice), "", "nodekey:1234")))
            .hasMessageStartingWith("line 3: ");
        assertThatThrownBy(() -> NodeKeyList.parse(List.of(alice.toHex())))
            .hasMessageStartingWith("line 1: ").hasMessageContaining("must start with \"nodekey:\"");
        assertThatThrownBy(() -> NodeKeyList.parse(List.of("permit " + text(alice))))
            .hasMessageStartingWith("line 1: ").hasMessageContaining("deny nodekey:<hex>");
        assertThatThrownBy(() -> NodeKeyList.parse(List.of(text(alice), "deny " + text(alice))))
            .hasMessageStartingWith("line 2: ").hasMessageContaining("allowed on line 1");
        assertThatThrownBy(() -> NodeKeyList.parse(List.of("nodekey:" + "zz".repeat(32))))
            .hasMessageStartingWith("line 1: ");
    }
}
