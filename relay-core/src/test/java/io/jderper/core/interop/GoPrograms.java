package io.jderper.core.interop;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/**
 * Runs a program of the Go interop module ({@code interop/}, beside every Maven module) that prints test vectors made
 * by Tailscale's own code at the pinned version. Shared with other modules' tests through relay-core's test jar.
 */
public final class GoPrograms
{
    private static final long TIMEOUT_MINUTES = 5;

    private GoPrograms()
    {
    }

    /**
     * Runs {@code go run <pkg>} in the interop module and returns what it printed; its standard error goes to the
     * test's.
     *
     * @param pkg the program's package, e.g. {@code ./cmd/vectorgen}.
     * @return its standard output.
     * @throws AssertionError if Go is missing, the program fails, or it runs longer than 5 minutes.
     */
    public static byte[] stdoutOf(final String pkg) throws InterruptedException
    {
        final Path interop = Path.of("..", "interop").toAbsolutePath().normalize();
        if (!Files.isDirectory(interop.resolve(pkg)))
        {
            throw new AssertionError("the Go interop program " + pkg + " is missing from " + interop);
        }
        final ProcessBuilder builder = new ProcessBuilder("go", "run", pkg).directory(interop.toFile());
        builder.redirectError(ProcessBuilder.Redirect.INHERIT);
        final Process process;
        try
        {
            process = builder.start();
        }
        catch (final IOException ex)
        {
            throw new AssertionError("Go is needed to generate the interop vectors and could not be started", ex);
        }
        final CompletableFuture<byte[]> stdout = CompletableFuture.supplyAsync(() -> readAll(process.getInputStream()));
        if (!process.waitFor(TIMEOUT_MINUTES, TimeUnit.MINUTES))
        {
            process.destroyForcibly();
            throw new AssertionError("go run " + pkg + " did not finish within " + TIMEOUT_MINUTES + " minutes");
        }
        if (0 != process.exitValue())
        {
            throw new AssertionError("go run " + pkg + " exited with " + process.exitValue());
        }
        try
        {
            return stdout.get(1, TimeUnit.MINUTES);
        }
        catch (final ExecutionException | TimeoutException ex)
        {
            throw new AssertionError("reading the output of go run " + pkg + " failed", ex);
        }
    }

    private static byte[] readAll(final InputStream in)
    {
        try (in; ByteArrayOutputStream out = new ByteArrayOutputStream())
        {
            in.transferTo(out);
            return out.toByteArray();
        }
        catch (final IOException ex)
        {
            throw new UncheckedIOException(ex);
        }
    }
}
