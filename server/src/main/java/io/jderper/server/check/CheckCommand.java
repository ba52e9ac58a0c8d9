package io.jderper.server.check;

import io.jderper.server.cli.GoFlags;
import io.jderper.transport.LeakDetection;
import io.jderper.transport.client.DerpClients;
import io.jderper.transport.client.DerpTrust;
import io.netty.channel.EventLoopGroup;

import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.TimeUnit;

/**
 * {@code jderper check [flags] <https://host[:port]/derp | derp-map file>}: the self-test a new operator runs from any
 * machine. For a URL it checks that one server; for a DERP map (Tailscale JSON or Headscale YAML) every node in it.
 * Exit status: 0 when every check passed, 1 when one failed, 2 for a bad command line.
 */
public final class CheckCommand
{
    private static final String USAGE = """
        Usage: jderper check [flags] <https://host[:port]/derp | derp-map.json | derp.yaml>
          -cert-name sha256-raw:<hex>  pin the certificate, as a DERP map's CertName does (URL form)
          -ca-file PEM                 trust these CA certificates instead of the system's
          -stun-port N                 STUN port to try (URL form; default 3478, -1 for none)
          -timeout D                   bound on each step (default 10s)
        """;

    private CheckCommand()
    {
    }

    /**
     * @param args the arguments after {@code check}.
     * @param out  where the verdicts go.
     * @param err  where usage errors go.
     * @return the exit status.
     */
    public static int run(final String[] args, final PrintStream out, final PrintStream err)
    {
        final GoFlags flags = new GoFlags()
            .declare("cert-name", GoFlags.Kind.VALUE)
            .declare("ca-file", GoFlags.Kind.VALUE)
            .declare("stun-port", GoFlags.Kind.VALUE)
            .declare("timeout", GoFlags.Kind.VALUE);
        final List<CheckTarget> targets;
        final Duration timeout;
        final Optional<DerpTrust> caTrust;
        try
        {
            flags.parse(args);
            if (flags.positional().size() != 1)
            {
                throw new GoFlags.FlagException("give exactly one URL or DERP map file, got " + flags.positional());
            }
            timeout = flags.duration("timeout", Duration.ofSeconds(10));
            if (timeout.isNegative() || timeout.isZero())
            {
                throw new GoFlags.FlagException("-timeout must be positive, got " + timeout);
            }
            final int stunPort = flags.integer("stun-port", CheckTarget.DEFAULT_STUN_PORT);
            if (stunPort < -1 || stunPort > 65535 || 0 == stunPort)
            {
                throw new GoFlags.FlagException("-stun-port must be a port or -1, got " + stunPort);
            }
            final Optional<String> certName = Optional.of(flags.string("cert-name", "")).filter(s -> !s.isEmpty());
            certName.ifPresent(DerpTrust::sha256Raw);
            caTrust = Optional.of(flags.string("ca-file", "")).filter(s -> !s.isEmpty())
                .map(pem ->
                {
                    if (!Files.isReadable(Path.of(pem)))
                    {
                        throw new GoFlags.FlagException("-ca-file " + pem + ": not a readable file");
                    }
                    return DerpTrust.caFile(Path.of(pem));
                });
            final String where = flags.positional().getFirst();
            final Path file = Path.of(where);
            targets = !where.contains("://") && Files.isRegularFile(file) ? CheckTarget.fromMapFile(file) :
                List.of(CheckTarget.fromUrl(where, certName, stunPort));
        }
        catch (final GoFlags.HelpRequested ex)
        {
            out.print(USAGE);
            return 0;
        }
        catch (final IllegalArgumentException | IOException ex)
        {
            err.println("jderper check: " + ex.getMessage());
            err.print(USAGE);
            return 2;
        }
        LeakDetection.disableUnlessConfigured();
        final EventLoopGroup group = DerpClients.newEventLoopGroup(1);
        try (DerpClients clients = DerpClients.builder(group).build())
        {
            final DeploymentCheck check = new DeploymentCheck(clients, timeout,
                caTrust.orElse(DerpTrust.system()), out);
            targets.forEach(check::check);
            final boolean ok = 0 == check.failed();
            out.println((ok ? "PASS" : "FAIL") + ": " + check.passed() + " checks passed, " + check.failed() +
                " failed");
            return ok ? 0 : 1;
        }
        finally
        {
            group.shutdownGracefully(0, 1, TimeUnit.SECONDS);
        }
    }
}
