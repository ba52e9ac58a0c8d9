package io.jderper.stun.server;

import org.agrona.concurrent.UnsafeBuffer;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.SocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.ClosedChannelException;
import java.nio.channels.DatagramChannel;

/**
 * The portable engine: one blocking {@link DatagramChannel}, one datagram per system call. The JDK hands each
 * sender over as a new {@link InetSocketAddress}, so this engine allocates per datagram; it serves where the Linux
 * batch engine cannot (other systems, or when asked for with {@code -Djderper.stun.engine=jdk}).
 */
final class JdkEngine implements DatagramEngine
{
    private final DatagramChannel channel;
    private final InetSocketAddress localAddress;
    private final ErrorLog errors = new ErrorLog();

    private JdkEngine(final DatagramChannel channel) throws IOException
    {
        this.channel = channel;
        this.localAddress = (InetSocketAddress)channel.getLocalAddress();
    }

    static JdkEngine open(final InetSocketAddress bind) throws IOException
    {
        // With no family given the JDK opens a dual-stack socket where IPv6 exists, as Go does for a wildcard.
        final DatagramChannel channel = DatagramChannel.open();
        try
        {
            channel.bind(bind);
            return new JdkEngine(channel);
        }
        catch (final IOException | RuntimeException ex)
        {
            channel.close();
            throw ex;
        }
    }

    @Override
    public String description()
    {
        return "JDK DatagramChannel, one datagram per call";
    }

    @Override
    public InetSocketAddress localAddress()
    {
        return localAddress;
    }

    @Override
    public void serve(final StunResponder responder)
    {
        final ByteBuffer in = ByteBuffer.allocateDirect(LinuxBatchEngine.RECEIVE_SLOT_LENGTH);
        final ByteBuffer out = ByteBuffer.allocateDirect(StunResponder.MAX_REPLY_LENGTH);
        final UnsafeBuffer request = new UnsafeBuffer(in);
        final UnsafeBuffer reply = new UnsafeBuffer(out);
        final UnsafeBuffer sender = new UnsafeBuffer(new byte[0]);
        while (channel.isOpen())
        {
            final SocketAddress from;
            try
            {
                in.clear();
                from = channel.receive(in);
            }
            catch (final ClosedChannelException ex)
            {
                return;
            }
            catch (final IOException ex)
            {
                responder.counters().readErrors.increment();
                errors.log("receive", ex.toString());
                continue;
            }
            if (!(from instanceof InetSocketAddress source))
            {
                continue;
            }
            if (in.position() == in.capacity())
            {
                // The JDK drops the rest of a longer datagram without saying so; a full buffer may mean that.
                responder.truncated();
                continue;
            }
            final byte[] address = source.getAddress().getAddress();
            sender.wrap(address);
            final int length = responder.respond(request, 0, in.position(), sender, 0, address.length,
                source.getPort(), reply, 0);
            if (length > 0)
            {
                send(responder, out, length, source);
            }
        }
    }

    private void send(final StunResponder responder, final ByteBuffer out, final int length,
        final InetSocketAddress to)
    {
        out.clear().limit(length);
        try
        {
            channel.send(out, to);
            responder.counters().replies.increment();
        }
        catch (final ClosedChannelException ex)
        {
            // Stopping; the loop ends on its next check.
        }
        catch (final IOException ex)
        {
            responder.counters().writeErrors.increment();
            errors.log("send", ex.toString());
        }
    }

    @Override
    public void stop()
    {
        release();
    }

    @Override
    public void release()
    {
        try
        {
            channel.close();
        }
        catch (final IOException ex)
        {
            errors.log("close", ex.toString());
        }
    }
}
