package io.jderper.server;

import io.jderper.server.cli.DerperOptions;
import io.jderper.transport.http.HomePage;
import io.jderper.server.cli.EffectiveSetting;
import io.jderper.transport.mesh.MeshPeerAddress;

import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;

/**
 * The effective configuration on one screen: each setting with where it came from (flag, environment variable,
 * config file or default), secrets masked, and every endpoint the server opens or dials. Printed at start and by
 * {@code jderper config}.
 */
final class ConfigSummary
{
    /** Shown at start even at their defaults: what decides where and how the server listens. */
    private static final Set<String> ALWAYS_SHOWN = Set.of("a", "hostname", "certmode", "certdir", "c", "http-port",
        "stun", "stun-port", "derp");
    private static final int MAX_VALUE_COLUMN = 32;

    private ConfigSummary()
    {
    }

    /**
     * @param resolved     the options and their sources.
     * @param listen       the parsed {@code -a} address.
     * @param everySetting whether to list the settings at their defaults too; else only those that decide where
     *                     the server listens, and the others that a source set.
     * @return the summary's lines.
     */
    static List<String> lines(final DerperOptions.Resolved resolved, final InetSocketAddress listen,
        final boolean everySetting)
    {
        final List<EffectiveSetting> shown = resolved.settings().stream()
            .filter(setting -> everySetting || !setting.isDefault() || ALWAYS_SHOWN.contains(setting.name()))
            .toList();
        final int nameWidth = shown.stream().mapToInt(setting -> setting.name().length()).max().orElse(0);
        // Long values (paths) overflow their column rather than push every origin off the screen.
        final int valueWidth = Math.min(MAX_VALUE_COLUMN,
            shown.stream().mapToInt(setting -> setting.shown().length()).max().orElse(0));
        final String row = "  -%-" + nameWidth + "s  %-" + valueWidth + "s  %s";
        final List<String> lines = new ArrayList<>();
        lines.add("configuration: each setting from its flag, else its DERP_* environment variable, else " +
            "-config-file, else the default");
        for (final EffectiveSetting setting : shown)
        {
            lines.add(String.format(row, setting.name(), setting.shown(), setting.origin()).stripTrailing());
        }
        final int hidden = resolved.settings().size() - shown.size();
        if (hidden > 0)
        {
            lines.add("  ... and " + hidden + " more at their defaults (jderper config lists every setting)");
        }
        lines.add("endpoints:");
        endpoints(resolved, listen).forEach(endpoint -> lines.add("  " + endpoint));
        return lines;
    }

    /**
     * @param options the options.
     * @param address the main listener's address: as configured, or as bound.
     * @return the URL clients reach DERP at: the hostname for TLS, else the listener's own address.
     */
    static String derpUrl(final DerperOptions options, final InetSocketAddress address)
    {
        return baseUrl(options, address) + "/derp";
    }

    private static String baseUrl(final DerperOptions options, final InetSocketAddress address)
    {
        final boolean tls = options.servesTls(address.getPort());
        final InetAddress ip = address.getAddress();
        final String host = tls ? options.hostname() : ip.isAnyLocalAddress() ? "localhost" : ip.getHostAddress();
        return (tls ? "https://" : "http://") + hostPort(host, address.getPort());
    }

    private static List<String> endpoints(final DerperOptions.Resolved resolved, final InetSocketAddress listen)
    {
        final DerperOptions options = resolved.options();
        final boolean tls = options.servesTls(listen.getPort());
        final String bind = listen.getAddress().isAnyLocalAddress() ? "*" : listen.getAddress().getHostAddress();
        final List<String> endpoints = new ArrayList<>();
        final String main = "TCP " + port(bind, listen.getPort()) + (tls ? ", TLS (-certmode " + options.certMode() +
            ")" : ", plain HTTP");
        endpoints.add(options.runDerp() ? "DERP        " + derpUrl(options, listen) + " on " + main :
            "DERP        off (-derp=false: /derp answers 404); probes and home page on " + main);
        endpoints.add("probes      " + baseUrl(options, listen) + "/derp/probe, /generate_204, home page /");
        final DerperOptions.Pages pages = options.pages();
        if (pages.home() != HomePage.DEFAULT)
        {
            endpoints.add("home page   " + baseUrl(options, listen) + "/: " + pages.home() + " (-home)");
        }
        if (!pages.bootstrapDnsNames().isEmpty() || !pages.unpublishedBootstrapDnsNames().isEmpty())
        {
            endpoints.add("bootstrap   " + baseUrl(options, listen) + "/bootstrap-dns: " +
                String.join(", ", pages.bootstrapDnsNames()) + (pages.unpublishedBootstrapDnsNames().isEmpty() ? "" :
                " (and " + pages.unpublishedBootstrapDnsNames().size() + " unpublished)"));
        }
        endpoints.add("debug       " + baseUrl(options, listen) + "/debug/ from " + pages.debugAccess());
        if (options.derpMapJson())
        {
            endpoints.add("DERP map    " + baseUrl(options, listen) + "/derp-map.json (-derp-map-json)");
        }
        if (tls && options.httpPort() >= 0)
        {
            endpoints.add("plain HTTP  TCP " + port(bind, options.httpPort()) + ": captive-portal check, ACME " +
                "http-01, redirect to HTTPS");
        }
        if (options.runStun())
        {
            endpoints.add("STUN        UDP " + port(bind, options.stunPort()));
        }
        endpoints.add(options.metricsAddr().map(metrics -> "metrics     TCP " + port(
            metrics.address().getAddress().isAnyLocalAddress() ? "*" : metrics.address().getAddress().getHostAddress(),
            metrics.address().getPort()) + ": /metrics, /debug/varz" + (metrics.explicit() ? "" :
            " (skipped with a warning if taken)")).orElse("metrics     off (-metrics-addr)"));
        for (final MeshPeerAddress peer : options.meshWith())
        {
            endpoints.add("mesh peer   dials " + peer.url() + (null == peer.dialHost() ? "" :
                " at " + peer.dialTarget()));
        }
        if (options.admission().verifyClients())
        {
            endpoints.add("admission   asks tailscaled at " + (options.admission().socket().isEmpty() ?
                "its default LocalAPI socket" : options.admission().socket()));
        }
        resolved.settings().stream().filter(setting -> "verify-client-url".equals(setting.name()))
            .filter(setting -> !setting.value().isEmpty())
            .forEach(setting -> endpoints.add("admission   asks " + setting.shown()));
        return endpoints;
    }

    private static String port(final String bind, final int port)
    {
        return 0 == port ? hostPort(bind, 0) + " (a free port, picked at start)" : hostPort(bind, port);
    }

    static String hostPort(final String host, final int port)
    {
        return (host.contains(":") && !host.startsWith("[") ? "[" + host + "]" : host) + ":" + port;
    }
}
