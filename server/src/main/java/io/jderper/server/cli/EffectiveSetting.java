package io.jderper.server.cli;

import java.net.URI;
import java.net.URISyntaxException;
import java.util.regex.Pattern;

/**
 * One flag's effective value and where it came from, as the configuration summary shows it.
 *
 * @param name   the flag name, without dashes.
 * @param value  the value in the flag's syntax: as given, or the default.
 * @param origin {@link GoFlags#FROM_FLAG}, {@link GoFlags#FROM_DEFAULT}, or a source's such as {@code env DERP_ADDR}.
 */
public record EffectiveSetting(String name, String value, String origin)
{
    /** What a secret value is shown as. */
    public static final String MASK = "<secret, not shown>";

    /** Names of flags whose value is itself a secret (an ACME EAB key), unless the value is where to find one. */
    private static final Pattern SECRET_NAME = Pattern.compile("(^|-)(key|token|secrets?|password|passwd|psk)(-|$)");
    private static final Pattern PATH_NAME = Pattern.compile("-(file|dir|path|prefix|kid)$");

    /**
     * @return whether no source set it.
     */
    public boolean isDefault()
    {
        return GoFlags.FROM_DEFAULT.equals(origin);
    }

    /**
     * @return whether the value is secret by the flag's name; file paths are not, their contents never shown.
     */
    public boolean isSecret()
    {
        return SECRET_NAME.matcher(name).find() && !PATH_NAME.matcher(name).find();
    }

    /**
     * @return the value fit to print: secrets masked, and a URL's password and query (where tokens hide) too.
     */
    public String shown()
    {
        if (value.isEmpty())
        {
            return "\"\"";
        }
        if (isSecret())
        {
            return MASK;
        }
        return maskUrl(value);
    }

    private static String maskUrl(final String text)
    {
        if (!text.contains("://"))
        {
            return text;
        }
        try
        {
            final URI uri = new URI(text);
            if (null == uri.getRawUserInfo() && null == uri.getRawQuery())
            {
                return text;
            }
            final String userInfo = null == uri.getRawUserInfo() ? null :
                uri.getRawUserInfo().contains(":") ?
                    uri.getRawUserInfo().substring(0, uri.getRawUserInfo().indexOf(':')) + ":***" : "***";
            return new URI(uri.getScheme(), userInfo, uri.getHost(), uri.getPort(), uri.getPath(),
                null == uri.getRawQuery() ? null : "***", uri.getFragment()).toString();
        }
        catch (final URISyntaxException ex)
        {
            // Not a URL after all, and perhaps mistyped around a secret: show nothing of it.
            return MASK;
        }
    }
}
