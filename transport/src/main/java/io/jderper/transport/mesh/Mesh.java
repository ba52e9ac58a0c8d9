package io.jderper.transport.mesh;

import io.jderper.core.key.NodePrivateKey;
import io.jderper.core.router.Router;
import io.jderper.tls.TlsProvider;
import io.jderper.transport.client.DerpClients;
import io.jderper.transport.client.DerpTrust;
import io.netty.buffer.ByteBuf;
import io.netty.channel.EventLoopGroup;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * This node's side of a multi-node region (spec §4.7): one {@link MeshPeer} per {@code -mesh-with} entry, their
 * connections on one event loop of their own, so a slow peer never holds up a relay loop.
 */
public final class Mesh implements AutoCloseable
{
    /**
     * Go's {@code SSL_CERT_FILE}: derper's mesh client trusts the CAs in this file instead of the system's. jderper
     * does the same, so a region of derper and jderper nodes shares one trust set-up.
     */
    public static final String CERT_FILE_VARIABLE = "SSL_CERT_FILE";

    private static final Logger LOG = LoggerFactory.getLogger(Mesh.class);

    private final EventLoopGroup group;
    private final DerpClients clients;
    private final List<MeshPeer> peers;

    private Mesh(final EventLoopGroup group, final DerpClients clients, final List<MeshPeer> peers)
    {
        this.group = group;
        this.clients = clients;
        this.peers = peers;
    }

    /**
     * Dials every peer; returns at once.
     *
     * @param addresses   the {@code -mesh-with} entries (this server may be among them).
     * @param serverKey   this server's key.
     * @param meshKey     the region's mesh key.
     * @param trust       how peers' certificates are checked.
     * @param tlsProvider TLS engine for the connections.
     * @param router      where remote keys are registered.
     * @return the running mesh.
     */
    public static Mesh start(final List<MeshPeerAddress> addresses, final NodePrivateKey serverKey,
        final byte[] meshKey, final DerpTrust trust, final TlsProvider tlsProvider, final Router<ByteBuf> router)
    {
        final EventLoopGroup group = DerpClients.newEventLoopGroup(1);
        final DerpClients clients = DerpClients.builder(group).tlsProvider(tlsProvider).build();
        final List<MeshPeer> peers = new ArrayList<>();
        for (final MeshPeerAddress address : addresses)
        {
            final MeshPeer peer = new MeshPeer(address, clients, serverKey, meshKey, trust, router);
            peers.add(peer);
            peer.start();
        }
        LOG.info("meshing with {} peer(s), trusting {}", peers.size(), trust);
        return new Mesh(group, clients, List.copyOf(peers));
    }

    /**
     * @param environment the process environment.
     * @return trust in {@code SSL_CERT_FILE}'s CAs if it is set, else the system's, as Go's TLS does.
     */
    public static DerpTrust trustFrom(final Map<String, String> environment)
    {
        final String file = environment.get(CERT_FILE_VARIABLE);
        return null == file || file.isEmpty() ? DerpTrust.system() : DerpTrust.caFile(Path.of(file));
    }

    /**
     * @return the peers, in {@code -mesh-with} order.
     */
    public List<MeshPeer> peers()
    {
        return peers;
    }

    @Override
    public void close()
    {
        peers.forEach(MeshPeer::close);
        group.shutdownGracefully(0, 2, TimeUnit.SECONDS).awaitUninterruptibly(5, TimeUnit.SECONDS);
        clients.close();
    }
}
