package io.jderper.bench;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.PooledByteBufAllocator;
import io.netty.util.ResourceLeakDetector;
import io.netty.util.ResourceLeakDetectorFactory;

import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;

/**
 * Collects Netty's leak reports in a list the test can assert on: the bench module logs through slf4j-nop, so the
 * detector's own log lines would vanish. {@link #install()} must run before any {@code ByteBuf} class is loaded
 * (the byte buffer leak detector is created once, when {@code AbstractByteBuf} initialises).
 */
public final class LeakRecorder
{
    private static final List<String> LEAKS = new CopyOnWriteArrayList<>();

    private LeakRecorder()
    {
    }

    public static void install()
    {
        ResourceLeakDetector.setLevel(ResourceLeakDetector.Level.PARANOID);
        ResourceLeakDetectorFactory.setResourceLeakDetectorFactory(new ResourceLeakDetectorFactory()
        {
            @Override
            public <T> ResourceLeakDetector<T> newResourceLeakDetector(
                final Class<T> resource, final int samplingInterval, final long maxActive)
            {
                return new ResourceLeakDetector<>(resource, samplingInterval)
                {
                    @Override
                    protected boolean needReport()
                    {
                        return true;
                    }

                    @Override
                    protected void reportTracedLeak(final String resourceType, final String records)
                    {
                        LEAKS.add(resourceType + " leaked:" + records);
                    }

                    @Override
                    protected void reportUntracedLeak(final String resourceType)
                    {
                        LEAKS.add(resourceType + " leaked");
                    }
                };
            }
        });
    }

    /**
     * Lets the collector find unreachable unreleased buffers; the detector reports them on its next allocation.
     *
     * @return every leak reported so far.
     * @throws InterruptedException if interrupted while waiting.
     */
    public static List<String> collect() throws InterruptedException
    {
        for (int i = 0; i < 5; i++)
        {
            System.gc();
            Thread.sleep(50);
            final ByteBuf probe = PooledByteBufAllocator.DEFAULT.directBuffer(16);
            probe.release();
        }
        return List.copyOf(LEAKS);
    }
}
