package io.jderper.transport.http;

import io.jderper.core.router.DropReason;
import io.jderper.core.router.RelayMetrics;

import java.util.List;
import java.util.Locale;
import java.util.function.Supplier;

/**
 * The operator's part of the home page: uptime, connections, totals and throughput, drops by reason, mesh peers and
 * the DERP map entry to paste. Shown under the default page only to requesters allowed on the debug pages (loopback,
 * {@code -debug-allow-from}); public visitors see derper's plain page. Each figure also carries its raw value in a
 * {@code data-value} attribute, for scripts and the browser test.
 *
 * <p>Throughput is over the last minute, from samples {@link #sample(long)} takes every few seconds; rendering only
 * reads them, so a page view costs nothing on the relaying threads beyond its own response.
 */
public final class StatusPage
{
    /** No operator section: the default page as derper serves it. */
    public static final StatusPage NONE = new StatusPage(null, 0, List::of, () -> "");

    /** Samples kept: a minute at the sampling period {@link #SAMPLE_PERIOD_MS}. */
    static final int SAMPLES = 13;
    /** How often {@link #sample(long)} is meant to run. */
    public static final long SAMPLE_PERIOD_MS = 5_000;

    private final RelayMetrics metrics;
    private final long startedNs;
    private final Supplier<List<MeshPeerStatus>> meshPeers;
    private final Supplier<String> derpMapEntry;
    /** Ring of (time, packets sent, bytes sent); guarded by this. */
    private final long[] sampleNs = new long[SAMPLES];
    private final long[] samplePackets = new long[SAMPLES];
    private final long[] sampleBytes = new long[SAMPLES];
    private int sampleCount;
    private int sampleNext;

    /**
     * One mesh peer as the status shows it.
     *
     * @param name      the peer's label (public name, and dial host when it differs).
     * @param connected whether the link is up.
     */
    public record MeshPeerStatus(String name, boolean connected)
    {
    }

    /**
     * @param metrics      the relay's counters.
     * @param startedNs    {@link System#nanoTime()} at start, for the uptime.
     * @param meshPeers    the mesh peers now; empty without a mesh.
     * @param derpMapEntry this server's DERP map node entry, as the start-up log prints it; empty until known.
     */
    public StatusPage(final RelayMetrics metrics, final long startedNs, final Supplier<List<MeshPeerStatus>> meshPeers,
        final Supplier<String> derpMapEntry)
    {
        this.metrics = metrics;
        this.startedNs = startedNs;
        this.meshPeers = meshPeers;
        this.derpMapEntry = derpMapEntry;
    }

    /**
     * Records the counters for the throughput figure.
     *
     * @param nowNs {@link System#nanoTime()}.
     */
    public synchronized void sample(final long nowNs)
    {
        if (null == metrics)
        {
            return;
        }
        sampleNs[sampleNext] = nowNs;
        samplePackets[sampleNext] = metrics.packetsSent.sum();
        sampleBytes[sampleNext] = metrics.bytesSent.sum();
        sampleNext = (sampleNext + 1) % SAMPLES;
        sampleCount = Math.min(SAMPLES, sampleCount + 1);
    }

    /**
     * @param nowNs {@link System#nanoTime()}.
     * @return the section's HTML, empty for {@link #NONE}.
     */
    String section(final long nowNs)
    {
        if (null == metrics)
        {
            return "";
        }
        final StringBuilder html = new StringBuilder(2048);
        html.append("<h2>Operator status</h2>\n<p>Shown to requesters allowed on <a href=\"/debug/\">/debug/</a> " +
            "only; other visitors see the page above.</p>\n<table id=\"status\">\n");
        final long uptimeS = Math.max(0, (nowNs - startedNs) / 1_000_000_000L);
        row(html, "uptime", "uptime", uptimeS, duration(uptimeS));
        final long connections = metrics.currentConnections.get();
        row(html, "connections", "clients connected", connections, Long.toString(connections));
        final long home = metrics.currentHomeConnections.get();
        row(html, "home-connections", "clients with this as their home relay", home, Long.toString(home));
        final long packetsReceived = metrics.packetsReceived.sum();
        row(html, "packets-received", "packets received", packetsReceived, Long.toString(packetsReceived));
        final long packetsSent = metrics.packetsSent.sum();
        row(html, "packets-sent", "packets sent", packetsSent, Long.toString(packetsSent));
        final long bytesReceived = metrics.bytesReceived.sum();
        row(html, "bytes-received", "bytes received", bytesReceived, bytes(bytesReceived));
        final long bytesSent = metrics.bytesSent.sum();
        row(html, "bytes-sent", "bytes sent", bytesSent, bytes(bytesSent));
        throughput(html);
        drops(html);
        html.append("</table>\n");
        meshSection(html);
        html.append("<h3>DERP map entry</h3>\n<p>This server's node, to paste into a DERP map:</p>\n" +
            "<pre id=\"derp-map-entry\">").append(escape(derpMapEntry.get())).append("</pre>\n");
        return html.toString();
    }

