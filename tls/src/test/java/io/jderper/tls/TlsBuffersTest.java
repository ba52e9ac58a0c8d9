package io.jderper.tls;

import static org.assertj.core.api.Assertions.assertThat;

import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLEngine;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.netty.buffer.PooledByteBufAllocator;
import io.netty.channel.embedded.EmbeddedChannel;
import org.junit.jupiter.api.Test;

class TlsBuffersTest
{
    @Test
    void shouldHandConscryptChannelsDirectBuffersWhereHeapOnesAreAskedFor() throws Exception
    {
        final TlsProvider conscrypt = TlsProvider.conscrypt();
        assertThat(conscrypt.isConscrypt()).as("Conscrypt loads on this machine").isTrue();
        final EmbeddedChannel channel = channelWith(PooledByteBufAllocator.DEFAULT);

        TlsBuffers.preferDirectForConscrypt(channel, engine(conscrypt));

        final ByteBufAllocator alloc = channel.alloc();
        for (final ByteBuf buffer : new ByteBuf[] {alloc.heapBuffer(), alloc.heapBuffer(64), alloc.heapBuffer(64, 128),
            alloc.buffer(), alloc.buffer(64), alloc.ioBuffer(64), alloc.directBuffer(64)})
        {
            assertThat(buffer.isDirect()).isTrue();
            buffer.release();
        }
        assertThat(alloc.isDirectBufferPooled()).isTrue();
        channel.finishAndReleaseAll();
    }

    @Test
    void shouldWrapTheAllocatorOnlyOnce() throws Exception
    {
        final EmbeddedChannel channel = channelWith(PooledByteBufAllocator.DEFAULT);
        final SSLEngine engine = engine(TlsProvider.conscrypt());

        TlsBuffers.preferDirectForConscrypt(channel, engine);
        final ByteBufAllocator first = channel.alloc();
        TlsBuffers.preferDirectForConscrypt(channel, engine);

        assertThat(channel.alloc()).isSameAs(first).isNotSameAs(PooledByteBufAllocator.DEFAULT);
        channel.finishAndReleaseAll();
    }

    @Test
    void shouldLeaveTheJdkProvidersChannelsAsTheyAre() throws Exception
    {
        final EmbeddedChannel channel = channelWith(PooledByteBufAllocator.DEFAULT);

        TlsBuffers.preferDirectForConscrypt(channel, engine(TlsProvider.jdk()));

        assertThat(channel.alloc()).isSameAs(PooledByteBufAllocator.DEFAULT);
        channel.finishAndReleaseAll();
    }

    private static EmbeddedChannel channelWith(final ByteBufAllocator allocator)
    {
        final EmbeddedChannel channel = new EmbeddedChannel();
        channel.config().setAllocator(allocator);
        return channel;
    }

    private static SSLEngine engine(final TlsProvider provider) throws Exception
    {
        final SSLContext context = SSLContext.getInstance("TLS", provider.provider());
        context.init(null, null, null);
        return context.createSSLEngine();
    }
}
