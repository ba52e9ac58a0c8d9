package io.jderper.transport.client;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Path;
import java.security.SecureRandom;
import java.time.Duration;
import java.util.concurrent.TimeUnit;

import io.jderper.core.key.NodePrivateKey;
import io.jderper.core.protocol.ProtocolLimits;
import io.jderper.core.ratelimit.ReceiveRateLimit;
import io.netty.channel.EventLoopGroup;
import org.agrona.concurrent.UnsafeBuffer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The per-client receive rate limit over real connections: a client sending faster than its limit is slowed down
 * (TCP back-pressure, nothing dropped); a mesh peer is not charged.
 */
class ReceiveRateLimitTest
{
    private static final int PACKETS = 20;
    private static final long RATE = 1_000_000;

    @TempDir
    Path certdir;

    @Test
    void shouldSlowAFloodingClientToItsLimitWithoutDroppingAndLeaveMeshPeersAlone() throws Exception
    {
        final byte[] meshKey = new byte[32];
        final SecureRandom random = new SecureRandom();
        random.nextBytes(meshKey);
        meshKey[0] |= 1;
        final EventLoopGroup group = DerpClients.newEventLoopGroup(1);
        try (ClientTestRelay relay = ClientTestRelay.tlsWithMeshKey(certdir, meshKey);
            DerpClients clients = DerpClients.builder(group).build())
        {
            relay.server.settings().router().setReceiveRateLimit(ReceiveRateLimit.of(RATE, 0));
            final Recorder receiving = new Recorder();
            final DerpClient receiver = clients.connect(DerpClientOptions.builder(relay.url(),
                NodePrivateKey.generate(random)).trust(relay.pin()).build(), receiving).get(10, TimeUnit.SECONDS);
            final DerpClient flooder = clients.connect(DerpClientOptions.builder(relay.url(),
                NodePrivateKey.generate(random)).trust(relay.pin()).build(), new Recorder()).get(10, TimeUnit.SECONDS);
            final UnsafeBuffer destination = new UnsafeBuffer(receiver.publicKey().toBytes());
            final UnsafeBuffer packet = new UnsafeBuffer(new byte[ProtocolLimits.MAX_PACKET_SIZE]);

            final long started = System.nanoTime();
            flooder.eventLoop().execute(() ->
            {
                for (int i = 0; i < PACKETS; i++)
                {
                    flooder.sendPacket(destination, 0, packet, 0, packet.capacity());
                }
                flooder.flush();
            });
            for (int i = 0; i < PACKETS; i++)
            {
                assertThat(Recorder.next(receiving.packets).source()).isEqualTo(flooder.publicKey());
            }
            final Duration took = Duration.ofNanos(System.nanoTime() - started);

            // 20 frames of 65,568 bytes at 1 MB/s from a full 65,568-byte bucket: at least 1.25 s.
            assertThat(took).as("delivery paced by the limit").isGreaterThan(Duration.ofMillis(1_200));
            assertThat(relay.metrics.rateLimitWaited.sum()).isGreaterThanOrEqualTo(PACKETS - 2);
            assertThat(relay.metrics.packetsSent.sum()).isEqualTo(PACKETS);

            final long waitedBefore = relay.metrics.rateLimitWaited.sum();
            final Recorder meshRecorder = new Recorder();
            final DerpClient mesh = clients.connect(DerpClientOptions.builder(relay.url(),
                NodePrivateKey.generate(random)).trust(relay.pin()).meshKey(meshKey).build(), meshRecorder)
                .get(10, TimeUnit.SECONDS);
            final long meshStarted = System.nanoTime();
            mesh.eventLoop().execute(() ->
            {
                for (int i = 0; i < PACKETS; i++)
                {
                    mesh.sendPacket(destination, 0, packet, 0, packet.capacity());
                }
                mesh.flush();
            });
            for (int i = 0; i < PACKETS; i++)
            {
                assertThat(Recorder.next(receiving.packets).source()).isEqualTo(mesh.publicKey());
            }
            assertThat(relay.metrics.rateLimitWaited.sum()).as("mesh peers are exempt").isEqualTo(waitedBefore);
            // 1.3 MB on loopback: far below a second unless something waits for the loop's 250 ms tick (a receiver
            // whose buffer filled was once drained only then).
            assertThat(Duration.ofNanos(System.nanoTime() - meshStarted)).isLessThan(Duration.ofSeconds(3));
        }
        finally
        {
            group.shutdownGracefully(0, 1, TimeUnit.SECONDS).syncUninterruptibly();
        }
    }
}
