package io.jderper.transport.http;

import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.HttpResponseStatus;

/**
 * {@code /generate_204}: the captive-portal check clients run against port 80 (spec §4.13). Always 204; echoes a
 * well-formed {@code X-Tailscale-Challenge} so the client can tell a real DERP from a portal's fake 204.
 */
public final class CaptivePortalCheck
{
    /** Path of the check. */
    public static final String PATH = "/generate_204";
    private static final String CHALLENGE_HEADER = "X-Tailscale-Challenge";
    private static final String RESPONSE_HEADER = "X-Tailscale-Response";
    private static final int MAX_CHALLENGE_LENGTH = 64;

    private CaptivePortalCheck()
    {
    }

    /**
     * @param request the request.
     * @return the 204 response, with the challenge answered when it is valid.
     */
    public static FullHttpResponse respond(final HttpRequest request)
    {
        final FullHttpResponse response = HttpResponses.response(HttpResponseStatus.NO_CONTENT, null, "");
        response.headers().set("Cache-Control", "no-cache, no-store, must-revalidate, no-transform, max-age=0");
        final String challenge = request.headers().get(CHALLENGE_HEADER);
        if (null != challenge && isValidChallenge(challenge))
        {
            response.headers().set(RESPONSE_HEADER, "response " + challenge);
        }
        return response;
    }

    static boolean isValidChallenge(final String challenge)
    {
        if (challenge.isEmpty() || challenge.length() > MAX_CHALLENGE_LENGTH)
        {
            return false;
        }
        for (int i = 0; i < challenge.length(); i++)
        {
            final char c = challenge.charAt(i);
            final boolean ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                c == '.' || c == '-' || c == '_' || c == ':';
            if (!ok)
            {
                return false;
            }
        }
        return true;
    }
}
