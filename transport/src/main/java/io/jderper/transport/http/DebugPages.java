package io.jderper.transport.http;

import io.jderper.core.router.RelayMetrics;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpResponseStatus;

/**
 * The debug pages under {@code /debug/} on the main listener (spec §4.11), for requesters {@link DebugAccess}
 * allows: an index and the relay's counters in one line. Metrics for scraping are not served here but on their own
 * listener.
 */
final class DebugPages
{
    /** The path prefix of the debug pages. */
    static final String PREFIX = "/debug/";

    private static final String INDEX = """
        <!DOCTYPE html>
        <html lang="en">
        <head><meta charset="utf-8"><title>jderper debug</title>
        <style>body { font-family: sans-serif; } code { background: #eee; }</style></head>
        <body>
        <h1>jderper debug</h1>
        <ul>
        <li><a href="/debug/summary">/debug/summary</a>: the relay's counters, as logged at shutdown</li>
        </ul>
        <p>Metrics for Prometheus are served on the listener of <code>-metrics-addr</code>, not here.</p>
        </body>
        </html>
        """;

    private final RelayMetrics metrics;

    /**
     * @param metrics the relay's counters.
     */
    DebugPages(final RelayMetrics metrics)
    {
        this.metrics = metrics;
    }

    /**
     * @param path    the request path, {@code /debug} or under {@value #PREFIX}.
     * @param allowed whether the requester may see the debug pages.
     * @return the answer, with the debug pages' browser headers.
     */
    FullHttpResponse respond(final String path, final boolean allowed)
    {
        final FullHttpResponse response;
        if (!allowed)
        {
            response = HttpResponses.error(HttpResponseStatus.FORBIDDEN, "debug access denied");
        }
        else
        {
            response = switch (path)
            {
                case "/debug" ->
                {
                    final FullHttpResponse redirect = HttpResponses.response(HttpResponseStatus.MOVED_PERMANENTLY,
                        HttpResponses.TEXT_HTML, "");
                    redirect.headers().set(HttpHeaderNames.LOCATION, PREFIX);
                    yield redirect;
                }
                case PREFIX -> HttpResponses.response(HttpResponseStatus.OK, HttpResponses.TEXT_HTML, INDEX);
                case "/debug/summary" -> HttpResponses.response(HttpResponseStatus.OK, HttpResponses.TEXT_PLAIN,
                    metrics.summary() + "\n");
                default -> HttpResponses.error(HttpResponseStatus.NOT_FOUND, "404 page not found");
            };
        }
        HttpResponses.addDebugBrowserHeaders(response.headers());
        return response;
    }
}
