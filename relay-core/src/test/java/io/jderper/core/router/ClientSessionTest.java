package io.jderper.core.router;

import static io.jderper.core.router.RelayHarness.MS;
import static io.jderper.core.router.RelayHarness.data;
import static io.jderper.core.router.RelayHarness.disco;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.net.InetAddress;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.atomic.AtomicInteger;

import io.jderper.core.admission.AdmissionDecision;
import io.jderper.core.admission.AdmissionRequest;
import io.jderper.core.admission.DenialReason;
import io.jderper.core.crypto.NaclBox;
import io.jderper.core.key.NodePrivateKey;
import io.jderper.core.key.NodePublicKey;
import io.jderper.core.protocol.FrameType;
import io.jderper.core.protocol.ProtocolException;
import io.jderper.core.protocol.Violation;
import io.jderper.core.ratelimit.ReceiveRateLimit;
import org.agrona.concurrent.UnsafeBuffer;
import org.junit.jupiter.api.Test;

class ClientSessionTest
{
    private static final byte[] KEEP_ALIVE = {0x06, 0, 0, 0, 0};

    private static List<TestFrame> packetsOf(final RelayHarness.Client client)
    {
        return client.channel.packets;
    }

    private static void assertServerInfoFirst(final RelayHarness harness, final RelayHarness.Client client)
    {
        assertThat(client.channel.written).isNotEmpty();
        assertThat(client.channel.written.getFirst()).isInstanceOfSatisfying(byte[].class, frame ->
        {
            assertThat(frame[0]).isEqualTo(FrameType.SERVER_INFO);
            assertThat(Arrays.copyOf(frame, 5)).isEqualTo(HexFormat.of().parseHex("0300000035"));
            final Optional<byte[]> json = NaclBox.open(client.key, harness.serverKey.publicKey().toBytes(), 0, frame,
                5, frame.length - 5);
            assertThat(json).hasValueSatisfying(
                plain -> assertThat(new String(plain, StandardCharsets.UTF_8)).isEqualTo("{\"version\":2}"));
        });
    }

    // ---- Handshake

    @Test
    void shouldSendServerInfoSealedToTheClientAsTheFirstFrame()
    {
        final RelayHarness harness = new RelayHarness();
        final RelayHarness.Loop loop = harness.newLoop();
        final RelayHarness.Client client = loop.accept(NodePrivateKey.generate(harness.random));

        assertThat(client.session.awaitsClientInfo()).isTrue();
        assertThat(client.channel.written).isEmpty();

        client.sendClientInfo(RelayHarness.TAILSCALED_JSON);

        assertServerInfoFirst(harness, client);
        assertThat(client.channel.written).hasSize(1);
        assertThat(client.channel.writesSinceFlush).as("ServerInfo flushed").isZero();
        assertThat(client.session.isEstablished()).isTrue();
        assertThat(client.session.key()).isEqualTo(client.key.publicKey());
        assertThat(client.session.isMeshPrivileged()).isFalse();
        assertThat(harness.router.localKeyCount()).isEqualTo(1);
        assertThat(harness.metrics.currentConnections.get()).isEqualTo(1);
        assertThat(harness.metrics.accepts.sum()).isEqualTo(1);
        assertThat(loop.relay.sessionCount()).isEqualTo(1);
        harness.shutdownAndAssertNoLeak();
    }

    @Test
    void shouldSendServerInfoBeforeAnythingQueuedForTheNewClient()
    {
        final RelayHarness harness = new RelayHarness();
        final RelayHarness.Loop loop = harness.newLoop();
        final RelayHarness.Client sender = loop.connect();
        final NodePrivateKey key = NodePrivateKey.generate(harness.random);
        final RelayHarness.Client client = loop.accept(key);
        client.sendClientInfo(RelayHarness.TAILSCALED_JSON);

        sender.send(client, data(20, 1));
        client.frame(FrameType.PING, new byte[8]);
        loop.relay.flushDirty();

        assertServerInfoFirst(harness, client);
        assertThat(client.channel.written).hasSize(3);
        harness.shutdownAndAssertNoLeak();
    }

    @Test
    void shouldRejectABadClientInfoAndStayUnregistered()
    {
        final RelayHarness harness = new RelayHarness();
        final RelayHarness.Loop loop = harness.newLoop();
        final RelayHarness.Client client = loop.accept(NodePrivateKey.generate(harness.random));
        final byte[] payload = harness.clientInfoPayload(client.key, RelayHarness.TAILSCALED_JSON);
        payload[payload.length - 1] ^= 1;

        assertThatThrownBy(() -> client.session.onClientInfo(FrameType.CLIENT_INFO, new UnsafeBuffer(payload), 0,
            payload.length))
            .isInstanceOfSatisfying(ProtocolException.class,
                ex -> assertThat(ex.violation()).isEqualTo(Violation.CLIENT_INFO_BOX));

        assertThat(client.session.isEstablished()).isFalse();
        assertThat(client.channel.written).isEmpty();
        assertThat(harness.router.localKeyCount()).isZero();
        harness.shutdownAndAssertNoLeak();
    }

    @Test
    void shouldRefuseASecondClientInfo()
    {
        final RelayHarness harness = new RelayHarness();
        final RelayHarness.Client client = harness.newLoop().connect();

        assertThatThrownBy(() -> client.sendClientInfo(RelayHarness.TAILSCALED_JSON))
            .isInstanceOf(IllegalStateException.class);
        assertThat(client.channel.controls(FrameType.SERVER_INFO)).hasSize(1);
        harness.shutdownAndAssertNoLeak();
    }

