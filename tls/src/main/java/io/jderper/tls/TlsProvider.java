package io.jderper.tls;

import java.security.NoSuchAlgorithmException;
import java.security.Provider;
import java.util.function.Supplier;

import javax.net.ssl.SSLContext;

import org.conscrypt.Conscrypt;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The JSSE provider that does the server's TLS: Conscrypt (BoringSSL) when its native library loads on this
 * machine, otherwise the JDK's own provider.
 * <p>
 * The provider is handed to Netty explicitly rather than installed with {@code Security.insertProviderAt}, so the
 * rest of the JVM (HTTP clients, tests) keeps the JDK defaults.
 */
public final class TlsProvider
{
    private static final Logger LOG = LoggerFactory.getLogger(TlsProvider.class);

    private final Provider provider;
    private final boolean conscrypt;

    private TlsProvider(final Provider provider, final boolean conscrypt)
    {
        this.provider = provider;
        this.conscrypt = conscrypt;
    }

    /**
     * Picks Conscrypt if it is usable, else falls back to the JDK provider and logs why. Never throws because
     * Conscrypt is missing from the class path or its native library does not load.
     *
     * @return the provider to use for server TLS.
     */
    public static TlsProvider detect()
    {
        return select(ConscryptLoader::load);
    }

    /**
     * The JDK's default JSSE provider, for comparison runs or when Conscrypt is unwanted.
     *
     * @return the JDK provider.
     */
    public static TlsProvider jdk()
    {
        return new TlsProvider(jdkProvider(), false);
    }

    /**
     * @param conscryptLoader returns a Conscrypt provider or throws the reason it cannot.
     */
    static TlsProvider select(final Supplier<Provider> conscryptLoader)
    {
        try
        {
            final Provider provider = conscryptLoader.get();
            LOG.info("TLS provider: {} {}", provider.getName(), ConscryptLoader.versionOrUnknown());
            return new TlsProvider(provider, true);
        }
        // NoClassDefFoundError (jar missing), UnsatisfiedLinkError (no native build for this platform) and
        // ExceptionInInitializerError are all LinkageErrors; none of them should stop the relay from starting.
        catch (final LinkageError | RuntimeException ex)
        {
            final Provider provider = jdkProvider();
            LOG.info("TLS provider: {} {} (Conscrypt unavailable: {})",
                provider.getName(), provider.getVersionStr(), String.valueOf(ex));
            LOG.debug("Conscrypt load failure", ex);
            return new TlsProvider(provider, false);
        }
    }

    /**
     * @return the JSSE provider to pass to {@code SSLContext.getInstance} or Netty's {@code sslContextProvider}.
     */
    public Provider provider()
    {
        return provider;
    }

    /**
     * @return the provider's name, {@code "Conscrypt"} or e.g. {@code "SunJSSE"}.
     */
    public String name()
    {
        return provider.getName();
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
