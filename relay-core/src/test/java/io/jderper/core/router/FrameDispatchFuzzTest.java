package io.jderper.core.router;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.ByteBuffer;
import java.util.Arrays;

import com.code_intelligence.jazzer.junit.FuzzTest;
import io.jderper.core.protocol.FrameRules;
import io.jderper.core.protocol.FrameType;
import io.jderper.core.protocol.ProtocolException;

/**
 * Any byte stream, cut into frames as the transport cuts it and dispatched to a client's session (a plain client or
 * a mesh peer, chosen by the first byte): the core either acts or refuses with a {@link ProtocolException}, and no
 * packet frame is ever leaked or released twice. A destination key starting with 0 is the other client's, so that
 * packets are delivered, not only dropped.
 */
class FrameDispatchFuzzTest
{
    @FuzzTest(maxDuration = "30s")
    void framesNeverEscapeOrLeak(final byte[] input)
    {
        // Small inbox and queue pool: the defaults' (16,384 slots, 4,096 spare rings) cost megabytes per input.
        final RelayHarness harness = new RelayHarness(RelayHarness.config(2_000, 10_000, 60_000, 5_000));
        final RelayHarness.Loop loop = harness.newLoop();
        final RelayHarness.Client receiver = loop.connect();
        final boolean mesh = input.length > 0 && 0 != (input[0] & 1);
        final RelayHarness.Client sender = mesh ? loop.connectMesh() : loop.connect();
        final ByteBuffer in = ByteBuffer.wrap(input);
        if (in.hasRemaining())
        {
            in.get();
        }
        try
        {
            while (in.remaining() >= 5)
            {
                final byte type = in.get();
                final long length = Integer.toUnsignedLong(in.getInt());
                if (FrameRules.SKIP == FrameRules.check(type, length, mesh))
                {
                    sender.session.onSkippedFrame(type);
                    in.position((int)Math.min(in.limit(), in.position() + length));
                    continue;
                }
                if (length > in.remaining())
                {
                    break;
                }
                final byte[] payload = new byte[(int)length];
                in.get(payload);
                dispatch(sender, receiver, type, payload);
            }
        }
        catch (final ProtocolException refused)
        {
            // The transport closes the connection: the session ends below like any other.
        }
        loop.relay.flushDirty();
        harness.runAllTasks();
        harness.shutdownAndAssertNoLeak();
        assertThat(loop.relay.sessionCount()).isZero();
    }

    private static void dispatch(final RelayHarness.Client sender, final RelayHarness.Client receiver, final byte type,
        final byte[] payload)
    {
        switch (type)
        {
            case FrameType.SEND_PACKET ->
                sender.send(key(payload, 0, receiver), Arrays.copyOfRange(payload, 32, payload.length));
            case FrameType.FORWARD_PACKET ->
                sender.forward(Arrays.copyOfRange(payload, 0, 32), key(payload, 32, receiver),
                    Arrays.copyOfRange(payload, 64, payload.length));
            default -> sender.frame(type, payload);
        }
    }

    private static byte[] key(final byte[] payload, final int offset, final RelayHarness.Client receiver)
    {
        return 0 == payload[offset] ? receiver.publicKey() : Arrays.copyOfRange(payload, offset, offset + 32);
    }
}
