package io.jderper.transport.http;

/**
 * What the main listener's pages show, beside {@code /derp}: derper's {@code -home}, the names of
 * {@code /bootstrap-dns} and who may open {@code /debug/}.
 *
 * @param home         what {@code /} answers (spec §4.12).
 * @param bootstrapDns the answers of {@code /bootstrap-dns} (spec §4.15).
 * @param debugAccess  who may open {@code /debug/} (spec §4.11).
 */
public record HttpPages(HomePage home, BootstrapDns bootstrapDns, DebugAccess debugAccess)
{
    /** derper's defaults: the default home page, no bootstrap DNS names, debug pages from loopback only. */
    public static final HttpPages DEFAULTS = new HttpPages(HomePage.DEFAULT, BootstrapDns.NONE,
        DebugAccess.LOOPBACK_ONLY);
}
