package io.jderper.server;

import io.jderper.server.cli.DerperOptions;
import io.jderper.server.cli.GoFlags;

import java.io.PrintStream;
import java.net.InetSocketAddress;
import java.util.Map;

/**
 * {@code jderper config <the server's flags>}: prints the configuration a server started with the same flags,
 * environment and {@code -config-file} would run with, and every endpoint it would open, then exits; a configuration
 * the server would refuse exits non-zero with the reason. Files the settings name are not read.
 */
final class ConfigCommand
{
    private ConfigCommand()
    {
    }

    /**
     * @param args        the arguments after {@code config}.
     * @param environment the environment the server would see.
     * @param out         where the configuration goes.
     * @param err         where errors go.
     * @return the exit status: 0, or 2 for a configuration the server would refuse.
     */
    static int run(final String[] args, final Map<String, String> environment, final PrintStream out,
        final PrintStream err)
    {
        final DerperOptions.Resolved resolved;
        final InetSocketAddress listen;
        try
        {
            resolved = DerperOptions.resolve(args, environment);
            listen = ListenAddress.parse(resolved.options().listen());
        }
        catch (final GoFlags.HelpRequested ex)
        {
            out.println("Usage: jderper config <the flags the server runs with>");
            out.print(DerperOptions.usage());
            return 0;
        }
        catch (final IllegalArgumentException ex)
        {
            // FlagException included: a bad flag, variable or file names itself; a bad address comes from -a.
            err.println("jderper config: " + (ex instanceof GoFlags.FlagException ? "" : "-a: ") + ex.getMessage());
            return 2;
        }
        final DerperOptions options = resolved.options();
        if (options.servesTls(listen.getPort()) && options.certProviderRefusal().isPresent())
        {
            err.println("jderper config: derper: can not start cert provider: " +
                options.certProviderRefusal().get());
            return 2;
        }
        ConfigSummary.lines(resolved, listen, true).forEach(out::println);
        options.warnings().forEach(warning -> out.println("warning: " + warning));
        out.flush();
        return 0;
    }
}
