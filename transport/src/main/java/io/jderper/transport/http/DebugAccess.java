package io.jderper.transport.http;

import io.jderper.tls.Hostnames;
import io.netty.handler.codec.http.HttpHeaders;

import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.SocketAddress;
import java.util.ArrayList;
import java.util.List;

/**
 * Who may open the debug pages on the main listener (spec §4.11): loopback always, and the address ranges of
 * jderper's {@code -debug-allow-from}. A request carrying {@code X-Forwarded-For} is refused whatever its source,
 * as derper does: it came through a proxy, so its source address says nothing about the requester.
 *
 * <p>derper also admits Tailscale's address ranges and a debug key; jderper admits only what the operator lists.
 */
public final class DebugAccess
{
    /** Loopback only, the default. */
    public static final DebugAccess LOOPBACK_ONLY = new DebugAccess(List.of());

    private final List<Range> ranges;

    private DebugAccess(final List<Range> ranges)
    {
        this.ranges = ranges;
    }

    /**
     * Reads {@code -debug-allow-from}.
     *
     * @param flag comma-separated CIDR prefixes ({@code 10.0.0.0/8}, {@code fd00::/8}) or single addresses; empty
     *             for loopback only.
     * @return the access rule.
     * @throws IllegalArgumentException naming the entry that is not a prefix, and why.
     */
    public static DebugAccess parse(final String flag)
    {
        final List<Range> ranges = new ArrayList<>();
        for (final String part : flag.split(",", -1))
        {
            final String entry = part.strip();
            if (entry.isEmpty())
            {
                if (!flag.isBlank())
                {
                    throw new IllegalArgumentException("-debug-allow-from has an empty entry: \"" + flag + "\"");
                }
                continue;
            }
            ranges.add(Range.parse(entry));
        }
        return ranges.isEmpty() ? LOOPBACK_ONLY : new DebugAccess(List.copyOf(ranges));
    }

    /**
     * @param address the requester's address.
     * @return whether that address may open the debug pages.
     */
    public boolean allows(final InetAddress address)
    {
        if (address.isLoopbackAddress())
        {
            return true;
        }
        for (final Range range : ranges)
        {
            if (range.contains(address))
            {
                return true;
            }
        }
        return false;
    }

    /**
     * @param remote  the connection's peer address.
     * @param headers the request's headers.
     * @return whether this request may open the debug pages: no {@code X-Forwarded-For}, from an allowed address.
     */
    public boolean allows(final SocketAddress remote, final HttpHeaders headers)
    {
        return !headers.contains("X-Forwarded-For") && remote instanceof InetSocketAddress inet &&
            null != inet.getAddress() && allows(inet.getAddress());
    }

    /**
     * @return who may open the debug pages, for the start-up log.
     */
    @Override
    public String toString()
    {
        return ranges.isEmpty() ? "loopback" : "loopback, " + String.join(", ", ranges.stream()
            .map(Range::toString).toList());
    }

    /**
     * One prefix: the network's address bytes and how many leading bits must match.
     */
    private record Range(byte[] network, int bits, String text)
    {
        static Range parse(final String entry)
        {
            final int slash = entry.indexOf('/');
            final String host = slash < 0 ? entry : entry.substring(0, slash);
            // Literals only: a name here would mean a DNS lookup at start and a rule that silently goes stale.
            final InetAddress address = Hostnames.parseIp(host);
            if (null == address)
            {
                throw new IllegalArgumentException("-debug-allow-from: \"" + entry + "\" is not an IP address or " +
                    "CIDR prefix (like 10.0.0.0/8 or fd00::/8)");
            }
            final byte[] network = address.getAddress();
            final int maxBits = network.length * 8;
            int bits = maxBits;
            if (slash >= 0)
            {
                final String length = entry.substring(slash + 1);
                bits = length.matches("\\d{1,3}") ? Integer.parseInt(length) : -1;
                if (bits < 0 || bits > maxBits)
                {
                    throw new IllegalArgumentException("-debug-allow-from: \"" + entry + "\" needs a prefix length " +
                        "from 0 to " + maxBits + " after the /");
                }
            }
            return new Range(network, bits, entry);
        }

        boolean contains(final InetAddress address)
        {
            final byte[] candidate = address.getAddress();
            if (candidate.length != network.length)
            {
                return false;
            }
            final int whole = bits / 8;
            for (int i = 0; i < whole; i++)
            {
                if (candidate[i] != network[i])
                {
                    return false;
                }
            }
            final int rest = bits % 8;
            if (0 == rest)
            {
                return true;
            }
            final int mask = (0xFF << (8 - rest)) & 0xFF;
            return (candidate[whole] & mask) == (network[whole] & mask);
        }

        @Override
        public String toString()
        {
            return text;
        }
    }
}
