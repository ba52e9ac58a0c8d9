package io.jderper.transport.client;

import io.jderper.core.key.KeyHex;
import io.jderper.core.key.NodePrivateKey;
import io.jderper.core.protocol.ProtocolLimits;

import java.net.InetAddress;
import java.net.URI;
import java.util.Locale;
import java.util.Objects;

/**
 * What one DERP client connection is: where it goes, who it is and how it talks. Built with {@link #builder}, whose
 * fluent setters are checked in {@link Builder#build()}; immutable after that and safe to share.
 */
public final class DerpClientOptions
{
    /** Default bound on DNS, TCP, TLS, HTTP upgrade and DERP handshake together, as Tailscale's client (§8.6). */
    public static final long DEFAULT_HANDSHAKE_TIMEOUT_MS = ProtocolLimits.HANDSHAKE_TIMEOUT_MS;
    /** Default bound on a ready connection's silence: a dead server (no FIN, no RST) is noticed, as in Go. */
    public static final long DEFAULT_READ_TIMEOUT_MS = ProtocolLimits.CLIENT_READ_TIMEOUT_MS;

    private final URI url;
    private final boolean tls;
    private final String host;
    private final String dialHost;
    private final int port;
    private final String requestTarget;
    private final NodePrivateKey privateKey;
    private final DerpTrust trust;
    private final InetAddress localAddress;
    private final boolean fastStart;
    private final boolean canAckPings;
    private final boolean prober;
    private final byte[] meshKey;
    private final String idealNode;
    private final String bearerToken;
    private final long handshakeTimeoutMs;
    private final long readTimeoutMs;

    private DerpClientOptions(final Builder builder, final String host, final int port, final String requestTarget)
    {
        this.url = builder.url;
        this.tls = "https".equals(builder.url.getScheme().toLowerCase(Locale.ROOT));
        this.host = host;
        this.dialHost = null == builder.dialHost ? host : builder.dialHost;
        this.port = port;
        this.requestTarget = requestTarget;
        this.privateKey = builder.privateKey;
        this.trust = builder.trust;
        this.localAddress = builder.localAddress;
        this.fastStart = builder.fastStart;
        this.canAckPings = builder.canAckPings;
        this.prober = builder.prober;
        this.meshKey = null == builder.meshKey ? null : builder.meshKey.clone();
        this.idealNode = builder.idealNode;
        this.bearerToken = builder.bearerToken;
        this.handshakeTimeoutMs = builder.handshakeTimeoutMs;
        this.readTimeoutMs = builder.readTimeoutMs;
    }

    /**
     * @param url        {@code https://host[:port]/derp} (TLS, port 443 by default) or {@code http://host[:port]/derp}
     *                   (plain, port 80 by default).
     * @param privateKey the client's node key; its public half is the client's DERP address.
     * @return a builder with Tailscale's defaults: system trust, fast start allowed, CanAckPings, 10 s handshake.
     */
    public static Builder builder(final URI url, final NodePrivateKey privateKey)
    {
        return new Builder(url, privateKey);
    }

    /**
     * @return the bearer token sent with the upgrade request, or null.
     */
    public String bearerToken()
    {
        return bearerToken;
    }

    /**
     * @return where the TCP connection goes: the URL's host unless a dial host was given.
     */
    public String dialHost()
    {
        return dialHost;
    }

    /**
     * @return the URL as given.
     */
    public URI url()
    {
        return url;
    }

    /**
     * @return whether the connection runs over TLS ({@code https}).
     */
    public boolean tls()
    {
        return tls;
    }

    /**
     * @return the host name or IP literal, without IPv6 brackets.
     */
    public String host()
    {
        return host;
    }

    /**
     * @return the TCP port.
     */
    public int port()
    {
        return port;
    }

    /**
     * @return the path and query sent in the request line, {@code /derp} by default.
     */
    public String requestTarget()
    {
        return requestTarget;
    }

    /**
     * @return the value of the Host header: host, bracketed if IPv6, plus the port unless it is the scheme's default.
     */
    public String hostHeader()
    {
        final String name = host.indexOf(':') >= 0 ? "[" + host + "]" : host;
        return port == (tls ? 443 : 80) ? name : name + ":" + port;
    }

    /**
     * @return the client's private key.
     */
    public NodePrivateKey privateKey()
    {
        return privateKey;
    }

    /**
     * @return how the server certificate is checked (TLS only).
     */
    public DerpTrust trust()
    {
        return trust;
    }

