package io.jderper.core.router;

import org.agrona.concurrent.ManyToOneConcurrentArrayQueue;

import java.util.concurrent.Executor;

/**
 * Stands in for an event loop's task queue: any thread may {@link #execute}, one thread runs the tasks. A
 * {@link RelayLoop} keeps at most one inbox drain task queued, so a small bounded queue never fills; offering into it
 * allocates nothing.
 */
final class LoopTasks implements Executor
{
    private final ManyToOneConcurrentArrayQueue<Runnable> tasks = new ManyToOneConcurrentArrayQueue<>(1024);

    @Override
    public void execute(final Runnable task)
    {
        if (!tasks.offer(task))
        {
            throw new IllegalStateException("loop task queue full");
        }
    }

    /**
     * @return the next task, or null.
     */
    Runnable poll()
    {
        return tasks.poll();
    }

    /**
     * Runs queued tasks, and those they queue, until none is left.
     *
     * @return how many ran.
     */
    int runPending()
    {
        int ran = 0;
        Runnable task;
        while (null != (task = tasks.poll()))
        {
            task.run();
            ran++;
        }
        return ran;
    }
}
