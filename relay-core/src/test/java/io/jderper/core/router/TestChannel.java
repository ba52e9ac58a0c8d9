package io.jderper.core.router;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

import org.agrona.DirectBuffer;

/**
 * Fake transport side of one connection. Records every packet and control frame in write order, flushes,
 * reading changes and closes. Like a real transport, {@link #close()} leads to one {@link ClientSession#onClosed()}
 * later, on the loop.
 */
final class TestChannel implements ClientChannel<TestFrame>
{
    private final TaskQueue loop;
    ClientSession<TestFrame> session;
    /** Packets and control frames (as byte[]) in the order they were written. */
    final List<Object> written = new ArrayList<>();
    final List<TestFrame> packets = new ArrayList<>();
    final List<byte[]> controls = new ArrayList<>();
    final List<Boolean> readingChanges = new ArrayList<>();
    boolean writable = true;
    /** When non-negative, the channel turns unwritable after this many more packet writes. */
    int packetsUntilUnwritable = -1;
    boolean reading = true;
    /** Whether close() calls onClosed() at once instead of later on the loop (a transport may do either). */
    boolean closeSynchronously;
    boolean closed;
    /** Whether the close waited for what was written (graceful shutdown). */
    boolean closedAfterFlush;
    int closeCalls;
    int flushes;
    int writesSinceFlush;
    /** What {@link #tcpRttMicros()} reports; an in-memory channel is no TCP socket unless a test says so. */
    long rttMicros = RTT_NOT_TCP;
    int rttReadings;

    TestChannel(final TaskQueue loop)
    {
        this.loop = loop;
    }

    @Override
    public long tcpRttMicros()
    {
        rttReadings++;
        return rttMicros;
    }

    @Override
    public boolean isWritable()
    {
        return writable;
    }

    @Override
    public void writePacket(final TestFrame packet)
    {
        if (packet.released || packet.written)
        {
            throw new AssertionError("wrote a frame the core no longer owns: " + packet);
        }
        if (null == packet.data())
        {
            throw new AssertionError("wrote a frame whose data was never filled: " + packet);
        }
        packet.written = true;
        packets.add(packet);
        written.add(packet);
        writesSinceFlush++;
        if (packetsUntilUnwritable > 0 && 0 == --packetsUntilUnwritable)
        {
            writable = false;
        }
    }

    @Override
    public void writeControl(final DirectBuffer frame, final int offset, final int length)
    {
        final byte[] copy = new byte[length];
        frame.getBytes(offset, copy);
        controls.add(copy);
        written.add(copy);
        writesSinceFlush++;
    }

    @Override
    public void flush()
    {
        flushes++;
        writesSinceFlush = 0;
    }

    @Override
    public void setReading(final boolean reading)
    {
        this.reading = reading;
        readingChanges.add(reading);
    }

    @Override
    public void close()
    {
        closeCalls++;
        if (!closed)
        {
            closed = true;
            if (null != session && closeSynchronously)
            {
                session.onClosed();
            }
            else if (null != session)
            {
                final ClientSession<TestFrame> owner = session;
                loop.execute(owner::onClosed);
            }
        }
    }

    @Override
    public void closeAfterFlush()
    {
        closedAfterFlush = true;
        close();
    }

    @Override
    public void execute(final Runnable task)
    {
        loop.execute(task);
    }

    /** Control frames of one type, whole (header included). */
    List<byte[]> controls(final byte type)
    {
        return controls.stream().filter(frame -> frame[0] == type).toList();
    }

    List<byte[]> packetData()
    {
        return packets.stream().map(TestFrame::data).toList();
    }

    @Override
    public String toString()
    {
        return "TestChannel{packets=" + packets.size() + ", controls=" +
            controls.stream().map(c -> Arrays.toString(Arrays.copyOf(c, Math.min(6, c.length)))).toList() + "}";
    }
}
