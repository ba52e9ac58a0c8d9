package io.jderper.tls;

import io.netty.buffer.AbstractByteBufAllocator;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.netty.channel.Channel;
import javax.net.ssl.SSLEngine;

/**
 * Gives a channel whose TLS runs on Conscrypt direct buffers wherever Netty asks for heap ones.
 * <p>
 * Netty drives a Conscrypt engine as a plain JDK engine (its Conscrypt engine type is switched off on Java 15 and
 * later), and for that type it encrypts into a heap buffer of at least 16 KiB per flush. BoringSSL cannot write into
 * the heap, so Conscrypt encrypts into a direct buffer of its own and copies the record out, and the socket then
 * copies it back into a direct buffer to send it: two copies and two buffers per flush. With direct buffers
 * Conscrypt writes the record where the socket sends it from.
 */
public final class TlsBuffers
{
    private TlsBuffers()
    {
    }

    /**
     * Call when the TLS handler is added, before the handshake: the TLS handler allocates from the channel's allocator.
     *
     * @param channel the connection.
     * @param engine  its TLS engine; nothing changes unless it is Conscrypt's.
     */
    public static void preferDirectForConscrypt(final Channel channel, final SSLEngine engine)
    {
        final ByteBufAllocator current = channel.config().getAllocator();
        if (isConscrypt(engine) && !(current instanceof DirectOnly))
        {
            channel.config().setAllocator(new DirectOnly(current));
        }
    }

    static boolean isConscrypt(final SSLEngine engine)
    {
        // By name: loading Conscrypt's classes here would try its native library on machines that run the JDK's TLS.
        return engine.getClass().getName().startsWith("org.conscrypt.");
    }

    /**
     * Every buffer from the wrapped allocator's direct side: Netty's base class routes heap, I/O and plain requests
     * to the two methods below.
     */
    static final class DirectOnly extends AbstractByteBufAllocator
    {
        private final ByteBufAllocator direct;

        DirectOnly(final ByteBufAllocator direct)
        {
            super(true);
            this.direct = direct;
        }

        @Override
        protected ByteBuf newHeapBuffer(final int initialCapacity, final int maxCapacity)
        {
            return direct.directBuffer(initialCapacity, maxCapacity);
        }

        @Override
        protected ByteBuf newDirectBuffer(final int initialCapacity, final int maxCapacity)
        {
            return direct.directBuffer(initialCapacity, maxCapacity);
        }

        @Override
        public boolean isDirectBufferPooled()
        {
            return direct.isDirectBufferPooled();
        }
    }
}