    /**
     * @return the local address to bind before connecting, or null for the system's choice.
     */
    public InetAddress localAddress()
    {
        return localAddress;
    }

    /**
     * @return whether fast start may be used when the server presents a meta certificate over TLS 1.3.
     */
    public boolean fastStart()
    {
        return fastStart;
    }

    /**
     * @return whether ClientInfo promises to answer server Pings (answered automatically if so).
     */
    public boolean canAckPings()
    {
        return canAckPings;
    }

    /**
     * @return whether ClientInfo says {@code IsProber}.
     */
    public boolean prober()
    {
        return prober;
    }

    /**
     * @return a copy of the 32-byte mesh key, or null.
     */
    public byte[] meshKey()
    {
        return null == meshKey ? null : meshKey.clone();
    }

    /**
     * @return the Ideal-Node header value, or null to send none.
     */
    public String idealNode()
    {
        return idealNode;
    }

    /**
     * @return the bound on the whole connect and handshake, in milliseconds.
     */
    public long handshakeTimeoutMs()
    {
        return handshakeTimeoutMs;
    }

    /**
     * @return how long a ready connection may go without a byte from the server before the client gives up on it,
     *     in milliseconds.
     */
    public long readTimeoutMs()
    {
        return readTimeoutMs;
    }

    /**
     * The ClientInfo JSON, with fields in the order Go emits them (spec §2.7).
     *
     * @return e.g. {@code {"version":2,"CanAckPings":true}}.
     */
    public String clientInfoJson()
    {
        final StringBuilder json = new StringBuilder(160).append('{');
        if (null != meshKey)
        {
            json.append("\"meshKey\":\"").append(KeyHex.encode(meshKey)).append("\",");
        }
        json.append("\"version\":").append(ProtocolLimits.PROTOCOL_VERSION)
            .append(",\"CanAckPings\":").append(canAckPings);
        if (prober)
        {
            json.append(",\"IsProber\":true");
        }
        return json.append('}').toString();
    }

    @Override
    public String toString()
    {
        return "DerpClientOptions{url=" + url + ", key=" + privateKey.publicKey().toShortString() +
            (tls ? ", trust=" + trust : "") + (null == localAddress ? "" : ", local=" + localAddress.getHostAddress()) +
            (dialHost.equals(host) ? "" : ", dial=" + dialHost) +
            ", fastStart=" + fastStart + ", canAckPings=" + canAckPings + ", prober=" + prober +
            ", mesh=" + (null != meshKey) + ", handshakeTimeoutMs=" + handshakeTimeoutMs +
            ", readTimeoutMs=" + readTimeoutMs + '}';
    }

    /**
     * Fluent, unchecked settings; {@link #build()} validates them.
     */
    public static final class Builder
    {
        private final URI url;
        private final NodePrivateKey privateKey;
        private DerpTrust trust = DerpTrust.system();
        private InetAddress localAddress;
        private boolean fastStart = true;
        private boolean canAckPings = true;
        private boolean prober;
        private byte[] meshKey;
        private String idealNode;
        private String dialHost;
        private String bearerToken;
        private long handshakeTimeoutMs = DEFAULT_HANDSHAKE_TIMEOUT_MS;
        private long readTimeoutMs = DEFAULT_READ_TIMEOUT_MS;

        private Builder(final URI url, final NodePrivateKey privateKey)
        {
            this.url = Objects.requireNonNull(url, "url");
            this.privateKey = Objects.requireNonNull(privateKey, "privateKey");
        }

        /**
         * @param trust how to check the server certificate; ignored for {@code http}.
         * @return this.
         */
        public Builder trust(final DerpTrust trust)
        {
            this.trust = Objects.requireNonNull(trust, "trust");
            return this;
        }

        /**
         * @param localAddress source address to bind (any free port), e.g. one of 127.0.0.x so that many
         *                     connections to one server do not exhaust one address's ports; null for none.
         * @return this.
         */
        public Builder localAddress(final InetAddress localAddress)
        {
            this.localAddress = localAddress;
            return this;
        }

        /**
         * @param fastStart false to always wait for the 101 and the ServerKey frame.
         * @return this.
         */
        public Builder fastStart(final boolean fastStart)
        {
            this.fastStart = fastStart;
            return this;
        }

        /**
         * @param canAckPings whether to promise (and give) Pong answers to server Pings.
         * @return this.
         */
        public Builder canAckPings(final boolean canAckPings)
        {
            this.canAckPings = canAckPings;
            return this;
        }