    @Test
    void shouldCloseASessionThatDoesNotFinishTheHandshakeInTime()
    {
        final RelayHarness harness = new RelayHarness(RelayHarness.config(2_000, 100, 60_000, 0));
        final RelayHarness.Loop loop = harness.newLoop();
        final RelayHarness.Client silent = loop.accept(NodePrivateKey.generate(harness.random));
        final RelayHarness.Client prompt = loop.connect();

        harness.advanceMs(100);
        loop.relay.onTick();
        assertThat(silent.channel.closed).as("exactly at the deadline").isFalse();

        harness.clock.advance(1);
        loop.relay.onTick();

        assertThat(silent.channel.closed).isTrue();
        assertThat(prompt.channel.closed).as("established sessions have no handshake deadline").isFalse();
        assertThat(harness.metrics.violations(Violation.HANDSHAKE_TIMEOUT)).isEqualTo(1);
        assertThat(silent.channel.written).isEmpty();
        harness.runAllTasks();
        assertThat(loop.relay.sessionCount()).isEqualTo(1);
        harness.shutdownAndAssertNoLeak();
    }

    // ---- Admission

    @Test
    void shouldPauseReadingWhileAdmissionIsPendingAndSendServerInfoOnlyWhenAdmitted()
    {
        final CompletableFuture<AdmissionDecision> decision = new CompletableFuture<>();
        final List<NodePublicKey> askedKeys = new ArrayList<>();
        final List<InetAddress> askedAddresses = new ArrayList<>();
        final RelayHarness harness = new RelayHarness(RelayConfig.defaults(2_000), request ->
        {
            askedKeys.add(request.key());
            askedAddresses.add(request.address());
            return decision;
        });
        final RelayHarness.Loop loop = harness.newLoop();
        final RelayHarness.Client client = loop.accept(NodePrivateKey.generate(harness.random));

        client.sendClientInfo(RelayHarness.TAILSCALED_JSON);

        assertThat(askedKeys).containsExactly(client.key.publicKey());
        assertThat(askedAddresses).containsExactly(InetAddress.ofLiteral("198.51.100.7"));
        assertThat(client.session.isAdmitting()).isTrue();
        assertThat(client.channel.reading).isFalse();
        assertThat(client.channel.written).isEmpty();
        assertThat(harness.router.localKeyCount()).isZero();

        decision.complete(AdmissionDecision.ADMITTED);
        assertThat(client.channel.written).as("the decision is handed to the loop, not acted on in place").isEmpty();

        harness.runAllTasks();

        assertServerInfoFirst(harness, client);
        assertThat(client.channel.reading).isTrue();
        assertThat(client.channel.readingChanges).containsExactly(false, true);
        assertThat(client.session.isEstablished()).isTrue();
        assertThat(harness.router.localKeyCount()).isEqualTo(1);
        harness.shutdownAndAssertNoLeak();
    }

    @Test
    void shouldRecordTheHandshakeTimeFromTheUpgradeToServerInfoOnce()
    {
        final CompletableFuture<AdmissionDecision> decision = new CompletableFuture<>();
        final RelayHarness harness = new RelayHarness(RelayConfig.defaults(2_000), request -> decision);
        final RelayHarness.Loop loop = harness.newLoop();
        final RelayHarness.Client client = loop.accept(NodePrivateKey.generate(harness.random));
        final BucketCounts handshakes = harness.metrics.handshakeNanos;

        harness.advanceMs(30);
        client.sendClientInfo(RelayHarness.TAILSCALED_JSON);
        harness.advanceMs(40);
        assertThat(handshakes.sum()).as("not done while admission is pending").isZero();
        decision.complete(AdmissionDecision.ADMITTED);
        harness.runAllTasks();

        assertThat(handshakes.sum()).isEqualTo(70_000_000L);
        assertThat(handshakes.count(handshakes.bucketOf(70_000_000L))).isEqualTo(1);
        assertThat(handshakes.upperBound(handshakes.bucketOf(70_000_000L))).isEqualTo(100_000_000L);
        harness.shutdownAndAssertNoLeak();
    }

    @Test
    void shouldCloseAClientThatIsNotAdmitted()
    {
        final CompletableFuture<AdmissionDecision> decision = new CompletableFuture<>();
        final RelayHarness harness = new RelayHarness(RelayConfig.defaults(2_000), request -> decision);
        final RelayHarness.Loop loop = harness.newLoop();
        final RelayHarness.Client client = loop.accept(NodePrivateKey.generate(harness.random));
        client.sendClientInfo(RelayHarness.TAILSCALED_JSON);

        decision.complete(AdmissionDecision.denied(DenialReason.URL_REFUSED, "test says no"));
        harness.runAllTasks();

        assertThat(client.channel.closed).isTrue();
        assertThat(client.channel.written).isEmpty();
        assertThat(harness.metrics.violations(Violation.NOT_ADMITTED)).isEqualTo(1);
        assertThat(harness.metrics.admissionDenied(DenialReason.URL_REFUSED)).isEqualTo(1);
        assertThat(harness.metrics.admissionDenied(DenialReason.NOT_IN_TAILNET)).isZero();
        assertThat(harness.router.localKeyCount()).isZero();
        assertThat(loop.relay.sessionCount()).isZero();
        harness.shutdownAndAssertNoLeak();
    }

    @Test
    void shouldCloseAClientWhoseAdmissionCheckFails()
    {
        final CompletableFuture<AdmissionDecision> decision = new CompletableFuture<>();
        final RelayHarness harness = new RelayHarness(RelayConfig.defaults(2_000), request -> decision);
        final RelayHarness.Loop loop = harness.newLoop();
        final RelayHarness.Client client = loop.accept(NodePrivateKey.generate(harness.random));
        client.sendClientInfo(RelayHarness.TAILSCALED_JSON);

        decision.completeExceptionally(new IllegalStateException("admission service down"));
        harness.runAllTasks();

        assertThat(client.channel.closed).isTrue();
        assertThat(client.channel.written).isEmpty();
        assertThat(harness.metrics.violations(Violation.NOT_ADMITTED)).isEqualTo(1);
        assertThat(harness.metrics.admissionDenied(DenialReason.ERROR)).isEqualTo(1);
        harness.shutdownAndAssertNoLeak();
    }

