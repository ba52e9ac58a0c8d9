package io.jderper.tls;

import org.shredzone.acme4j.Account;
import org.shredzone.acme4j.AccountBuilder;
import org.shredzone.acme4j.Authorization;
import org.shredzone.acme4j.Identifier;
import org.shredzone.acme4j.Order;
import org.shredzone.acme4j.Session;
import org.shredzone.acme4j.Status;
import io.netty.handler.ssl.SslContext;
import org.shredzone.acme4j.challenge.Challenge;
import org.shredzone.acme4j.challenge.Http01Challenge;
import org.shredzone.acme4j.challenge.TlsAlpn01Challenge;
import org.shredzone.acme4j.exception.AcmeException;
import org.shredzone.acme4j.util.KeyPairUtils;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.net.InetAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.charset.StandardCharsets;
import java.security.KeyPair;
import java.security.cert.CertificateEncodingException;
import java.security.cert.X509Certificate;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;

/**
 * derper's {@code letsencrypt} and {@code gcp} cert modes: a certificate for the hostname (or, with
 * {@code -acme-ip-certs}, the IP address) from an ACME CA, proven with http-01 on the plain HTTP port (or tls-alpn-01
 * on the TLS port when there is none), kept in the
 * cert dir across restarts, and renewed once a third of its lifetime is left. Until the first certificate arrives
 * TLS handshakes are refused; a failed renewal keeps the current certificate in service and is retried.
 */
public final class AcmeCertificates implements CertificateStore
{
    private static final Logger LOG = LoggerFactory.getLogger(AcmeCertificates.class);
    private static final String ACCOUNT_KEY_FILE = "acme-account.key";
    private static final Duration CHALLENGE_WAIT = Duration.ofMinutes(2);
    private static final Duration RETRY_AFTER_FAILURE = Duration.ofMinutes(10);
    private static final Duration LONGEST_SLEEP = Duration.ofHours(12);

    static
    {
        // acme4j builds CSRs and reads account keys with BouncyCastle under its provider name.
        if (null == java.security.Security.getProvider("BC"))
        {
            java.security.Security.addProvider(new org.bouncycastle.jce.provider.BouncyCastleProvider());
        }
    }

    private final AcmeSettings settings;
    private final Identifier identifier;
    private final Path certificateFile;
    private final Path keyFile;
    private final Clock clock;
    private final Map<String, String> http01 = new ConcurrentHashMap<>();
    /** tls-alpn-01 contexts by SNI name, while a validation runs. */
    private final Map<String, SslContext> tlsAlpn01 = new ConcurrentHashMap<>();
    private final CertificateStore sniRule;
    private volatile ServerCertificate current;

    /**
     * @param settings what to ask for and where.
     * @param clock    the time, for renewal decisions.
     * @throws IllegalArgumentException if the hostname cannot be certified in this mode.
     */
    public AcmeCertificates(final AcmeSettings settings, final Clock clock)
    {
        this.settings = Objects.requireNonNull(settings, "settings");
        this.clock = clock;
        final InetAddress ip = Hostnames.parseIp(settings.hostname());
        this.identifier = null == ip ? Identifier.dns(settings.hostname()) : Identifier.ip(ip);
        final String name = ManualCertificates.fileBaseName(settings.hostname()) + ".acme";
        this.certificateFile = settings.certdir().resolve(name + ManualCertificates.CERTIFICATE_SUFFIX);
        this.keyFile = settings.certdir().resolve(name + ManualCertificates.KEY_SUFFIX);
        this.sniRule = ManualCertificates.store(this::current, settings.hostname());
    }

    /**
     * @return the certificate served now, or null before the first one arrived.
     */
    public ServerCertificate current()
    {
        return current;
    }

    @Override
    public ServerCertificate select(final String requestedServerName)
    {
        return null == current ? null : sniRule.select(requestedServerName);
    }

    /**
     * The HTTP-01 answer for a token, for {@code /.well-known/acme-challenge/<token>} on the plain HTTP port.
     *
     * @param token the last path segment.
     * @return the key authorization, if this token is being validated now.
     */
    public Optional<String> http01Response(final String token)
    {
        return Optional.ofNullable(http01.get(token));
    }

    /**
     * The TLS context to answer a tls-alpn-01 validation with (RFC 8737): the challenge certificate, ALPN
     * {@code acme-tls/1}. Looked at only for connections whose ClientHello offers {@code acme-tls/1}.
     *
     * @param serverName the SNI name, lower case.
     * @return the context, if a validation for that name runs now.
     */
    public Optional<SslContext> tlsAlpn01Context(final String serverName)
    {
        return Optional.ofNullable(tlsAlpn01.get(serverName));
    }

