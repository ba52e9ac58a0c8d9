package io.jderper.bench.vthreads;

import io.jderper.core.protocol.ProtocolLimits;
import io.jderper.core.router.RelayLoop;
import io.jderper.core.router.Router;
import io.jderper.transport.derp.ByteBufPacketFrames;
import io.netty.buffer.ByteBuf;
import org.agrona.concurrent.ManyToOneConcurrentLinkedQueue;
import org.agrona.concurrent.SystemNanoClock;
import org.agrona.concurrent.UnsafeBuffer;

import java.util.concurrent.Executor;
import java.util.concurrent.locks.LockSupport;
import java.util.concurrent.locks.ReentrantLock;

/**
 * A share of the connections and the {@link RelayLoop} that owns their sessions. relay-core wants every session
 * touched by one thread at a time; with a thread per connection that is this shard's lock: a connection's reader
 * holds it while its frames are dispatched, and the shard's task thread holds it while it runs tasks from other
 * threads (packets from other shards, admission results, ticks) in the order they came.
 */
final class Shard implements Executor
{
    private final ReentrantLock lock = new ReentrantLock();
    private final ManyToOneConcurrentLinkedQueue<Runnable> tasks = new ManyToOneConcurrentLinkedQueue<>();
    private final RelayLoop<ByteBuf> relay;
    private final UnsafeBuffer scratch = new UnsafeBuffer(new byte[ProtocolLimits.MAX_PING_LENGTH + 96]);
    private final Thread taskThread;
    private volatile boolean running = true;

    Shard(final Router<ByteBuf> router, final ByteBufPacketFrames frames, final int index)
    {
        this.relay = new RelayLoop<>(router, this, frames, SystemNanoClock.INSTANCE);
        this.taskThread = Thread.ofVirtual().name("vthreads-shard-" + index).start(this::runTasks);
    }

    @Override
    public void execute(final Runnable task)
    {
        tasks.offer(task);
        LockSupport.unpark(taskThread);
    }

    private void runTasks()
    {
        while (running)
        {
            if (!tasks.isEmpty())
            {
                lock.lock();
                try
                {
                    Runnable task;
                    while (null != (task = tasks.poll()))
                    {
                        runGuarded(task);
                    }
                }
                finally
                {
                    lock.unlock();
                }
            }
            // A wake-up that arrived while tasks ran left a permit: this returns at once and the queue is looked at
            // again, so no task waits for the next one.
            LockSupport.park(this);
        }
    }

    private static void runGuarded(final Runnable task)
    {
        try
        {
            task.run();
        }
        catch (final RuntimeException ex)
        {
            // One failed task must not stop the shard: the others belong to other connections.
            System.err.println("vthreads: task failed: " + ex);
        }
    }

    void lock()
    {
        lock.lock();
    }

    void unlock()
    {
        lock.unlock();
    }

    RelayLoop<ByteBuf> relay()
    {
        return relay;
    }

    UnsafeBuffer scratch()
    {
        return scratch;
    }

    void stop()
    {
        running = false;
        LockSupport.unpark(taskThread);
    }
}
