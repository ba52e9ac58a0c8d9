package io.jderper.transport;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.SelectionKey;
import java.nio.channels.Selector;
import java.nio.channels.SocketChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;

/**
 * A separate process (the test JVM could not hold both ends of 10,000 connections under a 20,000 file limit) that
 * opens many connections and never completes a handshake on any: every {@code helloEvery}-th sends a TLS ClientHello
 * and then nothing, the rest send nothing at all. It waits for the server to close them and prints, one line each,
 * {@code connected N} and then {@code closed N earliestMs E latestMs L} (lifetimes from the connect call to the
 * close seen).
 * Uses the JDK only, so it runs from the test classes directory alone.
 *
 * <p>Arguments: host port count helloEvery helloFile timeoutSeconds.
 */
public final class LoiteringClients
{
    private static final int MAX_CONNECTING = 256;

    private LoiteringClients()
    {
    }

    public static void main(final String[] args) throws IOException
    {
        final InetSocketAddress server = new InetSocketAddress(args[0], Integer.parseInt(args[1]));
        final int count = Integer.parseInt(args[2]);
        final int helloEvery = Integer.parseInt(args[3]);
        final byte[] hello = Files.readAllBytes(Path.of(args[4]));
        final long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(Long.parseLong(args[5]));
        final long[] openedAt = new long[count];
        final long begun = System.nanoTime();
        final ByteBuffer sink = ByteBuffer.allocate(64 << 10);
        try (Selector selector = Selector.open())
        {
            int started = 0;
            int connecting = 0;
            int connected = 0;
            int failed = 0;
            int closed = 0;
            long earliest = Long.MAX_VALUE;
            long latest = 0;
            boolean announced = false;
            while (closed < count && System.nanoTime() < deadline)
            {
                // A few hundred connects in flight at most: a burst past the server's accept backlog would have SYNs
                // dropped and retried for seconds, and lifetimes would measure that instead of the server's deadline.
                while (started < count && connecting < MAX_CONNECTING)
                {
                    final SocketChannel channel = SocketChannel.open();
                    channel.configureBlocking(false);
                    // Lifetimes count from here, before the server can have accepted: never shorter than the server's.
                    openedAt[started] = System.nanoTime();
                    if (channel.connect(server))
                    {
                        opened(channel, started, helloEvery, hello);
                        channel.register(selector, SelectionKey.OP_READ, started);
                        connected++;
                    }
                    else
                    {
                        channel.register(selector, SelectionKey.OP_CONNECT, started);
                        connecting++;
                    }
                    started++;
                }
                if (!announced && connected + failed == count)
                {
                    System.out.println("connected " + connected + " afterMs " +
                        TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - begun));
                    announced = true;
                }
                selector.select(100);
                for (final SelectionKey key : selector.selectedKeys())
                {
                    final SocketChannel channel = (SocketChannel)key.channel();
                    final int index = (Integer)key.attachment();
                    if (key.isConnectable())
                    {
                        connecting--;
                        try
                        {
                            channel.finishConnect();
                            opened(channel, index, helloEvery, hello);
                            key.interestOps(SelectionKey.OP_READ);
                            connected++;
                        }
                        catch (final IOException ex)
                        {
                            System.out.println("connect failed: " + ex);
                            failed++;
                            closed++;
                            key.cancel();
                            channel.close();
                        }
                        continue;
                    }
                    int read;
                    try
                    {
                        sink.clear();
                        read = channel.read(sink);
                    }
                    catch (final IOException ex)
                    {
                        read = -1;
                    }
                    if (read < 0)
                    {
                        final long lifetime = System.nanoTime() - openedAt[index];
                        earliest = Math.min(earliest, lifetime);
                        latest = Math.max(latest, lifetime);
                        closed++;
                        key.cancel();
                        channel.close();
                    }
                }
                selector.selectedKeys().clear();
            }
            if (!announced)
            {
                System.out.println("connected " + connected + " afterMs " +
                    TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - begun));
            }
            System.out.println("closed " + closed + " earliestMs " + TimeUnit.NANOSECONDS.toMillis(earliest) +
                " latestMs " + TimeUnit.NANOSECONDS.toMillis(latest));
        }
    }

    private static void opened(final SocketChannel channel, final int index, final int helloEvery,
        final byte[] hello) throws IOException
    {
        if (index % helloEvery == 0)
        {
            // A ClientHello is a few hundred bytes: a fresh socket's buffer takes it whole.
            channel.write(ByteBuffer.wrap(hello));
        }
    }
}
