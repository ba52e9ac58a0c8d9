package io.jderper.core.router;

import java.util.ArrayDeque;
import java.util.concurrent.Executor;

/**
 * Stands in for an event loop: tasks are queued and run only when the test says so, on the test's thread.
 */
final class TaskQueue implements Executor
{
    private static final int MAX_TASKS_PER_RUN = 100_000;
    private final ArrayDeque<Runnable> tasks = new ArrayDeque<>();

    @Override
    public synchronized void execute(final Runnable task)
    {
        tasks.addLast(task);
    }

    synchronized int size()
    {
        return tasks.size();
    }

    /**
     * Runs queued tasks, including those they queue, until none is left.
     *
     * @return how many ran.
     */
    int runAll()
    {
        int ran = 0;
        while (true)
        {
            final Runnable task;
            synchronized (this)
            {
                task = tasks.pollFirst();
            }
            if (null == task)
            {
                return ran;
            }
            if (++ran > MAX_TASKS_PER_RUN)
            {
                throw new AssertionError("tasks keep queueing themselves");
            }
            task.run();
        }
    }
}