    private synchronized void throughput(final StringBuilder html)
    {
        if (sampleCount < 2)
        {
            html.append("<tr><th>sent in the last minute</th><td id=\"throughput\">measuring</td></tr>\n");
            return;
        }
        final int newest = (sampleNext - 1 + SAMPLES) % SAMPLES;
        final int oldest = sampleCount < SAMPLES ? 0 : sampleNext;
        final double seconds = (sampleNs[newest] - sampleNs[oldest]) / 1e9;
        final double packetsPerSecond = (samplePackets[newest] - samplePackets[oldest]) / seconds;
        final double bitsPerSecond = 8 * (sampleBytes[newest] - sampleBytes[oldest]) / seconds;
        html.append("<tr><th>sent in the last minute</th><td id=\"throughput\" data-packets-per-second=\"")
            .append(String.format(Locale.ROOT, "%.1f", packetsPerSecond)).append("\">")
            .append(String.format(Locale.ROOT, "%,.1f packets/s, %s over %.0f s", packetsPerSecond,
                bits(bitsPerSecond), seconds))
            .append("</td></tr>\n");
    }

    private void drops(final StringBuilder html)
    {
        long total = 0;
        final StringBuilder reasons = new StringBuilder();
        for (final DropReason reason : DropReason.values())
        {
            final long dropped = metrics.packetsDropped(reason, RelayMetrics.KIND_DISCO) +
                metrics.packetsDropped(reason, RelayMetrics.KIND_OTHER);
            if (dropped > 0)
            {
                total += dropped;
                reasons.append(reasons.isEmpty() ? "" : ", ").append("<span data-reason=\"").append(reason.label())
                    .append("\" data-value=\"").append(dropped).append("\">").append(reason.label()).append(' ')
                    .append(dropped).append("</span>");
            }
        }
        html.append("<tr><th>packets dropped</th><td id=\"drops\" data-value=\"").append(total).append("\">")
            .append(total).append(reasons.isEmpty() ? "" : " (" + reasons + ")").append("</td></tr>\n");
    }

    private void meshSection(final StringBuilder html)
    {
        final List<MeshPeerStatus> peers = meshPeers.get();
        html.append("<h3>Mesh peers</h3>\n");
        if (peers.isEmpty())
        {
            html.append("<p id=\"mesh\" data-value=\"0\">none (-mesh-with is not set)</p>\n");
            return;
        }
        html.append("<ul id=\"mesh\" data-value=\"").append(peers.size()).append("\">\n");
        for (final MeshPeerStatus peer : peers)
        {
            html.append("<li data-connected=\"").append(peer.connected()).append("\">").append(escape(peer.name()))
                .append(": ").append(peer.connected() ? "connected" : "not connected").append("</li>\n");
        }
        html.append("</ul>\n");
    }

    private static void row(final StringBuilder html, final String id, final String label, final long value,
        final String shown)
    {
        html.append("<tr><th>").append(label).append("</th><td id=\"").append(id).append("\" data-value=\"")
            .append(value).append("\">").append(shown).append("</td></tr>\n");
    }

    static String duration(final long seconds)
    {
        final long days = seconds / 86_400;
        final long hours = seconds % 86_400 / 3600;
        final long minutes = seconds % 3600 / 60;
        final long rest = seconds % 60;
        return days > 0 ? String.format(Locale.ROOT, "%dd %dh %dm", days, hours, minutes) :
            hours > 0 ? String.format(Locale.ROOT, "%dh %dm %ds", hours, minutes, rest) :
            String.format(Locale.ROOT, "%dm %ds", minutes, rest);
    }

    static String bytes(final long count)
    {
        if (count < 1024)
        {
            return count + " B";
        }
        final String[] units = {"KiB", "MiB", "GiB", "TiB", "PiB"};
        double value = count;
        int unit = -1;
        while (value >= 1024 && unit < units.length - 1)
        {
            value /= 1024;
            unit++;
        }
        return String.format(Locale.ROOT, "%.1f %s", value, units[unit]);
    }

    private static String bits(final double perSecond)
    {
        return perSecond >= 1e9 ? String.format(Locale.ROOT, "%.2f Gbit/s", perSecond / 1e9) :
            perSecond >= 1e6 ? String.format(Locale.ROOT, "%.2f Mbit/s", perSecond / 1e6) :
            String.format(Locale.ROOT, "%.1f kbit/s", perSecond / 1e3);
    }

    private static String escape(final String text)
    {
        return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace("\"", "&quot;");
    }
}
