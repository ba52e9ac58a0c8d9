package io.jderper.core.router;

import static org.assertj.core.api.Assertions.assertThat;

import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.security.SecureRandom;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

import io.jderper.core.admission.AdmissionPolicy;
import io.jderper.core.crypto.NaclBox;
import io.jderper.core.handshake.ServerHandshake;
import io.jderper.core.key.KeyHex;
import io.jderper.core.key.NodePrivateKey;
import io.jderper.core.protocol.FrameType;
import org.agrona.concurrent.CachedNanoClock;
import org.agrona.concurrent.UnsafeBuffer;

/**
 * A relay core wired to fakes: one router, any number of loops (each a {@link TaskQueue} standing in for an event
 * loop), a manual clock, and clients that log in with a real sealed ClientInfo.
 */
final class RelayHarness
{
    static final String TAILSCALED_JSON = "{\"version\":2,\"CanAckPings\":true}";
    static final byte[] DISCO_MAGIC = {0x54, 0x53, (byte)0xF0, (byte)0x9F, (byte)0x92, (byte)0xAC};
    static final long MS = 1_000_000L;

    final SecureRandom random = new SecureRandom();
    final NodePrivateKey serverKey = NodePrivateKey.generate(random);
    final byte[] meshKey = new byte[32];
    final RelayMetrics metrics = new RelayMetrics();
    final CachedNanoClock clock = new CachedNanoClock();
    final TestFrames frames = new TestFrames();
    final RelayConfig config;
    final Router<TestFrame> router;
    final List<Client> clients = new ArrayList<>();
    final List<Loop> loops = new ArrayList<>();

    RelayHarness(final RelayConfig config, final AdmissionPolicy admission)
    {
        random.nextBytes(meshKey);
        meshKey[0] |= 1;
        this.config = config;
        this.router = new Router<>(new ServerHandshake(serverKey, Optional.of(meshKey), random), admission, config,
            metrics);
        clock.update(1_000_000 * MS);
    }

    RelayHarness(final RelayConfig config)
    {
        this(config, AdmissionPolicy.ADMIT_ALL);
    }

    RelayHarness()
    {
        this(RelayConfig.defaults(2_000));
    }

    static RelayConfig config(final long writeTimeoutMs, final long handshakeTimeoutMs, final long keepAliveMs,
        final long keepAliveJitterMs)
    {
        return new RelayConfig(32, writeTimeoutMs, handshakeTimeoutMs, keepAliveMs, keepAliveJitterMs, 64, 16);
    }

    Loop newLoop()
    {
        final Loop loop = new Loop(this);
        loops.add(loop);
        return loop;
    }

    void advanceMs(final long ms)
    {
        clock.advance(ms * MS);
    }

    /** Runs every loop's queued tasks until all are idle. */
    void runAllTasks()
    {
        for (int pass = 0; pass < 100; pass++)
        {
            int ran = 0;
            for (final Loop loop : loops)
            {
                ran += loop.tasks.runAll();
            }
            if (0 == ran)
            {
                return;
            }
        }
        throw new AssertionError("loops never went idle");
    }

    /** Closes every connection as a transport would at shutdown, then checks no frame leaked. */
    void shutdownAndAssertNoLeak()
    {
        for (final Client client : clients)
        {
            client.channel.close();
        }
        runAllTasks();
        for (final Client client : clients)
        {
            client.session.onClosed();
        }
        runAllTasks();
        frames.assertNoLeak();
    }

    byte[] clientInfoPayload(final NodePrivateKey key, final String json)
    {
        final byte[] box = NaclBox.seal(key, serverKey.publicKey().toBytes(), json.getBytes(StandardCharsets.UTF_8),
            random);
        final byte[] payload = new byte[32 + box.length];
        key.publicKey().copyTo(payload, 0);
        System.arraycopy(box, 0, payload, 32, box.length);
        return payload;
    }

    String meshJson()
    {
        return "{\"meshKey\":\"" + KeyHex.encode(meshKey) + "\",\"version\":2,\"CanAckPings\":false}";
    }

    static byte[] data(final int length, final int tag)
    {
        final byte[] data = new byte[length];
        for (int i = 0; i < length; i++)
        {
            data[i] = (byte)(tag + i);
        }
        return data;
    }

    static byte[] disco(final int length, final int tag)
    {
        final byte[] data = data(length, tag);
        System.arraycopy(DISCO_MAGIC, 0, data, 0, DISCO_MAGIC.length);
        return data;
    }

