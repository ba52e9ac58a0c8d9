package io.jderper.tls;

import java.security.NoSuchAlgorithmException;
import java.security.Provider;
import java.util.List;
import java.util.function.Supplier;

import javax.net.ssl.SSLContext;

import io.netty.handler.ssl.OpenSsl;
import io.netty.handler.ssl.SslContextBuilder;
import io.netty.handler.ssl.SslProvider;
import org.conscrypt.Conscrypt;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The TLS implementation the relay and its clients run on:
 * <ul>
 *   <li>OpenSSL: netty-tcnative's statically linked BoringSSL, driven by Netty's own native engine, which reads and
 *       writes the socket's direct buffers without a JSSE layer: the default when it loads on this machine;</li>
 *   <li>Conscrypt (BoringSSL behind the JSSE API), driven by Netty as a JDK engine, with a pipe pair per
 *       connection: the second choice;</li>
 *   <li>the JDK's own JSSE provider, the fallback that always works.</li>
 * </ul>
 * A JSSE provider is handed to Netty explicitly rather than installed with {@code Security.insertProviderAt}, so the
 * rest of the JVM (HTTP clients, tests) keeps the JDK defaults.
 */
public final class TlsProvider
{
    /** The names {@link #named(String)} takes. */
    public static final List<String> NAMES = List.of("auto", "conscrypt", "openssl", "jdk");

    private static final Logger LOG = LoggerFactory.getLogger(TlsProvider.class);

    private final Provider provider;
    private final boolean conscrypt;
    private final String openSslVersion;

    private TlsProvider(final Provider provider, final boolean conscrypt)
    {
        this.provider = provider;
        this.conscrypt = conscrypt;
        this.openSslVersion = null;
    }

    private TlsProvider(final String openSslVersion)
    {
        this.provider = null;
        this.conscrypt = false;
        this.openSslVersion = openSslVersion;
    }

    /**
     * The default, {@code auto}: OpenSSL if netty-tcnative loads, else Conscrypt, else the JDK provider, logging why
     * each one before the choice was passed over. OpenSSL comes first because it measured fastest and leanest here
     * (perf-reports, docs/architecture.md). Never throws because a native library is missing or does not load.
     *
     * @return the provider to use for TLS.
     */
    public static TlsProvider detect()
    {
        return firstThatLoads(List.of(TlsProvider::openSsl, TlsProvider::conscrypt));
    }

    /**
     * The JDK's default JSSE provider, for comparison runs or when no native TLS is wanted.
     *
     * @return the JDK provider.
     */
    public static TlsProvider jdk()
    {
        final Provider provider = jdkProvider();
        LOG.info("TLS provider: {} {}", provider.getName(), provider.getVersionStr());
        return new TlsProvider(provider, false);
    }

    /**
     * The provider an operator named, as the {@code -tls-provider} flags of the relay and the load generator take it.
     *
     * @param choice {@code auto} (see {@link #detect()}), {@code conscrypt}, {@code openssl} or {@code jdk}.
     * @return that provider.
     * @throws IllegalArgumentException for any other name.
     * @throws IllegalStateException with the reason when the named provider does not load on this machine.
     */
    public static TlsProvider named(final String choice)
    {
        return switch (choice)
        {
            case "auto" -> detect();
            case "jdk" -> jdk();
            case "openssl" -> openSsl();
            case "conscrypt" -> conscrypt();
            default -> throw new IllegalArgumentException(
                "unknown TLS provider \"" + choice + "\", want one of " + NAMES);
        };
    }

    /**
     * netty-tcnative's BoringSSL through Netty's native engine.
     *
     * @return the OpenSSL provider.
     * @throws IllegalStateException with the reason when netty-tcnative does not load on this machine.
     */
    public static TlsProvider openSsl()
    {
        if (!OpenSsl.isAvailable())
        {
            throw new IllegalStateException("netty-tcnative does not load: " + OpenSsl.unavailabilityCause(),
                OpenSsl.unavailabilityCause());
        }
        final TlsProvider openSsl = new TlsProvider(OpenSsl.versionString());
        LOG.info("TLS provider: OpenSSL, {} (netty-tcnative)", openSsl.openSslVersion);
        return openSsl;
    }

