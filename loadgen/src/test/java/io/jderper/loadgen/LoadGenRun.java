package io.jderper.loadgen;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.util.List;

/**
 * One loadgen command line run in this JVM, with its exit status and what it printed.
 *
 * @param code   the exit status.
 * @param stdout what it printed on standard output.
 * @param stderr what it printed on standard error.
 */
record LoadGenRun(int code, String stdout, String stderr)
{
    static LoadGenRun of(final List<String> args)
    {
        final ByteArrayOutputStream stdout = new ByteArrayOutputStream();
        final ByteArrayOutputStream stderr = new ByteArrayOutputStream();
        final int code = LoadGen.run(args.toArray(String[]::new), new PrintStream(stdout, true,
            StandardCharsets.UTF_8), new PrintStream(stderr, true, StandardCharsets.UTF_8));
        return new LoadGenRun(code, stdout.toString(StandardCharsets.UTF_8), stderr.toString(StandardCharsets.UTF_8));
    }

    /**
     * @return both outputs, for an assertion's description.
     */
    String output()
    {
        return "stdout:\n" + stdout + "\nstderr:\n" + stderr;
    }
}
