package io.jderper.core.router;

import java.util.ArrayList;
import java.util.List;

/**
 * A fake mesh peer: keeps the ForwardPacket frames it is given (marking them written, as a transport would once it
 * wrote them), or refuses them and releases them, as a full forwarding queue does.
 */
final class TestForwarder implements PacketForwarder<TestFrame>
{
    final String name;
    final List<TestFrame> forwarded = new ArrayList<>();
    boolean refusing;

    TestForwarder(final String name)
    {
        this.name = name;
    }

    @Override
    public boolean forward(final TestFrame frame)
    {
        if (frame.released || frame.written || null == frame.data())
        {
            throw new AssertionError("forwarded a frame the core does not own or never filled: " + frame);
        }
        if (refusing)
        {
            frame.released = true;
            return false;
        }
        frame.written = true;
        forwarded.add(frame);
        return true;
    }

    @Override
    public String describe()
    {
        return name;
    }
}
