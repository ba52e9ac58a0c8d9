package io.jderper.tls;

import java.net.InetAddress;
import java.security.cert.CertificateParsingException;
import java.security.cert.X509Certificate;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Locale;
import java.util.regex.Pattern;

/**
 * Host name rules with Go's semantics, because the relay must accept and refuse the same
 * {@code -hostname} values and certificates as derper.
 */
public final class Hostnames
{
    private static final int SAN_DNS_NAME = 2;
    private static final int SAN_IP_ADDRESS = 7;

    // Go's net.ParseIP takes only dotted quads with no leading zeros; InetAddress.ofLiteral would also take "127.1".
    private static final Pattern DOTTED_QUAD =
        Pattern.compile("(?:0|[1-9][0-9]{0,2})(?:\\.(?:0|[1-9][0-9]{0,2})){3}");

    private Hostnames()
    {
    }

    /**
     * Parses an IP literal the way Go's {@code net.ParseIP} does: no brackets, no zone, never a DNS lookup.
     *
     * @return the address, or null if the text is not an IP literal.
     */
    public static InetAddress parseIp(final String text)
    {
        if (null == text || text.isEmpty())
        {
            return null;
        }
        final boolean ipv6 = text.indexOf(':') >= 0;
        if (ipv6 ? text.indexOf('%') >= 0 || text.indexOf('[') >= 0 : !DOTTED_QUAD.matcher(text).matches())
        {
            return null;
        }
        try
        {
            return InetAddress.ofLiteral(text);
        }
        catch (final IllegalArgumentException ex)
        {
            return null;
        }
    }

    /**
     * Like {@link #parseIp} but also accepts a bracketed IPv6 literal, as a URL host carries it.
     *
     * @param host a host name or IP literal.
     * @return the address, or null if the text is not an IP literal.
     */
    public static InetAddress parseIpLiteral(final String host)
    {
        return null == host ? null : parseIp(stripBrackets(host));
    }

    /**
     * Whether the certificate is valid for the host name, as Go's {@code x509.Certificate.VerifyHostname}: IP SANs
     * for an IP (brackets allowed), DNS SANs with a single leftmost {@code *} label otherwise, no CN fallback.
     */
    public static boolean certificateMatches(final X509Certificate certificate, final String hostname)
    {
        final InetAddress ip = parseIp(stripBrackets(hostname));
        for (final List<?> name : subjectAltNames(certificate))
        {
            final Object type = name.getFirst();
            final String value = String.valueOf(name.get(1));
            if (null != ip && type.equals(SAN_IP_ADDRESS) && ip.equals(parseSanIp(value)))
            {
                return true;
            }
            if (null == ip && type.equals(SAN_DNS_NAME) && dnsNameMatches(value, hostname))
            {
                return true;
            }
        }
        return false;
    }

    static boolean hasIpAddressSan(final X509Certificate certificate)
    {
        return subjectAltNames(certificate).stream().anyMatch(name -> name.getFirst().equals(SAN_IP_ADDRESS));
    }

    /**
     * @return the DNS and IP SANs as text, for error messages.
     */
    static List<String> describeSubjectAltNames(final X509Certificate certificate)
    {
        final List<String> names = new ArrayList<>();
        for (final List<?> name : subjectAltNames(certificate))
        {
            final Object type = name.getFirst();
            if (type.equals(SAN_DNS_NAME))
            {
                names.add("DNS:" + name.get(1));
            }
            else if (type.equals(SAN_IP_ADDRESS))
            {
                names.add("IP:" + name.get(1));
            }
        }
        return names;
    }

    static boolean dnsNameMatches(final String pattern, final String hostname)
    {
        final String host = stripTrailingDot(hostname.toLowerCase(Locale.ROOT));
        final String lowerPattern = stripTrailingDot(pattern.toLowerCase(Locale.ROOT));
        if (host.isEmpty() || lowerPattern.isEmpty())
        {
            return false;
        }
        final String[] patternLabels = lowerPattern.split("\\.", -1);
        final String[] hostLabels = host.split("\\.", -1);
        if (patternLabels.length != hostLabels.length)
        {
            return false;
        }
        for (int i = 0; i < patternLabels.length; i++)
        {
            final boolean wildcard = 0 == i && "*".equals(patternLabels[i]) && !hostLabels[i].isEmpty();
            if (!wildcard && !patternLabels[i].equals(hostLabels[i]))
            {
                return false;
            }
        }
        return true;
    }

    private static InetAddress parseSanIp(final String text)
    {
        // The JDK prints IPv6 SANs in full form ("0:0:0:0:0:0:0:1"), which ofLiteral reads without a lookup.
        try
        {
            return InetAddress.ofLiteral(text);
        }
        catch (final IllegalArgumentException ex)
        {
            return null;
        }
    }

    private static Collection<List<?>> subjectAltNames(final X509Certificate certificate)
    {
        try
        {
            final Collection<List<?>> names = certificate.getSubjectAlternativeNames();
            return null == names ? List.of() : names;
        }
        catch (final CertificateParsingException ex)
        {
            return List.of();
        }
    }

    private static String stripBrackets(final String hostname)
    {
        return hostname.length() >= 3 && hostname.startsWith("[") && hostname.endsWith("]") ?
            hostname.substring(1, hostname.length() - 1) : hostname;
    }

    private static String stripTrailingDot(final String name)
    {
        return name.endsWith(".") ? name.substring(0, name.length() - 1) : name;
    }
}