        /**
         * @param prober whether to announce {@code IsProber}.
         * @return this.
         */
        public Builder prober(final boolean prober)
        {
            this.prober = prober;
            return this;
        }

        /**
         * @param meshKey 32-byte mesh key for privileged (mesh) connections, or null.
         * @return this.
         */
        public Builder meshKey(final byte[] meshKey)
        {
            this.meshKey = null == meshKey ? null : meshKey.clone();
            return this;
        }

        /**
         * @param idealNode value of an {@code Ideal-Node} header (the server then flags the connection NotIdeal), or
         *                  null for none.
         * @return this.
         */
        public Builder idealNode(final String idealNode)
        {
            this.idealNode = idealNode;
            return this;
        }

        /**
         * @param bearerToken a token for jderper's {@code -bearer-token-file} admission, sent as
         *                    {@code Authorization: Bearer} in the upgrade request; null for none (Tailscale's
         *                    clients never send one).
         * @return this.
         */
        public Builder bearerToken(final String bearerToken)
        {
            this.bearerToken = bearerToken;
            return this;
        }

        /**
         * @param dialHost host name or IP to open the TCP connection to instead of the URL's host, which still names
         *                 the server for SNI, certificate checks and the Host header (derper's
         *                 {@code -mesh-with host/dialhost}); null to dial the URL's host.
         * @return this.
         */
        public Builder dialHost(final String dialHost)
        {
            this.dialHost = dialHost;
            return this;
        }

        /**
         * @param handshakeTimeoutMs bound on the whole connect and handshake, in milliseconds.
         * @return this.
         */
        public Builder handshakeTimeoutMs(final long handshakeTimeoutMs)
        {
            this.handshakeTimeoutMs = handshakeTimeoutMs;
            return this;
        }

        /**
         * @param readTimeoutMs how long a ready connection may go without a byte from the server, in milliseconds;
         *                      servers send KeepAlive every 60 s, so the default is twice that, as Go's client.
         * @return this.
         */
        public Builder readTimeoutMs(final long readTimeoutMs)
        {
            this.readTimeoutMs = readTimeoutMs;
            return this;
        }

        /**
         * @return the checked options.
         * @throws IllegalArgumentException naming the bad setting.
         */
        public DerpClientOptions build()
        {
            final String scheme = null == url.getScheme() ? "" : url.getScheme().toLowerCase(Locale.ROOT);
            if (!"https".equals(scheme) && !"http".equals(scheme))
            {
                throw new IllegalArgumentException("url=" + url + ": scheme must be https or http");
            }
            String host = url.getHost();
            if (null == host || host.isEmpty())
            {
                throw new IllegalArgumentException("url=" + url + ": no host");
            }
            if (host.startsWith("[") && host.endsWith("]"))
            {
                host = host.substring(1, host.length() - 1);
            }
            final int port = -1 == url.getPort() ? ("https".equals(scheme) ? 443 : 80) : url.getPort();
            final String path = null == url.getRawPath() || url.getRawPath().isEmpty() ? "/derp" : url.getRawPath();
            final String target = null == url.getRawQuery() ? path : path + "?" + url.getRawQuery();
            if (null != meshKey && meshKey.length != ProtocolLimits.KEY_LENGTH)
            {
                throw new IllegalArgumentException("meshKey.length=" + meshKey.length + ", want 32");
            }
            if (null != idealNode && (idealNode.indexOf('\r') >= 0 || idealNode.indexOf('\n') >= 0))
            {
                throw new IllegalArgumentException("idealNode must not contain line breaks");
            }
            if (null != dialHost && (dialHost.isEmpty() || dialHost.chars().anyMatch(c -> c <= ' ' || c == '/')))
            {
                throw new IllegalArgumentException("dialHost='" + dialHost + "': want a host name or IP address");
            }
            if (null != bearerToken && (bearerToken.isBlank() ||
                bearerToken.chars().anyMatch(c -> c <= ' ' || c >= 0x7F)))
            {
                throw new IllegalArgumentException("bearerToken must be printable ASCII without spaces");
            }
            if (handshakeTimeoutMs <= 0)
            {
                throw new IllegalArgumentException("handshakeTimeoutMs=" + handshakeTimeoutMs + ", must be > 0");
            }
            if (readTimeoutMs <= 0)
            {
                throw new IllegalArgumentException("readTimeoutMs=" + readTimeoutMs + ", must be > 0");
            }
            return new DerpClientOptions(this, host, port, target);
        }
    }
}
