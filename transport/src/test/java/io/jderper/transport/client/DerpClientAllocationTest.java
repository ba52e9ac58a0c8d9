package io.jderper.transport.client;

import io.jderper.transport.TrackingAllocator;
import io.jderper.core.handshake.ServerHandshake;
import io.jderper.core.key.NodePrivateKey;
import io.jderper.core.key.NodePublicKey;
import io.jderper.core.protocol.FrameType;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufUtil;
import io.netty.buffer.PooledByteBufAllocator;
import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelPipeline;
import io.netty.channel.embedded.EmbeddedChannel;
import io.netty.util.ResourceLeakDetector;
import io.netty.util.concurrent.FastThreadLocalThread;
import org.agrona.concurrent.UnsafeBuffer;
import org.agrona.DirectBuffer;
import org.junit.jupiter.api.Test;

import java.lang.management.ManagementFactory;
import java.net.URI;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.security.SecureRandom;
import java.util.Optional;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The hot paths allocate no objects of their own in steady state: frames that arrive whole are handed to the
 * listener as views of the read buffer, and a send costs one pooled buffer (whose object Netty recycles). Measured
 * with the JVM's per-thread allocation counter, like Tailscale's {@code testing.AllocsPerRun} tests.
 */
class DerpClientAllocationTest
{
    private static final int FRAMES_PER_READ = 8;
    private static final int WARM_UP_READS = 20_000;
    private static final int MEASURED_READS = 20_000;

    @Test
    void shouldReceiveWholeFramesWithoutAllocating()
    {
        final SecureRandom random = new SecureRandom();
        final NodePrivateKey serverKey = NodePrivateKey.generate(random);
        final NodePrivateKey clientKey = NodePrivateKey.generate(random);
        final long[] received = new long[2];
        final DerpClientListener counting = new DerpClientListener()
        {
            @Override
            public void onRecvPacket(
                final DerpClient client, final DirectBuffer source, final int sourceOffset, final DirectBuffer data,
                final int dataOffset, final int dataLength)
            {
                received[0] += dataLength + source.getByte(sourceOffset) + data.getByte(dataOffset);
            }

            @Override
            public void onKeepAlive(final DerpClient client)
            {
                received[1]++;
            }
        };
        final EmbeddedChannel channel = new EmbeddedChannel();
        final DerpClient client = new DerpClient(DerpClientOptions.builder(URI.create("http://derp.test/derp"),
            clientKey).build(), counting, new TrackingAllocator(), random, channel.eventLoop());
        client.attach(channel, null);
        channel.pipeline().addLast(client.handler());
        ((ByteBuf)channel.readOutbound()).release();
        final ServerHandshake server = new ServerHandshake(serverKey, Optional.empty(), random);
        channel.writeInbound(Unpooled.wrappedBuffer(
            ("HTTP/1.1 101 Switching Protocols\r\n\r\n").getBytes(StandardCharsets.US_ASCII), server.serverKeyFrame()));
        ((ByteBuf)channel.readOutbound()).release();
        channel.writeInbound(Unpooled.wrappedBuffer(server.serverInfoFrame(clientKey.publicKey())));
        assertThat(client.isReady()).isTrue();

        final byte[] read = reads(NodePrivateKey.generate(random).publicKey());
        final ChannelPipeline pipeline = channel.pipeline();
        final ByteBuf[] inputs = new ByteBuf[WARM_UP_READS + MEASURED_READS];
        for (int i = 0; i < inputs.length; i++)
        {
            // Built up front: wrapped heap buffers carry no leak tracker, so the loop below sees only the client.
            inputs[i] = Unpooled.wrappedBuffer(read);
        }
        for (int i = 0; i < WARM_UP_READS; i++)
        {
            pipeline.fireChannelRead(inputs[i]);
            pipeline.fireChannelReadComplete();
        }
        final com.sun.management.ThreadMXBean threads =
            (com.sun.management.ThreadMXBean)ManagementFactory.getThreadMXBean();
        final long thread = Thread.currentThread().threadId();
        final long before = threads.getThreadAllocatedBytes(thread);
        for (int i = WARM_UP_READS; i < inputs.length; i++)
        {
            pipeline.fireChannelRead(inputs[i]);
            pipeline.fireChannelReadComplete();
        }
        final long allocated = threads.getThreadAllocatedBytes(thread) - before;

        assertThat(received[1]).isEqualTo((long)(WARM_UP_READS + MEASURED_READS) * FRAMES_PER_READ / 2);
        assertThat(inputs[inputs.length - 1].refCnt()).as("read buffers are released").isZero();
        // Under one byte per frame on average: one-off allocations (JIT, class loading) pass, while a single
        // object per frame (16 bytes or more) fails.
        assertThat(allocated).as("bytes allocated for %d frames", MEASURED_READS * FRAMES_PER_READ)
            .isLessThan((long)MEASURED_READS * FRAMES_PER_READ);
        channel.finishAndReleaseAll();
    }

