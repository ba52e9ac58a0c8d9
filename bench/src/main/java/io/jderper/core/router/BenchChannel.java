package io.jderper.core.router;

import org.agrona.DirectBuffer;

import java.util.concurrent.Executor;

/**
 * The transport side of one connection, reduced to what costs nothing: a written packet goes straight back to the
 * pool (as if the socket took it at once), control frames and flushes are only counted. Always writable. Every
 * method but {@link #execute} runs on the owning loop's thread, so the counters are plain fields.
 */
final class BenchChannel implements ClientChannel<BenchFrame>
{
    private final BenchFrames frames;
    private final Executor loop;
    long packetsWritten;
    long controlsWritten;
    long flushes;
    boolean closed;

    BenchChannel(final BenchFrames frames, final Executor loop)
    {
        this.frames = frames;
        this.loop = loop;
    }

    @Override
    public boolean isWritable()
    {
        return true;
    }

    @Override
    public void writePacket(final BenchFrame packet)
    {
        packetsWritten++;
        frames.release(packet);
    }

    @Override
    public void writeControl(final DirectBuffer frame, final int offset, final int length)
    {
        controlsWritten++;
    }

    @Override
    public void flush()
    {
        flushes++;
    }

    @Override
    public void setReading(final boolean reading)
    {
    }

    @Override
    public void close()
    {
        closed = true;
    }

    @Override
    public void closeAfterFlush()
    {
        // Nothing is buffered: writes complete at once here.
        close();
    }

    @Override
    public void execute(final Runnable task)
    {
        loop.execute(task);
    }
}
