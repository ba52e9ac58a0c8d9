package io.jderper.transport.http;

/**
 * The page served at {@code /}: what this server is, for whoever opens it in a browser (spec §4.12).
 */
public final class HomePage
{
    private static final String PAGE = """
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
        </body>
        </html>
        """;

    private HomePage()
    {
    }

    /**
     * @return the HTML of the default home page.
     */
    public static String html()
    {
        return PAGE;
    }
}