    @Test
    void shouldSendWithNoAllocationBeyondThePooledFrame() throws Exception
    {
        // Netty's leak detector (paranoid in tests) wraps every buffer; off for this measurement only.
        final ResourceLeakDetector.Level level = ResourceLeakDetector.getLevel();
        ResourceLeakDetector.setLevel(ResourceLeakDetector.Level.DISABLED);
        try
        {
            final long[] allocated = new long[1];
            final Throwable[] failure = new Throwable[1];
            // On a FastThreadLocalThread, like an event loop, so the pooled allocator uses its thread cache.
            final Thread thread = new FastThreadLocalThread(() ->
            {
                try
                {
                    allocated[0] = measureSends();
                }
                catch (final Throwable ex)
                {
                    failure[0] = ex;
                }
            });
            thread.start();
            thread.join(60_000);
            assertThat(thread.isAlive()).isFalse();
            assertThat(failure[0]).isNull();
            // Under one byte per send on average, as above.
            assertThat(allocated[0]).as("bytes allocated for %d sends", MEASURED_READS).isLessThan(MEASURED_READS);
        }
        finally
        {
            ResourceLeakDetector.setLevel(level);
        }
    }

    private static long measureSends()
    {
        final SecureRandom random = new SecureRandom();
        final NodePrivateKey serverKey = NodePrivateKey.generate(random);
        final NodePrivateKey clientKey = NodePrivateKey.generate(random);
        final EmbeddedChannel channel = new EmbeddedChannel();
        final DerpClient client = new DerpClient(DerpClientOptions.builder(URI.create("http://derp.test/derp"),
            clientKey).build(), (c, s, so, d, doff, dl) -> { }, PooledByteBufAllocator.DEFAULT, random,
            channel.eventLoop());
        client.attach(channel, null);
        channel.pipeline().addLast(client.handler());
        ((ByteBuf)channel.readOutbound()).release();
        final ServerHandshake server = new ServerHandshake(serverKey, Optional.empty(), random);
        channel.writeInbound(Unpooled.wrappedBuffer(
            ("HTTP/1.1 101 Switching Protocols\r\n\r\n").getBytes(StandardCharsets.US_ASCII), server.serverKeyFrame()));
        ((ByteBuf)channel.readOutbound()).release();
        channel.writeInbound(Unpooled.wrappedBuffer(server.serverInfoFrame(clientKey.publicKey())));
        assertThat(client.isReady()).isTrue();

        final UnsafeBuffer destination = new UnsafeBuffer(NodePrivateKey.generate(random).publicKey().toBytes());
        final UnsafeBuffer data = new UnsafeBuffer(new byte[1200]);
        for (int i = 0; i < WARM_UP_READS; i++)
        {
            sendAndDrain(client, channel, destination, data);
        }
        final com.sun.management.ThreadMXBean threads =
            (com.sun.management.ThreadMXBean)ManagementFactory.getThreadMXBean();
        final long thread = Thread.currentThread().threadId();
        final long before = threads.getThreadAllocatedBytes(thread);
        for (int i = 0; i < MEASURED_READS; i++)
        {
            sendAndDrain(client, channel, destination, data);
        }
        final long allocated = threads.getThreadAllocatedBytes(thread) - before;
        channel.finishAndReleaseAll();
        return allocated;
    }

    private static void sendAndDrain(
        final DerpClient client, final EmbeddedChannel channel, final UnsafeBuffer destination, final UnsafeBuffer data)
    {
        client.sendPacket(destination, 0, data, 0, data.capacity());
        client.flush();
        final ByteBuf frame = channel.readOutbound();
        if (frame.readableBytes() != 5 + 32 + data.capacity())
        {
            throw new AssertionError("frame of " + frame.readableBytes() + " bytes");
        }
        frame.release();
    }

    /** One read: RecvPacket and KeepAlive frames, alternating. */
    private static byte[] reads(final NodePublicKey source)
    {
        final ByteBuf out = Unpooled.buffer();
        for (int i = 0; i < FRAMES_PER_READ / 2; i++)
        {
            final byte[] data = new byte[100 + i];
            out.writeBytes(ByteBuffer.allocate(5).put(FrameType.RECV_PACKET).putInt(32 + data.length).array())
                .writeBytes(source.toBytes()).writeBytes(data);
            out.writeBytes(new byte[]{FrameType.KEEP_ALIVE, 0, 0, 0, 0});
        }
        return ByteBufUtil.getBytes(out);
    }
}
