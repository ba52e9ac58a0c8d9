package io.jderper.transport.client;

import io.netty.buffer.ByteBuf;
import io.netty.util.concurrent.FastThreadLocal;
import org.agrona.concurrent.UnsafeBuffer;

/**
 * Agrona views of Netty buffers, so frames are encoded and decoded with the relay-core codecs straight in pooled
 * memory. A view covers the whole buffer from index 0: a frame at reader index {@code i} is at view offset {@code i}.
 */
final class BufferViews
{
    /** One reusable view per thread for writes; encoders run no foreign code while they hold it. */
    private static final FastThreadLocal<UnsafeBuffer> WRITE_VIEW = new FastThreadLocal<>()
    {
        @Override
        protected UnsafeBuffer initialValue()
        {
            return new UnsafeBuffer();
        }
    };

    private BufferViews()
    {
    }

    /**
     * Points {@code view} at the memory of {@code buffer}, without allocating when the buffer has a memory address
     * or a backing array (Netty's pooled buffers have one or the other).
     *
     * @param view   the view to re-point.
     * @param buffer a buffer made of one piece of memory.
     * @return false for a buffer made of several pieces (a composite), which has to be copied instead.
     */
    static boolean wrap(final UnsafeBuffer view, final ByteBuf buffer)
    {
        if (buffer.hasMemoryAddress())
        {
            view.wrap(buffer.memoryAddress(), buffer.capacity());
            return true;
        }
        if (buffer.hasArray())
        {
            view.wrap(buffer.array(), buffer.arrayOffset(), buffer.capacity());
            return true;
        }
        if (1 == buffer.nioBufferCount())
        {
            // Only without sun.misc.Unsafe: allocates a ByteBuffer duplicate.
            view.wrap(buffer.nioBuffer(0, buffer.capacity()));
            return true;
        }
        return false;
    }

    /**
     * @param buffer a freshly allocated outbound buffer.
     * @return this thread's write view over it.
     */
    static UnsafeBuffer writeView(final ByteBuf buffer)
    {
        final UnsafeBuffer view = WRITE_VIEW.get();
        if (!wrap(view, buffer))
        {
            throw new IllegalStateException("allocator returned a composite buffer: " + buffer);
        }
        return view;
    }
}
