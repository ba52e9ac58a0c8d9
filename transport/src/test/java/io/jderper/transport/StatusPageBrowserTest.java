package io.jderper.transport;

import static org.assertj.core.api.Assertions.assertThat;

import io.jderper.core.key.NodePrivateKey;
import io.jderper.core.protocol.FrameType;
import io.jderper.core.router.DropReason;
import io.jderper.core.router.RelayMetrics;
import io.jderper.transport.http.HttpPages;
import io.jderper.transport.http.StatusPage;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.SecureRandom;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The operator's status page in a real browser: headless Chromium (the Debian package, installed here if missing)
 * loads the home page of a relay that carried known traffic, and the rendered DOM must show the figures the relay
 * counted (that public visitors get derper's plain page is RelayHttpHandlerPagesTest's: a browser here is always on
 * loopback). The screenshot is left in target/ for the docs.
 */
class StatusPageBrowserTest
{
    private static final int PACKETS = 25;
    private static final long BROWSER_TIMEOUT_S = 60;

    @TempDir
    Path browserProfile;
    private final RelayMetrics metrics = new RelayMetrics();
    private final List<TestDerpClient> clients = new ArrayList<>();
    private RelayServer server;

    @AfterEach
    void stop() throws IOException
    {
        for (final TestDerpClient client : clients)
        {
            client.close();
        }
        if (null != server)
        {
            server.close();
        }
    }

    private void start(final HttpPages pages) throws InterruptedException
    {
        server = RelayServer.start(LoopbackRelays.plainHttp(metrics).withPages(pages));
    }

    private TestDerpClient connect() throws Exception
    {
        final Socket socket = new Socket();
        socket.connect(server.mainAddress(), 5_000);
        socket.setSoTimeout(5_000);
        final TestDerpClient client = TestDerpClient.connected(socket);
        clients.add(client);
        return client;
    }

    @Test
    void shouldRenderTheRelaysFiguresForTheOperator() throws Exception
    {
        final StatusPage status = new StatusPage(metrics, System.nanoTime(),
            () -> List.of(new StatusPage.MeshPeerStatus("derp2.example.com", false)),
            () -> "{\"Name\": \"900a\", \"RegionID\": 900}");
        start(HttpPages.DEFAULTS.withStatus(status));
        final TestDerpClient sender = connect();
        final TestDerpClient receiver = connect();
        for (int i = 0; i < PACKETS; i++)
        {
            sender.sendPacket(receiver.publicKey(), ("packet " + i).getBytes(StandardCharsets.US_ASCII));
            receiver.readUntil(FrameType.RECV_PACKET);
        }
        sender.sendPacket(NodePrivateKey.generate(new SecureRandom()).publicKey(), new byte[10]);
        RelayFixture.await("the drop counted", () -> 1 == metrics.packetsDropped(DropReason.UNKNOWN_DEST,
            RelayMetrics.KIND_OTHER));

        final Path screenshot = Path.of("target", "status-page.png").toAbsolutePath();
        final String dom = Chromium.render(home(), browserProfile, screenshot);

        assertThat(dom).contains("<h1>DERP</h1>").contains("Operator status");
        assertThat(figure(dom, "connections")).isEqualTo(metrics.currentConnections.get()).isEqualTo(2);
        assertThat(figure(dom, "packets-sent")).isEqualTo(metrics.packetsSent.sum()).isEqualTo(PACKETS);
        assertThat(figure(dom, "packets-received")).isEqualTo(metrics.packetsReceived.sum()).isEqualTo(PACKETS + 1);
        assertThat(figure(dom, "bytes-sent")).isEqualTo(metrics.bytesSent.sum());
        assertThat(figure(dom, "drops")).isEqualTo(1);
        assertThat(dom).contains("data-reason=\"unknown_dest\" data-value=\"1\"")
            .contains("derp2.example.com: not connected")
            .contains("\"RegionID\": 900");
        assertThat(Files.size(screenshot)).as("a PNG of the page").isGreaterThan(1000);
        assertThat(Files.readAllBytes(screenshot)).startsWith(0x89, 'P', 'N', 'G');
    }

    private String home()
    {
        return "http://127.0.0.1:" + server.mainAddress().getPort() + "/";
    }

    private static long figure(final String dom, final String id)
    {
        final Matcher matcher = Pattern.compile("id=\"" + id + "\" data-value=\"(\\d+)\"").matcher(dom);
        assertThat(matcher.find()).as("figure " + id + " in the rendered page").isTrue();
        return Long.parseLong(matcher.group(1));
    }

    /**
     * Headless Chromium from the command line: {@code --dump-dom} prints the DOM once the page has loaded.
     */
    static final class Chromium
    {
        private static final List<String> NAMES = List.of("chromium", "chromium-browser", "google-chrome");

        static String render(final String url, final Path profile, final Path screenshot) throws Exception
        {
            final String browser = find();
            final List<String> command = new ArrayList<>(List.of(browser, "--headless=new", "--no-sandbox",
                "--disable-gpu", "--no-first-run", "--disable-extensions", "--user-data-dir=" + profile,
                "--window-size=960,780"));
            if (null != screenshot)
            {
                Files.createDirectories(screenshot.getParent());
                Files.deleteIfExists(screenshot);
                // A second run for the picture: --screenshot and --dump-dom do not combine.
                run(withArguments(command, "--screenshot=" + screenshot, url));
            }
            return run(withArguments(command, "--dump-dom", url));
        }

        private static List<String> withArguments(final List<String> command, final String... more)
        {
            final List<String> all = new ArrayList<>(command);
            all.addAll(List.of(more));
            return all;
        }

        private static String run(final List<String> command) throws Exception
        {
            final Path output = Files.createTempFile("chromium", ".out");
            try
            {
                final Process process = new ProcessBuilder(command).redirectErrorStream(false)
                    .redirectOutput(output.toFile()).redirectError(ProcessBuilder.Redirect.DISCARD).start();
                if (!process.waitFor(BROWSER_TIMEOUT_S, TimeUnit.SECONDS))
                {
                    process.destroyForcibly();
                    throw new AssertionError("chromium did not finish within " + BROWSER_TIMEOUT_S + " s: " + command);
                }
                assertThat(process.exitValue()).as("chromium's exit status for " + command).isZero();
                return Files.readString(output, StandardCharsets.UTF_8);
            }
            finally
            {
                Files.deleteIfExists(output);
            }
        }

        /**
         * @return the browser's command, after installing Debian's chromium if none is on the PATH.
         */
        private static String find() throws Exception
        {
            final String found = onPath();
            if (null != found)
            {
                return found;
            }
            final Process install = new ProcessBuilder("sh", "-c", "apt-get update -q && " +
                "DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends chromium").inheritIO()
                .start();
            assertThat(install.waitFor(15, TimeUnit.MINUTES)).as("apt-get install chromium finished").isTrue();
            assertThat(install.exitValue()).as("apt-get install chromium (needs root and Debian's mirror)").isZero();
            final String installed = onPath();
            assertThat(installed).as("chromium on the PATH after installing it").isNotNull();
            return installed;
        }

        private static String onPath()
        {
            for (final String dir : System.getenv().getOrDefault("PATH", "").split(":"))
            {
                for (final String name : NAMES)
                {
                    if (Files.isExecutable(Path.of(dir, name)))
                    {
                        return Path.of(dir, name).toString();
                    }
                }
            }
            return null;
        }
    }
}