    /**
     * @return whether a tls-alpn-01 validation runs now (so the first bytes of connections are worth a look).
     */
    public boolean validatingTlsAlpn01()
    {
        return !tlsAlpn01.isEmpty();
    }

    /**
     * Loads the cached certificate, if the cert dir holds one that is still valid.
     *
     * @return whether a certificate is now being served.
     */
    public boolean loadCached()
    {
        if (!Files.exists(certificateFile) || !Files.exists(keyFile))
        {
            return false;
        }
        try
        {
            final ServerCertificate cached = new ServerCertificate(PemFiles.readPrivateKey(keyFile),
                PemFiles.readCertificates(certificateFile));
            if (!cached.leaf().getNotAfter().toInstant().isAfter(clock.instant()))
            {
                LOG.info("the cached ACME certificate {} has expired; a new one is needed", certificateFile);
                return false;
            }
            current = cached;
            LOG.info("serving the cached ACME certificate from {}, valid until {}", certificateFile,
                cached.leaf().getNotAfter().toInstant());
            return true;
        }
        catch (final IOException | RuntimeException ex)
        {
            LOG.warn("cannot use the cached ACME certificate {}: {}; a new one is needed", certificateFile,
                ex.getMessage());
            return false;
        }
    }

    /**
     * Gets a certificate if none is served or the current one is due for renewal, and says when to look again. Runs
     * on a background (virtual) thread: it blocks on the network for up to a few minutes.
     *
     * @return how long to wait before the next call.
     */
    public Duration renewIfDue()
    {
        final ServerCertificate served = current;
        if (null != served && !renewalDue(served.leaf()))
        {
            return untilRenewal(served.leaf());
        }
        try
        {
            obtain();
            return untilRenewal(current.leaf());
        }
        catch (final AcmeException | IOException | RuntimeException ex)
        {
            LOG.warn("ACME: no certificate for {} from {}: {}; {} retry in {} min", settings.hostname(),
                settings.directory(), ex.getMessage(), null == served ? "TLS handshakes fail until then;" :
                    "still serving the current certificate (valid until " +
                        served.leaf().getNotAfter().toInstant() + ");", RETRY_AFTER_FAILURE.toMinutes());
            return RETRY_AFTER_FAILURE;
        }
        catch (final InterruptedException ex)
        {
            Thread.currentThread().interrupt();
            return RETRY_AFTER_FAILURE;
        }
    }

    private boolean renewalDue(final X509Certificate leaf)
    {
        return !clock.instant().isBefore(renewalTime(leaf));
    }

    /** A third of the lifetime before expiry, as Let's Encrypt advises (30 days of a 90-day certificate). */
    private static Instant renewalTime(final X509Certificate leaf)
    {
        final Instant notBefore = leaf.getNotBefore().toInstant();
        final Instant notAfter = leaf.getNotAfter().toInstant();
        return notAfter.minus(Duration.between(notBefore, notAfter).dividedBy(3));
    }

    private Duration untilRenewal(final X509Certificate leaf)
    {
        final Duration wait = Duration.between(clock.instant(), renewalTime(leaf));
        return wait.isNegative() ? Duration.ofSeconds(1) : wait.compareTo(LONGEST_SLEEP) > 0 ? LONGEST_SLEEP : wait;
    }

    private void obtain() throws AcmeException, IOException, InterruptedException
    {
        LOG.info("ACME: asking {} for a certificate for {}", settings.directory(), identifier.getValue());
        final Session session = new Session(settings.directory(), settings.provider());
        final AccountBuilder builder = new AccountBuilder().agreeToTermsOfService().useKeyPair(accountKey());
        settings.email().ifPresent(builder::addEmail);
        settings.externalAccountBinding().ifPresent(eab -> builder.withKeyIdentifier(eab.keyId(), eab.macKey()));
        final Account account = builder.create(session);
        final Order order = account.newOrder().identifier(identifier).create();
        for (final Authorization authorization : order.getAuthorizations())
        {
            authorize(authorization);
        }
        final KeyPair certificateKey = Certificates.newP256KeyPair();
        order.execute(certificateKey);
        final Status status = order.waitForCompletion(CHALLENGE_WAIT);
        if (Status.VALID != status)
        {
            throw new AcmeException("order ended " + status + order.getError().map(e -> ": " + e).orElse(""));
        }
        final List<X509Certificate> chain = order.getCertificate().getCertificateChain();
        final ServerCertificate issued = new ServerCertificate(certificateKey.getPrivate(), chain);
        store(issued);
        current = issued;
        LOG.info("ACME: new certificate for {} from {}, valid until {}; renewal from {}", identifier.getValue(),
            chain.getFirst().getIssuerX500Principal().getName(), chain.getFirst().getNotAfter().toInstant(),
            renewalTime(chain.getFirst()));
    }