    /**
     * Conscrypt's BoringSSL behind the JSSE API.
     *
     * @return the Conscrypt provider.
     * @throws IllegalStateException with the reason when Conscrypt does not load on this machine.
     */
    public static TlsProvider conscrypt()
    {
        final Provider provider;
        try
        {
            provider = ConscryptLoader.load();
        }
        // NoClassDefFoundError (jar missing), UnsatisfiedLinkError (no native build for this platform) and
        // ExceptionInInitializerError are all LinkageErrors.
        catch (final LinkageError ex)
        {
            throw new IllegalStateException("Conscrypt does not load: " + ex, ex);
        }
        LOG.info("TLS provider: {} {}", provider.getName(), ConscryptLoader.versionOrUnknown());
        return new TlsProvider(provider, true);
    }

    /**
     * @param candidates each returns a provider or throws the reason it cannot.
     * @return the first candidate that loads, else the JDK provider.
     */
    static TlsProvider firstThatLoads(final List<Supplier<TlsProvider>> candidates)
    {
        final StringBuilder passedOver = new StringBuilder();
        for (final Supplier<TlsProvider> candidate : candidates)
        {
            try
            {
                return candidate.get();
            }
            // None of these should stop the relay from starting: the JDK's TLS always works.
            catch (final LinkageError | RuntimeException ex)
            {
                passedOver.append(passedOver.isEmpty() ? "" : "; ").append(ex.getMessage());
                LOG.debug("TLS provider passed over", ex);
            }
        }
        final Provider provider = jdkProvider();
        LOG.info("TLS provider: {} {} ({})", provider.getName(), provider.getVersionStr(), passedOver);
        return new TlsProvider(provider, false);
    }

    /**
     * Points a Netty context builder at this implementation.
     *
     * @param builder a client or server builder.
     * @return the same builder.
     */
    public SslContextBuilder configure(final SslContextBuilder builder)
    {
        // OPENSSL_REFCNT: engines free their native state when the TLS handler is removed, not in a finalizer.
        return isOpenSsl() ? builder.sslProvider(SslProvider.OPENSSL_REFCNT) :
            builder.sslProvider(SslProvider.JDK).sslContextProvider(provider);
    }

    /**
     * @return the JSSE provider to pass to {@code SSLContext.getInstance}.
     * @throws IllegalStateException for OpenSSL, which is not a JSSE provider.
     */
    public Provider provider()
    {
        if (isOpenSsl())
        {
            throw new IllegalStateException("OpenSSL (netty-tcnative) is not a JSSE provider");
        }
        return provider;
    }

    /**
     * @return the provider's name: {@code "Conscrypt"}, {@code "OpenSSL"} or e.g. {@code "SunJSSE"}.
     */
    public String name()
    {
        return isOpenSsl() ? "OpenSSL" : provider.getName();
    }

    /**
     * @return true if TLS runs on netty-tcnative through Netty's native engine.
     */
    public boolean isOpenSsl()
    {
        return null != openSslVersion;
    }

    /**
     * @return true if TLS runs on Conscrypt (BoringSSL).
     */
    public boolean isConscrypt()
    {
        return conscrypt;
    }

    @Override
    public String toString()
    {
        return "TlsProvider{" + name() + '}';
    }

    private static Provider jdkProvider()
    {
        try
        {
            return SSLContext.getInstance("TLS").getProvider();
        }
        catch (final NoSuchAlgorithmException ex)
        {
            // Every Java SE runtime must ship TLS, so this means a broken JDK, not a configuration choice.
            throw new IllegalStateException("the JDK has no TLS SSLContext", ex);
        }
    }

    /**
     * Holds every reference to Conscrypt classes so that {@link TlsProvider} itself loads without the jar.
     */
    private static final class ConscryptLoader
    {
        static Provider load()
        {
            if (!Conscrypt.isAvailable())
            {
                // isAvailable() swallows the reason; checkAvailability() rethrows it for the log line.
                Conscrypt.checkAvailability();
                throw new IllegalStateException("Conscrypt reports that it is not available");
            }
            return Conscrypt.newProvider();
        }

        static String versionOrUnknown()
        {
            try
            {
                final Conscrypt.Version v = Conscrypt.version();
                return null == v ? "" : v.major() + "." + v.minor() + "." + v.patch();
            }
            catch (final LinkageError | RuntimeException ex)
            {
                return "";
            }
        }
    }
}
