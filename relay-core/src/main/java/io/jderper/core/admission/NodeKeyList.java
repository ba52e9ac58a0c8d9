package io.jderper.core.admission;

import io.jderper.core.key.NodePublicKey;

import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * jderper's static allow/deny list of node keys ({@code -allowlist}): one entry per line, {@code nodekey:<hex>} to
 * allow a key or {@code deny nodekey:<hex>} to refuse it; blank lines and {@code #} comments (whole-line or after an
 * entry) are ignored. A list with allowed keys admits only those; a list with only denied keys admits everyone
 * else. A denied key is refused whatever else would admit it.
 */
public final class NodeKeyList
{
    private static final String DENY = "deny";
    private static final String ALLOW = "allow";

    private final Set<NodePublicKey> allowed;
    private final Set<NodePublicKey> denied;

    private NodeKeyList(final Set<NodePublicKey> allowed, final Set<NodePublicKey> denied)
    {
        this.allowed = allowed;
        this.denied = denied;
    }

    /**
     * @param lines the file's lines.
     * @return the list.
     * @throws IllegalArgumentException naming the first bad line by number.
     */
    public static NodeKeyList parse(final List<String> lines)
    {
        final Map<NodePublicKey, Integer> allowed = new HashMap<>();
        final Map<NodePublicKey, Integer> denied = new HashMap<>();
        for (int i = 0; i < lines.size(); i++)
        {
            final int lineNumber = i + 1;
            String line = lines.get(i);
            final int comment = line.indexOf('#');
            if (comment >= 0)
            {
                line = line.substring(0, comment);
            }
            line = line.strip();
            if (line.isEmpty())
            {
                continue;
            }
            final String[] words = line.split("\\s+");
            final boolean deny;
            final String keyText;
            if (1 == words.length)
            {
                deny = false;
                keyText = words[0];
            }
            else if (2 == words.length && (DENY.equals(words[0]) || ALLOW.equals(words[0])))
            {
                deny = DENY.equals(words[0]);
                keyText = words[1];
            }
            else
            {
                throw new IllegalArgumentException("line " + lineNumber + ": want \"nodekey:<hex>\" or " +
                    "\"deny nodekey:<hex>\", got \"" + abbreviate(line) + "\"");
            }
            if (!keyText.startsWith("nodekey:"))
            {
                throw new IllegalArgumentException("line " + lineNumber + ": a key must start with \"nodekey:\", " +
                    "got \"" + abbreviate(keyText) + "\"");
            }
            final NodePublicKey key;
            try
            {
                key = NodePublicKey.parse(keyText);
            }
            catch (final IllegalArgumentException ex)
            {
                throw new IllegalArgumentException("line " + lineNumber + ": " + ex.getMessage(), ex);
            }
            final Integer other = (deny ? allowed : denied).get(key);
            if (null != other)
            {
                throw new IllegalArgumentException("line " + lineNumber + ": " + key.toShortString() + " is " +
                    (deny ? "allowed" : "denied") + " on line " + other + " already");
            }
            (deny ? denied : allowed).putIfAbsent(key, lineNumber);
        }
        return new NodeKeyList(Set.copyOf(allowed.keySet()), Set.copyOf(denied.keySet()));
    }

    private static String abbreviate(final String text)
    {
        return text.length() <= 24 ? text : text.substring(0, 24) + "...";
    }

    /**
     * @param key a client's key.
     * @return admitted, or a refusal naming the list.
     */
    public AdmissionDecision decide(final NodePublicKey key)
    {
        if (denied.contains(key))
        {
            return AdmissionDecision.denied(DenialReason.DENYLISTED, "denied by the allowlist file");
        }
        if (!allowed.isEmpty() && !allowed.contains(key))
        {
            return AdmissionDecision.denied(DenialReason.NOT_ALLOWLISTED, "not in the allowlist file");
        }
        return AdmissionDecision.ADMITTED;
    }

    /**
     * @return keys allowed.
     */
    public int allowedCount()
    {
        return allowed.size();
    }

    /**
     * @return keys denied.
     */
    public int deniedCount()
    {
        return denied.size();
    }

    @Override
    public String toString()
    {
        return allowed.size() + " allowed, " + denied.size() + " denied";
    }
}