    @Test
    void shouldHandTheUpgradeRequestsBearerTokenToAdmissionOnlyOnce()
    {
        final List<AdmissionRequest> asked = new ArrayList<>();
        final RelayHarness harness = new RelayHarness(RelayConfig.defaults(2_000), request ->
        {
            asked.add(request);
            return CompletableFuture.completedFuture(AdmissionDecision.ADMITTED);
        });
        final RelayHarness.Loop loop = harness.newLoop();
        final TestChannel channel = new TestChannel(loop.tasks);
        final ClientSession<TestFrame> session = loop.relay.newSession(channel,
            new java.net.InetSocketAddress("198.51.100.7", 41641), false, "s3cret");
        channel.session = session;
        final NodePrivateKey key = NodePrivateKey.generate(harness.random);
        final byte[] payload = harness.clientInfoPayload(key, RelayHarness.TAILSCALED_JSON);

        session.onClientInfo(FrameType.CLIENT_INFO, new UnsafeBuffer(payload), 0, payload.length);

        assertThat(asked).singleElement().satisfies(request ->
        {
            assertThat(request.bearerToken()).isEqualTo("s3cret");
            assertThat(request.key()).isEqualTo(key.publicKey());
            assertThat(request.toString()).as("logged requests never show the token").doesNotContain("s3cret");
        });
        assertThat(session.isEstablished()).isTrue();
        session.onClosed();
    }

    @Test
    void shouldDecideAtOnceWhenAdmissionIsAlreadyDecided()
    {
        final RelayHarness harness = new RelayHarness(RelayConfig.defaults(2_000),
            request -> CompletableFuture.completedFuture(
                AdmissionDecision.denied(DenialReason.NOT_ALLOWLISTED, "test says no")));
        final RelayHarness.Client refused = harness.newLoop().accept(NodePrivateKey.generate(harness.random));

        refused.sendClientInfo(RelayHarness.TAILSCALED_JSON);

        assertThat(refused.channel.closed).isTrue();
        assertThat(refused.channel.written).isEmpty();
        assertThat(harness.metrics.violations(Violation.NOT_ADMITTED)).isEqualTo(1);
        harness.shutdownAndAssertNoLeak();
    }

    @Test
    void shouldNotTouchReadingWhenAdmissionIsImmediate()
    {
        final RelayHarness harness = new RelayHarness();
        final RelayHarness.Client client = harness.newLoop().accept(NodePrivateKey.generate(harness.random));

        client.sendClientInfo(RelayHarness.TAILSCALED_JSON);

        assertThat(client.session.isEstablished()).isTrue();
        assertThat(client.channel.readingChanges).as("reading was never paused, so never resumed").isEmpty();
        harness.shutdownAndAssertNoLeak();
    }

    @Test
    void shouldTimeOutAPendingAdmissionAndIgnoreItsLateAnswer()
    {
        final CompletableFuture<AdmissionDecision> decision = new CompletableFuture<>();
        final RelayHarness harness = new RelayHarness(RelayHarness.config(2_000, 100, 60_000, 0),
            request -> decision);
        final RelayHarness.Loop loop = harness.newLoop();
        final RelayHarness.Client client = loop.accept(NodePrivateKey.generate(harness.random));
        client.sendClientInfo(RelayHarness.TAILSCALED_JSON);

        harness.advanceMs(101);
        loop.relay.onTick();
        harness.runAllTasks();
        decision.complete(AdmissionDecision.ADMITTED);
        harness.runAllTasks();

        assertThat(client.channel.closed).isTrue();
        assertThat(harness.metrics.violations(Violation.HANDSHAKE_TIMEOUT)).isEqualTo(1);
        assertThat(client.channel.written).as("no ServerInfo after the timeout").isEmpty();
        assertThat(harness.router.localKeyCount()).isZero();
        harness.shutdownAndAssertNoLeak();
    }

    @Test
    void shouldActOnceBetweenCloseAndTheTransportsOnClosed()
    {
        final CompletableFuture<AdmissionDecision> decision = new CompletableFuture<>();
        final RelayHarness harness = new RelayHarness(RelayHarness.config(2_000, 100, 60_000, 0),
            request -> decision);
        final RelayHarness.Loop loop = harness.newLoop();
        final RelayHarness.Client client = loop.accept(NodePrivateKey.generate(harness.random));
        client.sendClientInfo(RelayHarness.TAILSCALED_JSON);

        harness.advanceMs(101);
        loop.relay.onTick();
        // onClosed() is still queued: more ticks and a late admission answer must change nothing.
        harness.advanceMs(101);
        loop.relay.onTick();
        decision.complete(AdmissionDecision.ADMITTED);

        assertThat(client.channel.closeCalls).isEqualTo(1);
        assertThat(harness.metrics.violations(Violation.HANDSHAKE_TIMEOUT)).isEqualTo(1);
        harness.runAllTasks();
        assertThat(client.channel.written).as("no ServerInfo for a closing session").isEmpty();
        assertThat(harness.router.localKeyCount()).isZero();
        harness.shutdownAndAssertNoLeak();
    }

    // ---- Graceful shutdown

