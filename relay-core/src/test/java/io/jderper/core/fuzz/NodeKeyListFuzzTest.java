package io.jderper.core.fuzz;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.charset.StandardCharsets;
import java.util.List;

import com.code_intelligence.jazzer.junit.FuzzTest;
import io.jderper.core.admission.AdmissionDecision;
import io.jderper.core.admission.NodeKeyList;
import io.jderper.core.key.NodePublicKey;

/**
 * The allowlist file parser: any text either parses into a list that decides every key, or is refused with an
 * {@link IllegalArgumentException} naming a line.
 */
class NodeKeyListFuzzTest
{
    private static final NodePublicKey SOME_KEY = NodePublicKey.fromBytes(new byte[32]);

    @FuzzTest(maxDuration = "30s")
    void parsesOrNamesTheBadLine(final byte[] file)
    {
        final String text = new String(file, StandardCharsets.UTF_8);
        final NodeKeyList list;
        try
        {
            list = NodeKeyList.parse(List.of(text.split("\n", -1)));
        }
        catch (final IllegalArgumentException refused)
        {
            assertThat(refused.getMessage()).startsWith("line ");
            return;
        }
        final AdmissionDecision decision = list.decide(SOME_KEY);
        assertThat(decision.admitted() || null != decision.reason()).isTrue();
    }
}
