package io.jderper.server.metrics;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpHandler;
import com.sun.net.httpserver.HttpServer;
import io.prometheus.metrics.config.PrometheusProperties;
import io.prometheus.metrics.exporter.httpserver.MetricsHandler;
import io.prometheus.metrics.instrumentation.jvm.JvmMetrics;
import io.prometheus.metrics.model.registry.PrometheusRegistry;

import java.io.IOException;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;

/**
 * The metrics listener ({@code -metrics-addr}), apart from the relay's own listeners so that it can stay on loopback
 * or a private network: {@code /metrics} in Prometheus text or OpenMetrics (the Prometheus library negotiates the
 * format from {@code Accept}), with the JVM's and the process's metrics beside the relay's, and {@code /debug/varz}
 * in derper's names. Requests are served on virtual threads; the relay's event loops never see them.
 */
public final class MetricsServer implements AutoCloseable
{
    /** Path of the Prometheus endpoint. */
    public static final String METRICS_PATH = "/metrics";
    /** Path of derper's Prometheus text view. */
    public static final String VARZ_PATH = "/debug/varz";

    private static final String TEXT = "text/plain; charset=utf-8";
    private static final String VARZ_CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8";
    private static final int BACKLOG = 16;

    static
    {
        // The JDK server has no request deadlines by default; the Prometheus library's own server sets these too,
        // so that a client that opens a connection and dribbles cannot hold a thread for ever.
        System.getProperties().putIfAbsent("sun.net.httpserver.maxReqTime", "60");
        System.getProperties().putIfAbsent("sun.net.httpserver.maxRspTime", "600");
    }

    private final HttpServer server;
    private final ExecutorService executor;

    private MetricsServer(final HttpServer server, final ExecutorService executor)
    {
        this.server = server;
        this.executor = executor;
    }

    /**
     * Binds and starts serving.
     *
     * @param bind    where to listen.
     * @param sources what the relay counts.
     * @return the running listener.
     * @throws IOException with the system's reason if the address cannot be bound.
     */
    public static MetricsServer start(final InetSocketAddress bind, final MetricsSources sources) throws IOException
    {
        final List<MetricFamily> families = RelayMetricFamilies.of(sources);
        final PrometheusProperties properties = PrometheusProperties.get();
        final PrometheusRegistry registry = new PrometheusRegistry();
        registry.register(new RelayCollector(families));
        // GC, memory, threads, class loading, and the process's CPU, RSS and descriptors.
        JvmMetrics.builder(properties).register(registry);
        final HttpServer server = HttpServer.create(bind, BACKLOG);
        final ExecutorService executor = Executors.newThreadPerTaskExecutor(
            Thread.ofVirtual().name("jderper-metrics-", 0).factory());
        server.setExecutor(executor);
        server.createContext("/", exactly("/", exchange -> respond(exchange, 200, TEXT,
            "jderper metrics\n" + METRICS_PATH + "  Prometheus text or OpenMetrics\n" + VARZ_PATH +
                "  derper's names, Prometheus text\n")));
        server.createContext(METRICS_PATH, exactly(METRICS_PATH, new MetricsHandler(properties, registry)));
        server.createContext(VARZ_PATH, exactly(VARZ_PATH, exchange -> respond(exchange, 200, VARZ_CONTENT_TYPE,
            VarzText.render(families))));
        server.start();
        return new MetricsServer(server, executor);
    }

    /**
     * @return the bound address (with the real port if port 0 was asked for).
     */
    public InetSocketAddress address()
    {
        return server.getAddress();
    }

    /**
     * Stops listening; a scrape in progress is cut short.
     */
    @Override
    public void close()
    {
        server.stop(0);
        executor.shutdownNow();
    }

    /**
     * The JDK server routes by path prefix; this answers 404 for anything but the path itself, and 405 for methods
     * other than GET and HEAD.
     */
    private static HttpHandler exactly(final String path, final HttpHandler handler)
    {
        return exchange ->
        {
            try (exchange)
            {
                if (!path.equals(exchange.getRequestURI().getPath()))
                {
                    respond(exchange, 404, TEXT, "not found; try " + METRICS_PATH + " or " + VARZ_PATH + "\n");
                }
                else if (!"GET".equals(exchange.getRequestMethod()) && !"HEAD".equals(exchange.getRequestMethod()))
                {
                    exchange.getResponseHeaders().set("Allow", "GET, HEAD");
                    respond(exchange, 405, TEXT, "GET or HEAD only\n");
                }
                else
                {
                    handler.handle(exchange);
                }
            }
        };
    }

    private static void respond(final HttpExchange exchange, final int status, final String contentType,
        final String body) throws IOException
    {
        final byte[] bytes = body.getBytes(StandardCharsets.UTF_8);
        exchange.getResponseHeaders().set("Content-Type", contentType);
        final boolean head = "HEAD".equals(exchange.getRequestMethod());
        exchange.sendResponseHeaders(status, head ? -1 : bytes.length);
        if (!head)
        {
            try (OutputStream stream = exchange.getResponseBody())
            {
                stream.write(bytes);
            }
        }
    }
}