    @Test
    void shouldAnnounceTheRestartWriteWhatIsQueuedAndOnlyThenClose()
    {
        final RelayHarness harness = new RelayHarness();
        final RelayHarness.Loop loop = harness.newLoop();
        final RelayHarness.Client sender = loop.connect();
        final RelayHarness.Client slow = loop.connect();
        final RelayHarness.Client handshaking = loop.accept(NodePrivateKey.generate(harness.random));
        slow.setWritable(false);
        sender.send(slow, data(10, 1));
        sender.send(slow, data(10, 2));
        loop.relay.flushDirty();

        loop.relay.announceRestart(1_000, 0, 5_000);

        assertThat(slow.channel.controls(FrameType.RESTARTING)).singleElement()
            .isEqualTo(HexFormat.of().parseHex("1500000008000003E800001388"));
        assertThat(slow.channel.closed).as("two packets still queued").isFalse();
        assertThat(handshaking.channel.closed).as("no handshake to finish during a shutdown").isTrue();
        assertThat(sender.channel.closedAfterFlush).isTrue();

        slow.setWritable(true);
        loop.relay.flushDirty();

        assertThat(slow.channel.packetData()).containsExactly(data(10, 1), data(10, 2));
        assertThat(slow.channel.closedAfterFlush).isTrue();
        assertThat(harness.metrics.restartingFrames.sum()).isEqualTo(2);
        harness.runAllTasks();
        harness.shutdownAndAssertNoLeak();
    }

    // ---- Receive rate limit

    @Test
    void shouldChargeFramesToTheReceiveRateLimitButNeverAMeshPeer()
    {
        final RelayHarness harness = new RelayHarness();
        final RelayHarness.Loop loop = harness.newLoop();
        final RelayHarness.Client client = loop.connect();
        final RelayHarness.Client mesh = loop.connectMesh();
        assertThat(client.session.chargeFrame(1_000_000)).as("no limit configured").isZero();

        harness.router.setReceiveRateLimit(ReceiveRateLimit.of(100_000, 0));
        assertThat(client.session.chargeFrame(65_568)).as("a full bucket").isZero();
        assertThat(client.session.chargeFrame(1_000_000)).as("charged 65,568 at most, 0.66 s of debt")
            .isEqualTo(655_680_000L);
        assertThat(mesh.session.chargeFrame(1_000_000)).isZero();
        assertThat(harness.metrics.rateLimitWaited.sum()).isEqualTo(1);

        harness.router.setReceiveRateLimit(ReceiveRateLimit.of(100_000, 200_000));
        assertThat(client.session.chargeFrame(65_568)).as("a new limit starts with a full bucket").isZero();
        harness.shutdownAndAssertNoLeak();
    }

    @Test
    void shouldSkipAdmissionForMeshPeers()
    {
        final AtomicInteger asked = new AtomicInteger();
        final RelayHarness harness = new RelayHarness(RelayConfig.defaults(2_000), request ->
        {
            asked.incrementAndGet();
            return new CompletableFuture<>();
        });
        final RelayHarness.Loop loop = harness.newLoop();

        final RelayHarness.Client mesh = loop.connectMesh();

        assertThat(asked).hasValue(0);
        assertServerInfoFirst(harness, mesh);
        assertThat(mesh.channel.readingChanges).isEmpty();
        assertThat(mesh.session.isEstablished()).isTrue();

        final RelayHarness.Client ordinary = loop.accept(NodePrivateKey.generate(harness.random));
        ordinary.sendClientInfo(RelayHarness.TAILSCALED_JSON);
        assertThat(asked).hasValue(1);
        assertThat(ordinary.session.isAdmitting()).isTrue();
        harness.shutdownAndAssertNoLeak();
    }

    // ---- Ping, KeepAlive, NotePreferred

    @Test
    void shouldAnswerPingWithOnePongAndIgnorePingsWhileItIsPending()
    {
        final RelayHarness harness = new RelayHarness();
        final RelayHarness.Loop loop = harness.newLoop();
        final RelayHarness.Client client = loop.connect();

        client.frame(FrameType.PING, HexFormat.of().parseHex("0102030405060708"));
        client.frame(FrameType.PING, HexFormat.of().parseHex("1112131415161718"));
        assertThat(client.channel.controls(FrameType.PONG)).as("written with the batch").isEmpty();

        loop.relay.flushDirty();

        assertThat(client.channel.controls(FrameType.PONG)).singleElement()
            .isEqualTo(HexFormat.of().parseHex("1300000008" + "0102030405060708"));
        assertThat(client.channel.writesSinceFlush).isZero();
        assertThat(harness.metrics.gotPing.sum()).isEqualTo(2);
        assertThat(harness.metrics.sentPong.sum()).isEqualTo(1);

        final byte[] longPing = data(1000, 0x21);
        client.frame(FrameType.PING, longPing);
        loop.relay.flushDirty();

        assertThat(client.channel.controls(FrameType.PONG)).hasSize(2).last()
            .isEqualTo(HexFormat.of().parseHex("1300000008" + "2122232425262728"));
        harness.shutdownAndAssertNoLeak();
    }

    @Test
    void shouldWritePongEvenWhileUnwritable()
    {
        final RelayHarness harness = new RelayHarness();
        final RelayHarness.Loop loop = harness.newLoop();
        final RelayHarness.Client client = loop.connect();
        client.setWritable(false);

        client.frame(FrameType.PING, new byte[8]);
        loop.relay.flushDirty();

        assertThat(client.channel.controls(FrameType.PONG)).hasSize(1);
        harness.shutdownAndAssertNoLeak();
    }

    @Test
    void shouldWriteKeepAliveAfterThePeriodPlusJitter()
    {
        final RelayHarness harness = new RelayHarness(RelayHarness.config(0, 10_000, 1_000, 100));
        final RelayHarness.Loop loop = harness.newLoop();
        final RelayHarness.Client client = loop.connect();

        harness.clock.advance(1_000 * MS - 1);
        loop.relay.onTick();
        assertThat(client.channel.controls(FrameType.KEEP_ALIVE)).as("before the base period").isEmpty();

        harness.clock.advance(100 * MS + 1);
        loop.relay.onTick();
        assertThat(client.channel.controls(FrameType.KEEP_ALIVE)).as("by period + jitter bound").singleElement()
            .isEqualTo(KEEP_ALIVE);
        assertThat(client.channel.writesSinceFlush).isZero();
        assertThat(harness.metrics.keepAlivesSent.sum()).isEqualTo(1);

        harness.clock.advance(1_000 * MS - 1);
        loop.relay.onTick();
        assertThat(client.channel.controls(FrameType.KEEP_ALIVE)).as("not again within a period").hasSize(1);

        harness.clock.advance(100 * MS + 1);
        loop.relay.onTick();
        assertThat(client.channel.controls(FrameType.KEEP_ALIVE)).hasSize(2);
        harness.shutdownAndAssertNoLeak();
    }

