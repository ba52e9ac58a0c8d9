package io.jderper.transport.http;

import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpResponseStatus;

import java.net.URI;
import java.net.URISyntaxException;

/**
 * What {@code /} (and every path not otherwise routed) answers, as derper's {@code -home} chooses it (spec §4.12):
 * the default page saying what this server is, an empty page ({@code blank}), or a redirect to a URL.
 */
public final class HomePage
{
    /** The {@code -home} value that serves an empty page. */
    public static final String BLANK = "blank";
    /** The default page, derper's {@code -home ""}. */
    public static final HomePage DEFAULT = new HomePage("", "");

    private static final String PAGE_START = """
        <!DOCTYPE html>
        <html lang="en">
        <head><meta charset="utf-8"><title>DERP</title></head>
        <body>
        <h1>DERP</h1>
        <p>This is a <a href="https://tailscale.com/kb/1232/derp-servers">DERP</a> relay server
        (jderper, a Java implementation of Tailscale's derper).</p>
        <p>It relays end-to-end encrypted WireGuard and disco packets between Tailscale and Headscale nodes
        that cannot reach each other directly, and may also answer STUN requests so nodes learn their public
        address. It cannot read the traffic it relays.</p>
        <p>There is nothing to see here with a browser.</p>
        """;
    private static final String PAGE_END = """
        </body>
        </html>
        """;
    private static final String DERP_DISABLED = "<p>Status: disabled (this server relays nothing; -derp=false)</p>\n";
    private static final String DEBUG_LINK = "<p>Debug info at <a href=\"/debug/\">/debug/</a>.</p>\n";

    private final String flag;
    /** Where to redirect, or empty for a page. */
    private final String redirect;

    private HomePage(final String flag, final String redirect)
    {
        this.flag = flag;
        this.redirect = redirect;
    }

    /**
     * Reads derper's {@code -home} flag.
     *
     * @param flag empty for the default page, {@value #BLANK} for an empty one, or an {@code http://} or
     *             {@code https://} URL to redirect to.
     * @return the home page.
     * @throws IllegalArgumentException for any other value, saying which values are accepted.
     */
    public static HomePage parse(final String flag)
    {
        if (flag.isEmpty())
        {
            return DEFAULT;
        }
        if (BLANK.equals(flag))
        {
            return new HomePage(flag, "");
        }
        // As derper, the scheme prefix is what makes a redirect (case-sensitive); the rest must make a Location
        // header a browser can follow: printable ASCII, parsable, with a host.
        if (!flag.startsWith("http://") && !flag.startsWith("https://"))
        {
            throw new IllegalArgumentException("-home must be empty (the default page), \"" + BLANK + "\" (an " +
                "empty page) or an http:// or https:// URL to redirect to, got \"" + flag + "\"");
        }
        for (int i = 0; i < flag.length(); i++)
        {
            final char c = flag.charAt(i);
            if (c <= 0x20 || c >= 0x7F)
            {
                throw new IllegalArgumentException("-home: the redirect URL must be printable ASCII (percent-encode " +
                    "anything else), got \"" + flag + "\"");
            }
        }
        try
        {
            if (null == new URI(flag).getHost())
            {
                throw new IllegalArgumentException("-home: the redirect URL has no host: \"" + flag + "\"");
            }
        }
        catch (final URISyntaxException ex)
        {
            throw new IllegalArgumentException("-home: not a URL: " + ex.getMessage(), ex);
        }
        return new HomePage(flag, flag);
    }

    /**
     * The answer to a request for {@code /}, with the browser security headers (spec §4.14).
     *
     * @param derpEnabled   false for {@code -derp=false}: the default page says the relay is disabled.
     * @param showDebugLink whether the requester may open the debug pages: the default page links to them.
     * @return a new response.
     */
    public FullHttpResponse response(final boolean derpEnabled, final boolean showDebugLink)
    {
        return response(derpEnabled, showDebugLink, "");
    }

    /**
     * As {@link #response(boolean, boolean)}, with the operator's status on the default page.
     *
     * @param derpEnabled     false for {@code -derp=false}: the default page says the relay is disabled.
     * @param showDebugLink   whether the requester may open the debug pages: the default page links to them.
     * @param operatorSection HTML appended to the default page (only to it: a blank page or a redirect stays as
     *                        derper's), empty for none.
     * @return a new response.
     */
    public FullHttpResponse response(final boolean derpEnabled, final boolean showDebugLink,
        final String operatorSection)
    {
        final FullHttpResponse response;
        if (!redirect.isEmpty())
        {
            response = HttpResponses.response(HttpResponseStatus.FOUND, HttpResponses.TEXT_HTML, "");
            response.headers().set(HttpHeaderNames.LOCATION, redirect);
        }
        else if (BLANK.equals(flag))
        {
            response = HttpResponses.response(HttpResponseStatus.OK, HttpResponses.TEXT_HTML, "");
        }
        else
        {
            response = HttpResponses.response(HttpResponseStatus.OK, HttpResponses.TEXT_HTML, PAGE_START +
                (derpEnabled ? "" : DERP_DISABLED) + (showDebugLink ? DEBUG_LINK : "") + operatorSection + PAGE_END);
        }
        HttpResponses.addBrowserHeaders(response.headers());
        return response;
    }

    /**
     * @return what this page is, for the start-up log.
     */
    @Override
    public String toString()
    {
        return redirect.isEmpty() ? (flag.isEmpty() ? "the default page" : "an empty page") :
            "a redirect to " + redirect;
    }
}
