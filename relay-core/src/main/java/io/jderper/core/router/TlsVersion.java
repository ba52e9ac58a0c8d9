package io.jderper.core.router;

/**
 * The TLS version a connection to the main listener negotiated, labelled as derper labels its
 * {@code derper_tls_request_version{version}} and {@code derper_tls_active_version{version}} (spec §4.10). The
 * listener offers only TLS 1.2 and 1.3 (derper refuses 1.0 and 1.1 too), so those two are the versions seen; any other
 * name a TLS engine reports is counted as {@code unknown}, derper's label for a version it does not know.
 */
public enum TlsVersion
{
    /** TLS 1.2. */
    TLS_1_2("TLSv1.2", "1.2"),
    /** TLS 1.3. */
    TLS_1_3("TLSv1.3", "1.3"),
    /** Anything else an engine reports. */
    UNKNOWN("", "unknown");

    private static final TlsVersion[] VALUES = values();

    private final String protocol;
    private final String label;

    TlsVersion(final String protocol, final String label)
    {
        this.protocol = protocol;
        this.label = label;
    }

    /**
     * @param protocol the protocol name of a TLS session ({@code SSLSession.getProtocol()}, e.g. {@code TLSv1.3}).
     * @return its version; {@link #UNKNOWN} for null or any other name.
     */
    public static TlsVersion ofProtocol(final String protocol)
    {
        for (final TlsVersion version : VALUES)
        {
            if (UNKNOWN != version && version.protocol.equals(protocol))
            {
                return version;
            }
        }
        return UNKNOWN;
    }

    /**
     * @return the metric label value, as derper writes it.
     */
    public String label()
    {
        return label;
    }
}