    @Test
    void shouldSendKeepAliveRegardlessOfOtherTraffic()
    {
        final RelayHarness harness = new RelayHarness(RelayHarness.config(0, 10_000, 1_000, 0));
        final RelayHarness.Loop loop = harness.newLoop();
        final RelayHarness.Client client = loop.connect();
        final RelayHarness.Client peer = loop.connect();

        for (int i = 0; i < 10; i++)
        {
            harness.advanceMs(100);
            peer.send(client, data(10, i));
            loop.relay.flushDirty();
            loop.relay.onTick();
        }

        assertThat(client.channel.controls(FrameType.KEEP_ALIVE)).hasSize(1);
        harness.shutdownAndAssertNoLeak();
    }

    @Test
    void shouldSampleEachConnectionsTcpRttEveryIntervalIntoDerpersBuckets()
    {
        final RelayHarness harness = new RelayHarness(RelayHarness.config(0, 10_000, 60_000, 0)
            .withTcpRttIntervalMs(10_000));
        final RelayHarness.Loop loop = harness.newLoop();
        final RelayHarness.Client near = loop.accept(NodePrivateKey.generate(harness.random));
        near.channel.rttMicros = 3_000;
        near.sendClientInfo(RelayHarness.TAILSCALED_JSON);
        final RelayHarness.Client far = loop.accept(NodePrivateKey.generate(harness.random));
        far.channel.rttMicros = 120_000;
        far.sendClientInfo(RelayHarness.TAILSCALED_JSON);
        assertThat(near.channel.rttReadings).as("the first reading only checks it can be read").isEqualTo(1);
        assertThat(harness.metrics.tcpRtt(TcpRtt.MS_10)).isZero();

        harness.clock.advance(10_000 * MS - 1);
        loop.relay.onTick();
        assertThat(near.channel.rttReadings).as("not before the interval").isEqualTo(1);
        harness.clock.advance(1);
        loop.relay.onTick();
        assertThat(harness.metrics.tcpRtt(TcpRtt.MS_10)).isEqualTo(1);
        assertThat(harness.metrics.tcpRtt(TcpRtt.MS_150)).as("120 ms").isEqualTo(1);
        loop.relay.onTick();
        assertThat(near.channel.rttReadings).as("once per interval").isEqualTo(2);

        near.channel.rttMicros = 10_001;
        far.channel.rttMicros = 900_000;
        harness.clock.advance(10_000 * MS);
        loop.relay.onTick();
        assertThat(harness.metrics.tcpRtt(TcpRtt.MS_20)).as("just over 10 ms").isEqualTo(1);
        assertThat(harness.metrics.tcpRtt(TcpRtt.INF)).isEqualTo(1);
        assertThat(harness.metrics.tcpRtt(TcpRtt.NON_TCP) + harness.metrics.tcpRtt(TcpRtt.ERROR)).isZero();
        harness.shutdownAndAssertNoLeak();
    }

    @Test
    void shouldCountAConnectionWithoutATcpRttOnceAndNotAskAgain()
    {
        final RelayHarness harness = new RelayHarness(RelayHarness.config(0, 10_000, 60_000, 0));
        final RelayHarness.Loop loop = harness.newLoop();
        final RelayHarness.Client memory = loop.connect();
        final RelayHarness.Client unreadable = loop.accept(NodePrivateKey.generate(harness.random));
        unreadable.channel.rttMicros = ClientChannel.RTT_UNREADABLE;
        unreadable.sendClientInfo(RelayHarness.TAILSCALED_JSON);

        for (int i = 0; i < 3; i++)
        {
            harness.clock.advance(RelayConfig.DEFAULT_TCP_RTT_INTERVAL_MS * MS);
            loop.relay.onTick();
        }

        assertThat(harness.metrics.tcpRtt(TcpRtt.NON_TCP)).isEqualTo(1);
        assertThat(harness.metrics.tcpRtt(TcpRtt.ERROR)).isEqualTo(1);
        assertThat(memory.channel.rttReadings).isEqualTo(1);
        assertThat(unreadable.channel.rttReadings).isEqualTo(1);
        harness.shutdownAndAssertNoLeak();
    }

    @Test
    void shouldNotAskForTcpRttsWhenTheSamplesAreOff()
    {
        final RelayHarness harness = new RelayHarness(RelayHarness.config(0, 10_000, 60_000, 0)
            .withTcpRttIntervalMs(0));
        final RelayHarness.Loop loop = harness.newLoop();
        final RelayHarness.Client client = loop.connect();

        harness.clock.advance(60_000 * MS);
        loop.relay.onTick();

        assertThat(client.channel.rttReadings).isZero();
        for (final TcpRtt label : TcpRtt.values())
        {
            assertThat(harness.metrics.tcpRtt(label)).as(label.label()).isZero();
        }
        harness.shutdownAndAssertNoLeak();
    }

    @Test
    void shouldTrackHomeConnections()
    {
        final RelayHarness harness = new RelayHarness();
        final RelayHarness.Loop loop = harness.newLoop();
        final RelayHarness.Client client = loop.connect();

        client.frame(FrameType.NOTE_PREFERRED, new byte[] {1});
        client.frame(FrameType.NOTE_PREFERRED, new byte[] {1});
        assertThat(harness.metrics.currentHomeConnections.get()).isEqualTo(1);
        assertThat(harness.metrics.homeMovesIn.sum()).as("within 5 s of connecting").isZero();

        harness.advanceMs(5_001);
        client.frame(FrameType.NOTE_PREFERRED, new byte[] {0});
        assertThat(harness.metrics.currentHomeConnections.get()).isZero();
        assertThat(harness.metrics.homeMovesOut.sum()).isEqualTo(1);

        client.frame(FrameType.NOTE_PREFERRED, new byte[] {1});
        assertThat(harness.metrics.homeMovesIn.sum()).isEqualTo(1);
        client.session.onClosed();
        assertThat(harness.metrics.currentHomeConnections.get()).isZero();
        harness.shutdownAndAssertNoLeak();
    }

