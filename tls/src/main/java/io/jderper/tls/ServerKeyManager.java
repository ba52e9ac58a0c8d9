package io.jderper.tls;

import java.net.Socket;
import java.security.Principal;
import java.security.PrivateKey;
import java.security.cert.X509Certificate;
import java.util.List;
import java.util.Objects;

import javax.net.ssl.ExtendedSSLSession;
import javax.net.ssl.SNIHostName;
import javax.net.ssl.SNIServerName;
import javax.net.ssl.SSLEngine;
import javax.net.ssl.SSLSession;
import javax.net.ssl.SSLSocket;
import javax.net.ssl.StandardConstants;
import javax.net.ssl.X509ExtendedKeyManager;

/**
 * Server-side key manager that asks a {@link CertificateStore} for each handshake's certificate, passing the
 * client's SNI, and presents the chain with the DERP meta certificate appended: leaf, intermediates…, meta
 * (spec §1.4).
 * <p>
 * Both Conscrypt and the JDK call {@link #chooseEngineServerAlias} after the ClientHello arrived, so the SNI is
 * known; returning null there leaves the handshake without a certificate, which fails it. That is how a store
 * refuses a handshake (spec §5.2).
 * <p>
 * Aliases name a prepared certificate: JSSE first chooses an alias, then asks for its chain and key by name. A
 * store may hand out a new certificate at any time (renewal), so the last few prepared certificates stay reachable
 * under their own alias while handshakes that chose them finish.
 */
public final class ServerKeyManager extends X509ExtendedKeyManager
{
    private static final String ALIAS_PREFIX = "jderper-";
    private static final int REMEMBERED_CERTIFICATES = 8;

    private final CertificateStore store;
    private final X509Certificate metaCertificate;

    private final Object prepareLock = new Object();
    // Newest first; replaced, never mutated, so readers need no lock. Written only under prepareLock.
    private volatile Prepared[] recent = new Prepared[0];
    private long generation; // guarded by prepareLock

    /**
     * @param store           chooses the certificate, or refuses, for each handshake.
     * @param metaCertificate appended after every chain, from {@link MetaCertificate#create(String)}.
     */
    public ServerKeyManager(final CertificateStore store, final X509Certificate metaCertificate)
    {
        this.store = Objects.requireNonNull(store, "store");
        this.metaCertificate = Objects.requireNonNull(metaCertificate, "metaCertificate");
    }

    /**
     * @return the alias of the store's certificate for this handshake's SNI, or null to fail the handshake when
     * the store refuses or the certificate's key does not fit the key type asked for.
     */
    @Override
    public String chooseEngineServerAlias(final String keyType, final Principal[] issuers, final SSLEngine engine)
    {
        return chooseAlias(keyType, null == engine ? null : engine.getHandshakeSession());
    }

    /**
     * @return as {@link #chooseEngineServerAlias}, for socket-based servers.
     */
    @Override
    public String chooseServerAlias(final String keyType, final Principal[] issuers, final Socket socket)
    {
        return chooseAlias(keyType, socket instanceof final SSLSocket ssl ? ssl.getHandshakeSession() : null);
    }

    /**
     * @return the chain for the alias, leaf first and meta certificate last, or null for an unknown alias.
     */
    @Override
    public X509Certificate[] getCertificateChain(final String alias)
    {
        final Prepared prepared = find(alias);
        return null == prepared ? null : prepared.chain.clone();
    }

    /**
     * @return the private key for the alias, or null for an unknown alias.
     */
    @Override
    public PrivateKey getPrivateKey(final String alias)
    {
        final Prepared prepared = find(alias);
        return null == prepared ? null : prepared.certificate.key();
    }

    /**
     * @return null: the alias depends on each handshake's SNI, so there is no fixed list.
     */
    @Override
    public String[] getServerAliases(final String keyType, final Principal[] issuers)
    {
        return null;
    }

    /**
     * @return null: a relay never authenticates as a TLS client.
     */
    @Override
    public String[] getClientAliases(final String keyType, final Principal[] issuers)
    {
        return null;
    }

    /**
     * @return null: a relay never authenticates as a TLS client.
     */
    @Override
    public String chooseClientAlias(final String[] keyTypes, final Principal[] issuers, final Socket socket)
    {
        return null;
    }

    /**
     * @return null: a relay never authenticates as a TLS client.
     */
    @Override
    public String chooseEngineClientAlias(final String[] keyTypes, final Principal[] issuers, final SSLEngine engine)
    {
        return null;
    }

    private String chooseAlias(final String keyType, final SSLSession handshakeSession)
    {
        final ServerCertificate certificate = store.select(requestedServerName(handshakeSession));
        if (null == certificate || !keyTypeFits(keyType, certificate.key().getAlgorithm()))
        {
            return null;
        }
        return prepare(certificate).alias;
    }

    private Prepared prepare(final ServerCertificate certificate)
    {
        for (final Prepared prepared : recent)
        {
            if (prepared.certificate == certificate)
            {
                return prepared;
            }
        }
        synchronized (prepareLock)
        {
            final Prepared[] current = recent;
            for (final Prepared prepared : current)
            {
                if (prepared.certificate == certificate)
                {
                    return prepared;
                }
            }
            final Prepared prepared =
                new Prepared(ALIAS_PREFIX + ++generation, certificate, withMeta(certificate.chain()));
            final Prepared[] next = new Prepared[Math.min(current.length + 1, REMEMBERED_CERTIFICATES)];
            next[0] = prepared;
            System.arraycopy(current, 0, next, 1, next.length - 1);
            recent = next;
            return prepared;
        }
    }

    private Prepared find(final String alias)
    {
        for (final Prepared prepared : recent)
        {
            if (prepared.alias.equals(alias))
            {
                return prepared;
            }
        }
        return null;
    }

    private X509Certificate[] withMeta(final List<X509Certificate> chain)
    {
        final X509Certificate[] withMeta = chain.toArray(new X509Certificate[chain.size() + 1]);
        withMeta[chain.size()] = metaCertificate;
        return withMeta;
    }

    /**
     * Key types arrive as "EC", "RSA", "RSASSA-PSS", "EdDSA", or "EC_EC"-style names for old ECDH suites, where
     * the part before the underscore is the certificate's key.
     */
    static boolean keyTypeFits(final String keyType, final String keyAlgorithm)
    {
        if (null == keyType)
        {
            return true;
        }
        final int underscore = keyType.indexOf('_');
        return Certificates.sameKeyFamily(underscore < 0 ? keyType : keyType.substring(0, underscore), keyAlgorithm);
    }

    static String requestedServerName(final SSLSession handshakeSession)
    {
        if (!(handshakeSession instanceof final ExtendedSSLSession extended))
        {
            return null;
        }
        try
        {
            for (final SNIServerName name : extended.getRequestedServerNames())
            {
                if (StandardConstants.SNI_HOST_NAME == name.getType())
                {
                    return name instanceof final SNIHostName host ?
                        host.getAsciiName() : new SNIHostName(name.getEncoded()).getAsciiName();
                }
            }
        }
        // Some sessions do not implement the method or hold a malformed name; both mean "no usable SNI".
        catch (final UnsupportedOperationException | IllegalArgumentException ex)
        {
            return null;
        }
        return null;
    }

    private record Prepared(String alias, ServerCertificate certificate, X509Certificate[] chain)
    {
    }

    @Override
    public String toString()
    {
        return "ServerKeyManager{store=" + store + ", meta=" + metaCertificate.getSubjectX500Principal() + '}';
    }
}