    /** One event loop of the relay. */
    static final class Loop
    {
        final RelayHarness harness;
        final TaskQueue tasks = new TaskQueue();
        final RelayLoop<TestFrame> relay;

        Loop(final RelayHarness harness)
        {
            this.harness = harness;
            this.relay = new RelayLoop<>(harness.router, tasks, harness.frames, harness.clock);
        }

        /** A connection past the upgrade, ClientInfo not yet sent. */
        Client accept(final NodePrivateKey key, final InetSocketAddress remote, final boolean notIdeal)
        {
            final TestChannel channel = new TestChannel(tasks);
            final ClientSession<TestFrame> session = relay.newSession(channel, remote, notIdeal);
            channel.session = session;
            final Client client = new Client(this, key, channel, session);
            harness.clients.add(client);
            return client;
        }

        Client accept(final NodePrivateKey key)
        {
            return accept(key, new InetSocketAddress("198.51.100.7", 41641), false);
        }

        /** Logs a new key in, with tailscaled's ClientInfo. */
        Client connect()
        {
            return connect(NodePrivateKey.generate(harness.random));
        }

        Client connect(final NodePrivateKey key)
        {
            final Client client = accept(key);
            client.sendClientInfo(TAILSCALED_JSON);
            assertThat(client.session.isEstablished()).as("established").isTrue();
            return client;
        }

        Client connectMesh()
        {
            final Client client = accept(NodePrivateKey.generate(harness.random));
            client.sendClientInfo(harness.meshJson());
            assertThat(client.session.isMeshPrivileged()).isTrue();
            return client;
        }
    }

    /** A client: its key, the fake channel, and the session the relay made for it. */
    static final class Client
    {
        final Loop loop;
        final NodePrivateKey key;
        final TestChannel channel;
        final ClientSession<TestFrame> session;

        Client(final Loop loop, final NodePrivateKey key, final TestChannel channel,
            final ClientSession<TestFrame> session)
        {
            this.loop = loop;
            this.key = key;
            this.channel = channel;
            this.session = session;
        }

        byte[] publicKey()
        {
            return key.publicKey().toBytes();
        }

        void sendClientInfo(final String json)
        {
            final byte[] payload = loop.harness.clientInfoPayload(key, json);
            final byte[] holder = new byte[payload.length + 9];
            System.arraycopy(payload, 0, holder, 5, payload.length);
            session.onClientInfo(FrameType.CLIENT_INFO, new UnsafeBuffer(holder), 5, payload.length);
        }

        /**
         * Does what the transport does for one SendPacket: begin with the key and data head, append the data into
         * the returned frame, complete.
         *
         * @return the frame, or null if the core dropped the packet.
         */
        TestFrame send(final byte[] destination, final byte[] data)
        {
            final byte[] head = new byte[3 + 32 + Math.min(6, data.length)];
            System.arraycopy(destination, 0, head, 3, 32);
            System.arraycopy(data, 0, head, 3 + 32, Math.min(6, data.length));
            final TestFrame frame = session.beginSendPacket(new UnsafeBuffer(head), 3, data.length);
            if (null != frame)
            {
                frame.fill(data);
                session.completePacket(frame);
            }
            return frame;
        }

        /** Does what the transport does for one ForwardPacket from a mesh peer. */
        TestFrame forward(final byte[] source, final byte[] destination, final byte[] data)
        {
            final byte[] head = new byte[3 + 64 + Math.min(6, data.length)];
            System.arraycopy(source, 0, head, 3, 32);
            System.arraycopy(destination, 0, head, 3 + 32, 32);
            System.arraycopy(data, 0, head, 3 + 64, Math.min(6, data.length));
            final TestFrame frame = session.beginForwardPacket(new UnsafeBuffer(head), 3, data.length);
            if (null != frame)
            {
                frame.fill(data);
                session.completePacket(frame);
            }
            return frame;
        }

        TestFrame send(final Client destination, final byte[] data)
        {
            return send(destination.publicKey(), data);
        }

        void frame(final byte type, final byte[] payload)
        {
            final byte[] holder = new byte[payload.length + 2];
            System.arraycopy(payload, 0, holder, 2, payload.length);
            session.onFrame(type, new UnsafeBuffer(holder), 2, payload.length);
        }

        void setWritable(final boolean writable)
        {
            channel.writable = writable;
            session.onWritabilityChanged(writable);
        }
    }
}