    // ---- Write timeout

    @Test
    void shouldCloseAClientThatStaysUnwritableLongerThanTheWriteTimeout()
    {
        final RelayHarness harness = new RelayHarness(RelayHarness.config(500, 10_000, 60_000, 0));
        final RelayHarness.Loop loop = harness.newLoop();
        final RelayHarness.Client client = loop.connect();

        client.setWritable(false);
        harness.advanceMs(500);
        loop.relay.onTick();
        assertThat(client.channel.closed).as("exactly at the timeout").isFalse();

        harness.clock.advance(1);
        loop.relay.onTick();

        assertThat(client.channel.closed).isTrue();
        assertThat(harness.metrics.writeTimeouts.sum()).isEqualTo(1);
        harness.runAllTasks();
        assertThat(loop.relay.sessionCount()).isZero();
        assertThat(harness.router.localKeyCount()).isZero();
        harness.shutdownAndAssertNoLeak();
    }

    @Test
    void shouldNotCloseAClientThatBecomesWritableInTime()
    {
        final RelayHarness harness = new RelayHarness(RelayHarness.config(500, 10_000, 60_000, 0));
        final RelayHarness.Loop loop = harness.newLoop();
        final RelayHarness.Client client = loop.connect();

        client.setWritable(false);
        harness.advanceMs(400);
        loop.relay.onTick();
        client.setWritable(true);
        harness.advanceMs(600);
        loop.relay.onTick();

        assertThat(client.channel.closed).isFalse();
        assertThat(harness.metrics.writeTimeouts.sum()).isZero();

        client.setWritable(false);
        harness.advanceMs(400);
        client.setWritable(false);
        harness.advanceMs(101);
        loop.relay.onTick();
        assertThat(client.channel.closed).as("the stall is timed from its start, not from repeated notices").isTrue();
        harness.shutdownAndAssertNoLeak();
    }

    @Test
    void shouldGiveMeshPeersThirtySecondsAndHonourAZeroTimeout()
    {
        final RelayHarness harness = new RelayHarness(RelayHarness.config(500, 10_000, 60_000, 0));
        final RelayHarness.Loop loop = harness.newLoop();
        final RelayHarness.Client mesh = loop.connectMesh();

        mesh.setWritable(false);
        harness.advanceMs(30_000);
        loop.relay.onTick();
        assertThat(mesh.channel.closed).isFalse();
        harness.advanceMs(1);
        loop.relay.onTick();
        assertThat(mesh.channel.closed).isTrue();

        final RelayHarness unlimited = new RelayHarness(RelayHarness.config(0, 10_000, 60_000, 0));
        final RelayHarness.Loop otherLoop = unlimited.newLoop();
        final RelayHarness.Client patient = otherLoop.connect();
        patient.setWritable(false);
        unlimited.advanceMs(3_600_000);
        otherLoop.relay.onTick();
        assertThat(patient.channel.closed).as("writeTimeoutMs=0 disables the timeout").isFalse();
        harness.shutdownAndAssertNoLeak();
        unlimited.shutdownAndAssertNoLeak();
    }

    // ---- Queues

    @Test
    void shouldQueueUpToTheDepthThenDropTheOldestAndDrainWhenWritable()
    {
        final RelayHarness harness = new RelayHarness();
        final RelayHarness.Loop loop = harness.newLoop();
        final RelayHarness.Client sender = loop.connect();
        final RelayHarness.Client slow = loop.connect();
        slow.setWritable(false);

        final List<TestFrame> sent = new ArrayList<>();
        for (int i = 0; i < 40; i++)
        {
            sent.add(sender.send(slow, data(100, i)));
            loop.relay.flushDirty();
        }

        assertThat(packetsOf(slow)).isEmpty();
        assertThat(harness.metrics.packetsDropped(DropReason.QUEUE_HEAD, RelayMetrics.KIND_OTHER)).isEqualTo(8);
        assertThat(harness.metrics.bytesDropped(DropReason.QUEUE_HEAD, RelayMetrics.KIND_OTHER)).isEqualTo(800);
        assertThat(harness.metrics.packetsDropped(DropReason.QUEUE_TAIL, RelayMetrics.KIND_OTHER)).isZero();
        assertThat(harness.frames.released()).containsExactlyElementsOf(sent.subList(0, 8));

        slow.setWritable(true);
        loop.relay.flushDirty();

        assertThat(packetsOf(slow)).containsExactlyElementsOf(sent.subList(8, 40));
        assertThat(slow.channel.writesSinceFlush).isZero();
        assertThat(harness.metrics.packetsSent.sum()).isEqualTo(32);
        harness.shutdownAndAssertNoLeak();
    }

    @Test
    void shouldStopWritingWhenTheChannelFillsAndResumeLater()
    {
        final RelayHarness harness = new RelayHarness();
        final RelayHarness.Loop loop = harness.newLoop();
        final RelayHarness.Client sender = loop.connect();
        final RelayHarness.Client slow = loop.connect();
        slow.setWritable(false);
        final List<TestFrame> sent = new ArrayList<>();
        for (int i = 0; i < 20; i++)
        {
            sent.add(sender.send(slow, data(10, i)));
        }

        slow.channel.packetsUntilUnwritable = 5;
        slow.setWritable(true);
        loop.relay.flushDirty();
        assertThat(packetsOf(slow)).containsExactlyElementsOf(sent.subList(0, 5));

        slow.session.onWritabilityChanged(false);
        slow.channel.packetsUntilUnwritable = -1;
        slow.setWritable(true);
        loop.relay.flushDirty();
        assertThat(packetsOf(slow)).containsExactlyElementsOf(sent);
        harness.shutdownAndAssertNoLeak();
    }

