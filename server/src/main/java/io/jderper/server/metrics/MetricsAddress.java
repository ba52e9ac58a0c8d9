package io.jderper.server.metrics;

import io.jderper.server.ListenAddress;

import java.net.InetSocketAddress;
import java.util.Locale;
import java.util.Optional;

/**
 * Where the metrics listener binds ({@code -metrics-addr}, jderper's own).
 *
 * @param address  the socket address; port 0 picks a free port.
 * @param explicit whether the operator gave it: a default that cannot be bound is only warned about, an explicit
 *                 address that cannot be bound stops the start.
 */
public record MetricsAddress(InetSocketAddress address, boolean explicit)
{
    /**
     * Loopback only, so that counters are not published to the Internet unless asked for; 9340 sits beside derper's
     * development port 3340 and clear of node_exporter's 9100 and Prometheus's 9090.
     */
    public static final String DEFAULT = "127.0.0.1:9340";

    /** The value that turns the listener off (an empty value does too). */
    public static final String OFF = "off";

    /**
     * @param text     the flag's value: {@code host:port}, {@code :port} (every address), {@code [ipv6]:port},
     *                 {@code off} or empty.
     * @param explicit whether the operator gave the flag.
     * @return the address, or empty if the listener is off.
     * @throws IllegalArgumentException with the reason if the text is none of those.
     */
    public static Optional<MetricsAddress> parse(final String text, final boolean explicit)
    {
        final String trimmed = text.strip();
        if (trimmed.isEmpty() || OFF.equals(trimmed.toLowerCase(Locale.ROOT)))
        {
            return Optional.empty();
        }
        return Optional.of(new MetricsAddress(ListenAddress.parse(trimmed), explicit));
    }
}
