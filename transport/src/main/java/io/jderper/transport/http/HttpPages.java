package io.jderper.transport.http;

/**
 * What the main listener's pages show, beside {@code /derp}: derper's {@code -home}, the names of
 * {@code /bootstrap-dns} and who may open {@code /debug/}.
 *
 * @param home         what {@code /} answers (spec §4.12).
 * @param bootstrapDns the answers of {@code /bootstrap-dns} (spec §4.15).
 * @param debugAccess  who may open {@code /debug/} (spec §4.11).
 * @param status       the operator's status under the default home page, for those {@code debugAccess} allows.
 */
public record HttpPages(HomePage home, BootstrapDns bootstrapDns, DebugAccess debugAccess, StatusPage status)
{
    /** derper's defaults: the default home page, no bootstrap DNS names, debug pages from loopback only. */
    public static final HttpPages DEFAULTS = new HttpPages(HomePage.DEFAULT, BootstrapDns.NONE,
        DebugAccess.LOOPBACK_ONLY);

    /**
     * Pages without the operator's status.
     *
     * @param home         what {@code /} answers.
     * @param bootstrapDns the answers of {@code /bootstrap-dns}.
     * @param debugAccess  who may open {@code /debug/}.
     */
    public HttpPages(final HomePage home, final BootstrapDns bootstrapDns, final DebugAccess debugAccess)
    {
        this(home, bootstrapDns, debugAccess, StatusPage.NONE);
    }

    /**
     * @param status the operator's status.
     * @return these pages with it.
     */
    public HttpPages withStatus(final StatusPage status)
    {
        return new HttpPages(home, bootstrapDns, debugAccess, status);
    }
}