    @Test
    void shouldBoundTheBytesQueuedForAClientDroppingTheOldestFirst()
    {
        final RelayHarness harness = new RelayHarness();
        harness.router.setQueueLimits(new QueueLimits(200_000, Long.MAX_VALUE));
        final RelayHarness.Loop loop = harness.newLoop();
        final RelayHarness.Client sender = loop.connect();
        final RelayHarness.Client slow = loop.connect();
        slow.setWritable(false);

        final List<TestFrame> sent = new ArrayList<>();
        for (int i = 0; i < 10; i++)
        {
            sent.add(sender.send(slow, data(60_000, i)));
            loop.relay.flushDirty();
        }

        // Three 60,000-byte packets fit in 200,000 bytes: each new one pushes out the oldest.
        assertThat(harness.metrics.packetsDropped(DropReason.QUEUE_BYTES, RelayMetrics.KIND_OTHER)).isEqualTo(7);
        assertThat(harness.metrics.bytesDropped(DropReason.QUEUE_BYTES, RelayMetrics.KIND_OTHER)).isEqualTo(420_000);
        assertThat(harness.frames.released()).containsExactlyElementsOf(sent.subList(0, 7));
        assertThat(harness.router.queuedBytes()).isEqualTo(180_000);

        slow.setWritable(true);
        loop.relay.flushDirty();
        assertThat(packetsOf(slow)).containsExactlyElementsOf(sent.subList(7, 10));
        assertThat(harness.router.queuedBytes()).as("given back as they are written").isZero();
        harness.shutdownAndAssertNoLeak();
    }

    @Test
    void shouldDropNewPacketsWhileTheRelayHoldsItsTotalQueuedBytes()
    {
        final RelayHarness harness = new RelayHarness();
        harness.router.setQueueLimits(new QueueLimits(100_000, 150_000));
        final RelayHarness.Loop loop = harness.newLoop();
        final RelayHarness.Client sender = loop.connect();
        final RelayHarness.Client first = loop.connect();
        final RelayHarness.Client second = loop.connect();
        first.setWritable(false);
        second.setWritable(false);

        sender.send(first, data(60_000, 1));
        sender.send(first, data(30_000, 2));
        sender.send(second, data(50_000, 3));
        final TestFrame over = sender.send(second, data(20_000, 4));
        loop.relay.flushDirty();

        assertThat(harness.metrics.packetsDropped(DropReason.TOTAL_QUEUE_BYTES, RelayMetrics.KIND_OTHER)).isEqualTo(1);
        assertThat(harness.frames.released()).containsExactly(over);
        assertThat(harness.router.queuedBytes()).isEqualTo(140_000);

        first.session.onClosed();
        assertThat(harness.router.queuedBytes()).as("a closed client's queue given back").isEqualTo(50_000);
        second.session.onClosed();
        assertThat(harness.router.queuedBytes()).isZero();
        harness.shutdownAndAssertNoLeak();
    }

    @Test
    void shouldKeepDiscoAndDataInSeparateQueues()
    {
        final RelayHarness harness = new RelayHarness();
        final RelayHarness.Loop loop = harness.newLoop();
        final RelayHarness.Client sender = loop.connect();
        final RelayHarness.Client slow = loop.connect();
        slow.setWritable(false);
        final List<TestFrame> dataFrames = new ArrayList<>();
        final List<TestFrame> discoFrames = new ArrayList<>();

        for (int i = 0; i < 32; i++)
        {
            dataFrames.add(sender.send(slow, data(100, i)));
            discoFrames.add(sender.send(slow, disco(80, i)));
        }
        loop.relay.flushDirty();
        assertThat(harness.metrics.packetsDropped(DropReason.QUEUE_HEAD, RelayMetrics.KIND_OTHER)).isZero();
        assertThat(harness.metrics.packetsDropped(DropReason.QUEUE_HEAD, RelayMetrics.KIND_DISCO)).isZero();

        discoFrames.add(sender.send(slow, disco(80, 99)));
        assertThat(harness.metrics.packetsDropped(DropReason.QUEUE_HEAD, RelayMetrics.KIND_DISCO)).isEqualTo(1);
        assertThat(harness.metrics.bytesDropped(DropReason.QUEUE_HEAD, RelayMetrics.KIND_DISCO)).isEqualTo(80);
        assertThat(harness.metrics.packetsDropped(DropReason.QUEUE_HEAD, RelayMetrics.KIND_OTHER)).isZero();
        assertThat(harness.frames.released()).containsExactly(discoFrames.getFirst());

        dataFrames.add(sender.send(slow, data(100, 99)));
        assertThat(harness.metrics.packetsDropped(DropReason.QUEUE_HEAD, RelayMetrics.KIND_OTHER)).isEqualTo(1);
        assertThat(harness.frames.released()).containsExactly(dataFrames.getFirst(), discoFrames.getFirst());

        slow.setWritable(true);
        loop.relay.flushDirty();

        assertThat(packetsOf(slow)).hasSize(64);
        assertThat(packetsOf(slow).stream().filter(frame -> frame.disco).toList())
            .containsExactlyElementsOf(discoFrames.subList(1, 33));
        assertThat(packetsOf(slow).stream().filter(frame -> !frame.disco).toList())
            .containsExactlyElementsOf(dataFrames.subList(1, 33));
        harness.shutdownAndAssertNoLeak();
    }