    private void authorize(final Authorization authorization) throws AcmeException, InterruptedException
    {
        if (Status.VALID == authorization.getStatus())
        {
            return;
        }
        final Optional<Http01Challenge> http = settings.http01() ?
            authorization.findChallenge(Http01Challenge.class) : Optional.empty();
        final Challenge challenge;
        final Runnable forget;
        if (http.isPresent())
        {
            final String token = http.get().getToken();
            http01.put(token, http.get().getAuthorization());
            challenge = http.get();
            forget = () -> http01.remove(token);
        }
        else
        {
            final TlsAlpn01Challenge alpn = authorization.findChallenge(TlsAlpn01Challenge.class).orElseThrow(() ->
                new AcmeException("the CA offers no " + (settings.http01() ? "http-01 or " : "") +
                    "tls-alpn-01 challenge for " + authorization.getIdentifier().getValue()));
            final String name = authorization.getIdentifier().getValue().toLowerCase(java.util.Locale.ROOT);
            if (!Identifier.TYPE_DNS.equals(authorization.getIdentifier().getType()))
            {
                throw new AcmeException("tls-alpn-01 for an IP address is not supported; give the plain HTTP port " +
                    "(-http-port) for http-01");
            }
            tlsAlpn01.put(name, AcmeTlsAlpnContext.create(alpn, authorization.getIdentifier()));
            challenge = alpn;
            forget = () -> tlsAlpn01.remove(name);
        }
        try
        {
            challenge.trigger();
            final Status status = authorization.waitForCompletion(CHALLENGE_WAIT);
            if (Status.VALID != status)
            {
                throw new AcmeException(challenge.getType() + " for " + authorization.getIdentifier().getValue() +
                    " ended " + status + challenge.getError().map(e -> ": " + e).orElse("") + (http.isPresent() ?
                        " (the CA must reach this server on port 80 at /.well-known/acme-challenge/)" :
                        " (the CA must reach this server's TLS port with ALPN acme-tls/1)"));
            }
        }
        finally
        {
            forget.run();
        }
    }

    /** The ACME account key, made once and kept in the cert dir so renewals use the same account. */
    private KeyPair accountKey() throws IOException
    {
        final Path file = settings.certdir().resolve(ACCOUNT_KEY_FILE);
        if (Files.exists(file))
        {
            try (java.io.Reader reader = Files.newBufferedReader(file))
            {
                return KeyPairUtils.readKeyPair(reader);
            }
        }
        final KeyPair key = KeyPairUtils.createKeyPair();
        final java.io.StringWriter pem = new java.io.StringWriter();
        KeyPairUtils.writeKeyPair(key, pem);
        PemFiles.createDirectories(settings.certdir());
        PemFiles.writeAtomically(file, pem.toString().getBytes(StandardCharsets.US_ASCII), true);
        return key;
    }

    private void store(final ServerCertificate certificate) throws IOException
    {
        PemFiles.createDirectories(settings.certdir());
        final ByteArrayOutputStream chain = new ByteArrayOutputStream();
        try
        {
            for (final X509Certificate c : certificate.chain())
            {
                chain.write(PemFiles.toPem(PemFiles.CERTIFICATE, c.getEncoded()));
            }
        }
        catch (final CertificateEncodingException ex)
        {
            throw new IOException("cannot encode the issued certificate", ex);
        }
        // Key first: a crash in between leaves a pair that does not load, and the next start asks again.
        PemFiles.writeAtomically(keyFile, PemFiles.toPem(PemFiles.PKCS8_PRIVATE_KEY, certificate.key().getEncoded()),
            true);
        PemFiles.writeAtomically(certificateFile, chain.toByteArray(), false);
    }

    @Override
    public String toString()
    {
        return "AcmeCertificates{" + identifier.getValue() + " from " + settings.directory() + '}';
    }
}
