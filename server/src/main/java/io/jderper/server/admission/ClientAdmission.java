package io.jderper.server.admission;

import io.jderper.core.admission.AdmissionChain;
import io.jderper.core.admission.AdmissionCheck;
import io.jderper.core.admission.AdmissionPolicy;
import io.jderper.core.admission.CachedAdmissionCheck;
import io.jderper.core.admission.NodeKeyList;
import io.jderper.core.router.RelayMetrics;
import io.jderper.server.SecretFiles;
import io.jderper.server.cli.DerperOptions;
import org.agrona.concurrent.SystemNanoClock;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.io.InputStream;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.KeyStore;
import java.security.cert.Certificate;
import java.security.cert.CertificateFactory;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;
import javax.net.ssl.SSLContext;
import javax.net.ssl.TrustManagerFactory;

/**
 * Builds the relay's admission policy from its flags and says at start what it will do, loudly where derper's
 * default fails open.
 */
public final class ClientAdmission implements AutoCloseable
{
    /** derper's bound on one admission URL question. */
    public static final Duration CHECK_TIMEOUT = Duration.ofSeconds(5);
    /** How often the allowlist file is looked at. */
    public static final long ALLOWLIST_CHECK_SECONDS = 5;
    /** Refusals are remembered at most this long, so a key just added upstream gets in soon. */
    static final Duration MAX_DENY_TTL = Duration.ofSeconds(10);
    static final int CACHE_ENTRIES = 65_536;

    private static final Logger LOG = LoggerFactory.getLogger(ClientAdmission.class);

    private final AdmissionPolicy policy;
    private final List<AutoCloseable> resources;

    private ClientAdmission(final AdmissionPolicy policy, final List<AutoCloseable> resources)
    {
        this.policy = policy;
        this.resources = resources;
    }

    /**
     * @param flags       the admission flags.
     * @param metrics     where fail-open admissions are counted.
     * @param environment the process environment ({@code SSL_CERT_FILE}).
     * @param reloads     runs the allowlist file check.
     * @return the admission set up.
     * @throws IOException naming the flag and file that is wrong.
     */
    public static ClientAdmission start(final DerperOptions.Admission flags, final RelayMetrics metrics,
        final Map<String, String> environment, final ScheduledExecutorService reloads) throws IOException
    {
        if (!flags.any())
        {
            LOG.info("client admission: every client is admitted (no -verify-clients, -verify-client-url, " +
                "-allowlist or -bearer-token-file)");
            return new ClientAdmission(AdmissionPolicy.ADMIT_ALL, List.of());
        }
        final List<AutoCloseable> resources = new ArrayList<>();
        Supplier<NodeKeyList> keyList = () -> null;
        if (!flags.allowlist().isEmpty())
        {
            final NodeKeyListFile file = NodeKeyListFile.load(Path.of(flags.allowlist()));
            keyList = file::current;
            reloads.scheduleWithFixedDelay(file::reloadIfChanged, ALLOWLIST_CHECK_SECONDS, ALLOWLIST_CHECK_SECONDS,
                TimeUnit.SECONDS);
            LOG.info("client admission: -allowlist {} ({}), checked for changes every {} s", file, file.current(),
                ALLOWLIST_CHECK_SECONDS);
        }
        final String token = flags.bearerTokenFile().isEmpty() ? null :
            SecretFiles.readBearerToken(Path.of(flags.bearerTokenFile()));
        if (null != token)
        {
            LOG.info("client admission: an upgrade request with the -bearer-token-file token is admitted");
        }
        final List<AdmissionCheck> checks = new ArrayList<>();
        if (flags.verifyClients())
        {
            final Path socket = Path.of(flags.socket().isEmpty() ? LocalTailscaledCheck.DEFAULT_SOCKET :
                flags.socket());
            checks.add(new LocalTailscaledCheck(socket, CHECK_TIMEOUT));
            LOG.info("client admission: -verify-clients asks the tailscaled at {} about every client", socket);
            if (!Files.exists(socket))
            {
                LOG.warn("-verify-clients: {} does not exist (yet); every client is refused until tailscaled " +
                    "listens there", socket);
            }
        }
        if (!flags.verifyClientUrl().isEmpty())
        {
            final URI url = URI.create(flags.verifyClientUrl());
            final VerifyClientUrlCheck check = new VerifyClientUrlCheck(url, flags.failOpen(), CHECK_TIMEOUT,
                sslContext(environment), metrics.admissionFailOpen);
            resources.add(check);
            final long admitTtlNs = flags.cacheTtl().toNanos();
            checks.add(0 == admitTtlNs ? check : new CachedAdmissionCheck(check, admitTtlNs,
                Math.min(admitTtlNs, MAX_DENY_TTL.toNanos()), CACHE_ENTRIES, new SystemNanoClock()));
            LOG.info("client admission: -verify-client-url {} (answers remembered for {})", url,
                0 == admitTtlNs ? "no time" : flags.cacheTtl());
            if (flags.failOpen())
            {
                LOG.warn("-verify-client-url-fail-open is on (derper's default): while {} cannot be reached, EVERY " +
                    "client is admitted; run with -verify-client-url-fail-open=false to refuse them instead", url);
            }
        }
        else if (!flags.failOpen())
        {
            LOG.warn("-verify-client-url-fail-open=false has no effect without -verify-client-url");
        }
        if (!flags.verifyClients() && !flags.socket().isEmpty())
        {
            LOG.warn("-socket has no effect without -verify-clients");
        }
        return new ClientAdmission(new AdmissionChain(keyList, token, checks), List.copyOf(resources));
    }

    /**
     * @param environment the process environment.
     * @return trust in {@code SSL_CERT_FILE}'s CAs if set, as Go's HTTP client does, else the JDK's.
     */
    static SSLContext sslContext(final Map<String, String> environment) throws IOException
    {
        final String file = environment.get("SSL_CERT_FILE");
        try
        {
            if (null == file || file.isEmpty())
            {
                return SSLContext.getDefault();
            }
            final KeyStore roots = KeyStore.getInstance(KeyStore.getDefaultType());
            roots.load(null, null);
            try (InputStream in = Files.newInputStream(Path.of(file)))
            {
                int i = 0;
                for (final Certificate certificate : CertificateFactory.getInstance("X.509").generateCertificates(in))
                {
                    roots.setCertificateEntry("ca-" + i++, certificate);
                }
                if (0 == i)
                {
                    throw new IOException("SSL_CERT_FILE " + file + " holds no certificate");
                }
            }
            final TrustManagerFactory trust = TrustManagerFactory.getInstance(
                TrustManagerFactory.getDefaultAlgorithm());
            trust.init(roots);
            final SSLContext context = SSLContext.getInstance("TLS");
            context.init(null, trust.getTrustManagers(), null);
            return context;
        }
        catch (final GeneralSecurityException ex)
        {
            throw new IOException("cannot set up TLS for -verify-client-url" + (null == file ? "" :
                " from SSL_CERT_FILE " + file) + ": " + ex.getMessage(), ex);
        }
    }

    /**
     * @return the policy to give the router.
     */
    public AdmissionPolicy policy()
    {
        return policy;
    }

    @Override
    public void close()
    {
        for (final AutoCloseable resource : resources)
        {
            try
            {
                resource.close();
            }
            catch (final Exception ex)
            {
                LOG.debug("closing {}: {}", resource, ex.toString());
            }
        }
    }
}