    @Test
    void shouldReleaseQueuedPacketsAsGoneDisconnectedWhenTheClientCloses()
    {
        final RelayHarness harness = new RelayHarness();
        final RelayHarness.Loop loop = harness.newLoop();
        final RelayHarness.Client sender = loop.connect();
        final RelayHarness.Client slow = loop.connect();
        slow.setWritable(false);
        for (int i = 0; i < 5; i++)
        {
            sender.send(slow, data(100, i));
        }
        for (int i = 0; i < 3; i++)
        {
            sender.send(slow, disco(70, i));
        }
        loop.relay.flushDirty();

        slow.session.onClosed();

        assertThat(harness.frames.created).hasSize(8).allSatisfy(frame -> assertThat(frame.released).isTrue());
        assertThat(harness.metrics.packetsDropped(DropReason.GONE_DISCONNECTED, RelayMetrics.KIND_OTHER)).isEqualTo(5);
        assertThat(harness.metrics.bytesDropped(DropReason.GONE_DISCONNECTED, RelayMetrics.KIND_OTHER)).isEqualTo(500);
        assertThat(harness.metrics.packetsDropped(DropReason.GONE_DISCONNECTED, RelayMetrics.KIND_DISCO)).isEqualTo(3);
        assertThat(harness.frames.created).noneMatch(frame -> frame.written);
        assertThat(sender.send(slow, data(10, 1))).isNull();

        slow.setWritable(true);
        loop.relay.flushDirty();
        assertThat(packetsOf(slow)).isEmpty();
        harness.shutdownAndAssertNoLeak();
    }

    @Test
    void shouldDropAPacketWhoseDestinationClosedBetweenBeginAndComplete()
    {
        final RelayHarness harness = new RelayHarness();
        final RelayHarness.Loop loop = harness.newLoop();
        final RelayHarness.Client sender = loop.connect();
        final RelayHarness.Client leaving = loop.connect();
        final byte[] head = new byte[32 + 6];
        System.arraycopy(leaving.publicKey(), 0, head, 0, 32);

        final TestFrame frame = sender.session.beginSendPacket(new UnsafeBuffer(head), 0, 50);
        frame.fill(data(50, 1));
        leaving.session.onClosed();
        sender.session.completePacket(frame);
        loop.relay.flushDirty();

        assertThat(frame.released).isTrue();
        assertThat(frame.written).isFalse();
        assertThat(harness.metrics.packetsDropped(DropReason.GONE_DISCONNECTED, RelayMetrics.KIND_OTHER)).isEqualTo(1);
        harness.shutdownAndAssertNoLeak();
    }

    @Test
    void shouldCountADropWhenNoFrameBufferCanBeHad()
    {
        final RelayHarness harness = new RelayHarness();
        final RelayHarness.Loop loop = harness.newLoop();
        final RelayHarness.Client sender = loop.connect();
        final RelayHarness.Client receiver = loop.connect();
        harness.frames.exhausted = true;

        assertThat(sender.send(receiver, data(60, 1))).isNull();

        assertThat(harness.metrics.packetsDropped(DropReason.QUEUE_TAIL, RelayMetrics.KIND_OTHER)).isEqualTo(1);
        assertThatThrownBy(() -> sender.session.completePacket(null)).isInstanceOf(IllegalStateException.class);
        harness.shutdownAndAssertNoLeak();
    }

    @Test
    void shouldForgetAnAbandonedPacketAndRelayTheNextOne()
    {
        final RelayHarness harness = new RelayHarness();
        final RelayHarness.Loop loop = harness.newLoop();
        final RelayHarness.Client sender = loop.connect();
        final RelayHarness.Client receiver = loop.connect();
        final byte[] head = new byte[32 + 6];
        System.arraycopy(receiver.publicKey(), 0, head, 0, 32);

        final TestFrame abandoned = sender.session.beginSendPacket(new UnsafeBuffer(head), 0, 500);
        // The transport owns the half-filled frame: it releases it, then tells the session.
        harness.frames.release(abandoned);
        sender.session.abandonPacket();

        assertThatThrownBy(() -> sender.session.completePacket(abandoned)).isInstanceOf(IllegalStateException.class);
        final TestFrame next = sender.send(receiver, data(10, 1));
        loop.relay.flushDirty();
        assertThat(receiver.channel.packets).containsExactly(next);
        harness.shutdownAndAssertNoLeak();
    }

    @Test
    void shouldCountOnlyUndefinedFrameTypesAsUnknown()
    {
        final RelayHarness harness = new RelayHarness();
        final RelayHarness.Client client = harness.newLoop().connect();

        for (final byte type : new byte[] {FrameType.PONG, FrameType.KEEP_ALIVE, FrameType.SERVER_KEY,
            FrameType.HEALTH, FrameType.RESTARTING, FrameType.RECV_PACKET})
        {
            client.session.onSkippedFrame(type);
        }
        assertThat(harness.metrics.unknownFrames.sum()).isZero();

        for (final byte type : new byte[] {0x00, 0x0B, 0x0C, 0x0D, 0x0E, 0x0F, 0x16, 0x7F, (byte)0x80, (byte)0xFF})
        {
            client.session.onSkippedFrame(type);
        }
        assertThat(harness.metrics.unknownFrames.sum()).isEqualTo(10);
        harness.shutdownAndAssertNoLeak();
    }

    @Test
    void shouldIgnorePacketsAndFramesBeforeTheHandshake()
    {
        final RelayHarness harness = new RelayHarness();
        final RelayHarness.Loop loop = harness.newLoop();
        final RelayHarness.Client receiver = loop.connect();
        final RelayHarness.Client early = loop.accept(NodePrivateKey.generate(harness.random));

        assertThat(early.send(receiver, data(10, 1))).isNull();
        early.frame(FrameType.PING, new byte[8]);
        loop.relay.flushDirty();

        assertThat(early.channel.written).isEmpty();
        assertThat(harness.metrics.packetsReceived.sum()).isZero();
        assertThat(harness.metrics.gotPing.sum()).isZero();
        harness.shutdownAndAssertNoLeak();
    }
}
