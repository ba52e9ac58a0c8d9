package io.jderper.server;

import io.jderper.server.cli.DerperOptions;
import io.jderper.server.cli.GoFlags;
import io.jderper.tls.ManualCertificates;
import io.jderper.tls.ServerCertificate;

import java.io.IOException;
import java.io.PrintStream;
import java.net.InetSocketAddress;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * {@code jderper derpmap [-format all|node|json|yaml] <the server's flags>}: prints the DERP map that points at a server
 * started with the same flags, environment and {@code -config-file}, in the forms people paste (spec §7). In IP-only
 * mode it creates the self-signed certificate the server would create, so the pin it prints is the one the server
 * will serve.
 */
final class DerpMapCommand
{
    /** Output forms {@code -format} takes. */
    static final List<String> FORMATS = List.of("all", "node", "json", "yaml");

    private DerpMapCommand()
    {
    }

    /**
     * @param args        the arguments after {@code derpmap}.
     * @param environment the environment the server would see ({@code DERP_*} variables set flags too).
     * @param out         where the map goes.
     * @param err         where errors go.
     * @return the exit status: 0, 1 when no map can be made, 2 for bad flags.
     */
    static int run(final String[] args, final Map<String, String> environment, final PrintStream out,
        final PrintStream err)
    {
        String format = "all";
        final List<String> serverArgs = new ArrayList<>();
        for (int i = 0; i < args.length; i++)
        {
            final String arg = args[i];
            final String bare = arg.startsWith("--") ? arg.substring(1) : arg;
            if (bare.equals("-format") && i + 1 < args.length)
            {
                format = args[++i];
            }
            else if (bare.startsWith("-format="))
            {
                format = bare.substring("-format=".length());
            }
            else
            {
                serverArgs.add(arg);
            }
        }
        if (!FORMATS.contains(format))
        {
            err.println("jderper derpmap: -format must be one of " + FORMATS + ", got \"" + format + "\"");
            return 2;
        }
        final DerperOptions options;
        try
        {
            options = DerperOptions.resolve(serverArgs.toArray(String[]::new), environment).options();
        }
        catch (final GoFlags.HelpRequested ex)
        {
            out.println("Usage: jderper derpmap [-format all|node|json|yaml] <the flags the server runs with>");
            out.print(DerperOptions.usage());
            return 0;
        }
        catch (final GoFlags.FlagException ex)
        {
            err.println("jderper derpmap: " + ex.getMessage());
            return 2;
        }
        try
        {
            print(entry(options), format, out);
            return 0;
        }
        catch (final IllegalArgumentException | IOException ex)
        {
            err.println("jderper derpmap: " + ex.getMessage());
            return 1;
        }
    }

    private static DerpMapEntry entry(final DerperOptions options) throws IOException
    {
        final InetSocketAddress listen = ListenAddress.parse(options.listen());
        if (0 == listen.getPort())
        {
            throw new IllegalArgumentException("-a " + options.listen() + " picks a port at start; give the port " +
                "clients will use");
        }
        if (!options.servesTls(listen.getPort()))
        {
            throw new IllegalArgumentException("with -a " + options.listen() + " and -certmode " + options.certMode() +
                " the server speaks plain HTTP, and Tailscale clients reach DERP servers over TLS only: use port " +
                "443 or -certmode manual");
        }
        final Optional<String> refusal = options.certProviderRefusal();
        if (refusal.isPresent())
        {
            throw new IllegalArgumentException(refusal.get());
        }
        Optional<String> pin = Optional.empty();
        if ("manual".equals(options.certMode()))
        {
            final ServerCertificate certificate = ManualCertificates.load(options.certDir(), options.hostname());
            if (certificate.selfSignedIp())
            {
                pin = Optional.of(certificate.sha256RawPin());
            }
        }
        return DerpMapEntry.forServer(options, listen.getPort(), options.runStun() ? options.stunPort() : -1, pin);
    }

    private static void print(final DerpMapEntry entry, final String format, final PrintStream out)
    {
        switch (format)
        {
            case "node" -> out.println(entry.node().toPrettyString());
            case "json" -> out.println(entry.map().toPrettyString());
            case "yaml" -> out.print(entry.headscaleYaml());
            default ->
            {
                out.println("# DERP map node entry (tailcfg.DERPNode):");
                out.println(entry.node().toPrettyString());
                out.println("# DERP map with this region, JSON: a Tailscale policy file's \"derpMap\", or a file " +
                    "served to Headscale's derp.urls:");
                out.println(entry.map().toPrettyString());
                out.println("# The same region as a Headscale derp.paths file, YAML:");
                out.print(entry.headscaleYaml());
            }
        }
        out.flush();
    }
}
