package io.jderper.server.deploy;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.MappingIterator;
import com.fasterxml.jackson.dataformat.yaml.YAMLMapper;
import io.jderper.server.ListenAddress;
import io.jderper.server.cli.DerperOptions;
import io.jderper.transport.mesh.MeshPeerAddress;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;
import java.util.stream.IntStream;
import java.util.stream.Stream;
import java.util.stream.StreamSupport;

import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * deploy/kubernetes: the StatefulSet's relays mesh with each other by the headless Service's DNS names, find the
 * Secrets where their flags point, and listen where the Services send traffic. The container args go through the
 * relay's own flag parser, so a flag the relay would refuse fails here instead of in a crash-looping pod.
 */
class DeployManifestsTest
{
    private static final Path MANIFESTS = Path.of("..", "deploy", "kubernetes");

    private static List<JsonNode> documents;
    private static JsonNode statefulSet;
    private static JsonNode container;
    private static DerperOptions options;

    @BeforeAll
    static void readManifests() throws IOException
    {
        final YAMLMapper yaml = new YAMLMapper();
        final List<JsonNode> read = new ArrayList<>();
        try (Stream<Path> files = Files.list(MANIFESTS))
        {
            for (final Path file : files.filter(f -> f.toString().endsWith(".yaml")).sorted().toList())
            {
                try (MappingIterator<JsonNode> docs = yaml.readerFor(JsonNode.class).readValues(file.toFile()))
                {
                    docs.readAll().stream().filter(doc -> !doc.isNull()).forEach(read::add);
                }
            }
        }
        documents = List.copyOf(read);
        statefulSet = only("StatefulSet");
        final JsonNode containers = statefulSet.at("/spec/template/spec/containers");
        assertThat(containers.size()).as("one relay container per pod").isEqualTo(1);
        container = containers.get(0);
        options = DerperOptions.parse(texts(container.get("args")).toArray(String[]::new));
    }

    @Test
    void shouldParseTheContainerArgsWithTheRelaysFlagParserWithoutWarnings()
    {
        assertThat(options.warnings()).isEmpty();
        assertThat(options.certProviderRefusal()).isEmpty();
        assertThat(options.certMode()).isEqualTo("manual");
    }

    @Test
    void shouldMeshWithEveryReplicaByItsStableDnsNameUnderThePublicName()
    {
        final String namespace = statefulSet.at("/metadata/namespace").asText();
        final JsonNode headless = service(statefulSet.at("/spec/serviceName").asText());
        assertThat(headless.at("/spec/clusterIP").asText()).as("a headless Service gives pods DNS names")
            .isEqualTo("None");
        assertThat(headless.at("/metadata/namespace").asText()).isEqualTo(namespace);
        final int replicas = statefulSet.at("/spec/replicas").asInt();
        assertThat(replicas).isGreaterThan(1);

        final List<MeshPeerAddress> expected = IntStream.range(0, replicas)
            .mapToObj(i -> new MeshPeerAddress(options.hostname(), statefulSet.at("/metadata/name").asText() + "-" +
                i + "." + headless.at("/metadata/name").asText() + "." + namespace + ".svc.cluster.local"))
            .toList();
        // The name is the public one because a manual-mode relay refuses any other SNI; the port is the listener's.
        assertThat(options.meshWith()).containsExactlyElementsOf(expected);
        assertThat(options.meshWith().getFirst().url().getPort()).isEqualTo(-1);
        assertThat(listenPort()).isEqualTo(443);
    }

    @Test
    void shouldMountTheMeshKeySecretWhereMeshPskFilePoints()
    {
        final JsonNode volume = secretVolumeHolding(Path.of(options.meshPskFile()));
        assertThat(volume.at("/secret/secretName").asText()).isEqualTo("jderper-mesh");
        assertThat(volume.at("/secret/defaultMode").asInt() & 07).as("others may not read the mesh key").isZero();
    }

    @Test
    void shouldMountTheCertificateSecretUnderTheNamesManualModeReads()
    {
        final Path certDir = options.certDir();
        secretVolumeHolding(certDir.resolve(options.hostname() + ".crt"));
        final JsonNode volume = secretVolumeHolding(certDir.resolve(options.hostname() + ".key"));
        assertThat(volume.at("/secret/defaultMode").asInt() & 07).as("others may not read the TLS key").isZero();
    }

    @Test
    void shouldKeepTheServerKeyOnTheReplicasOwnWritableVolume()
    {
        final Path key = Path.of(options.configPath());
        final JsonNode mount = mountOf(key).orElseThrow(() -> new AssertionError("nothing mounted at " + key));
        assertThat(mount.path("readOnly").asBoolean(false)).isFalse();
        final List<String> claims = texts(statefulSet.at("/spec/volumeClaimTemplates"), "/metadata/name");
        assertThat(claims).as("the -c file must survive restarts").contains(mount.get("name").asText());
    }

    @Test
    void shouldExposeTheRelaysPortsThroughBothServices()
    {
        final Map<String, String> containerPorts = new TreeMap<>();
        container.get("ports").forEach(port -> containerPorts.put(port.get("name").asText(),
            port.get("containerPort").asInt() + "/" + port.get("protocol").asText()));
        assertThat(containerPorts).containsExactlyInAnyOrderEntriesOf(Map.of(
            "https", listenPort() + "/TCP",
            "http", options.httpPort() + "/TCP",
            "stun", options.stunPort() + "/UDP",
            "metrics", options.metricsAddr().orElseThrow().address().getPort() + "/TCP"));
        assertThat(statefulSet.at("/spec/template/metadata/annotations/prometheus.io~1port").asInt())
            .as("the scrape annotation names the metrics port").isEqualTo(Integer.parseInt(
                containerPorts.get("metrics").split("/")[0]));
        assertThat(options.metricsAddr().orElseThrow().address().getAddress().isAnyLocalAddress())
            .as("Prometheus scrapes the pod's address, not its loopback").isTrue();

        final JsonNode podLabels = statefulSet.at("/spec/template/metadata/labels");
        final List<JsonNode> services = documents.stream().filter(doc -> "Service".equals(doc.path("kind").asText()))
            .toList();
        assertThat(services).hasSize(2);
        for (final JsonNode service : services)
        {
            service.at("/spec/selector").properties().forEach(selector ->
                assertThat(podLabels.path(selector.getKey()).asText()).as("selector %s", selector.getKey())
                    .isEqualTo(selector.getValue().asText()));
            for (final JsonNode port : service.at("/spec/ports"))
            {
                final String target = containerPorts.get(port.get("targetPort").asText());
                assertThat(target).as("%s port %s", service.at("/metadata/name").asText(), port)
                    .isEqualTo(port.get("port").asInt() + "/" + port.get("protocol").asText());
            }
        }
        final JsonNode external = services.stream().filter(s -> !"None".equals(s.at("/spec/clusterIP").asText()))
            .findFirst().orElseThrow();
        assertThat(texts(external.at("/spec/ports"), "/name")).containsExactlyInAnyOrder("https", "http", "stun");
        assertThat(external.at("/spec/externalTrafficPolicy").asText()).as("STUN must see the client's address")
            .isEqualTo("Local");
    }

    @Test
    void shouldProbeTheCaptivePortalCheckOnThePlainHttpPort()
    {
        assertThat(options.httpPort()).isPositive();
        for (final String probe : List.of("startupProbe", "readinessProbe", "livenessProbe"))
        {
            assertThat(container.at("/" + probe + "/httpGet/path").asText()).as(probe).isEqualTo("/generate_204");
            assertThat(container.at("/" + probe + "/httpGet/port").asText()).as(probe).isEqualTo("http");
        }
    }

    @Test
    void shouldRunAsNonRootWithNetBindServiceOnly()
    {
        final JsonNode pod = statefulSet.at("/spec/template/spec/securityContext");
        assertThat(pod.get("runAsNonRoot").asBoolean()).isTrue();
        assertThat(pod.get("runAsUser").asInt()).isPositive();
        final JsonNode security = container.get("securityContext");
        assertThat(security.get("allowPrivilegeEscalation").asBoolean()).isFalse();
        assertThat(texts(security.at("/capabilities/drop"))).containsExactly("ALL");
        assertThat(texts(security.at("/capabilities/add"))).containsExactly("NET_BIND_SERVICE");
        assertThat(container.at("/resources/requests/memory").asText()).isNotEmpty();
        assertThat(container.at("/resources/limits/memory").asText()).isNotEmpty();
    }

    private static JsonNode only(final String kind)
    {
        final List<JsonNode> found = documents.stream().filter(doc -> kind.equals(doc.path("kind").asText())).toList();
        assertThat(found).as("%s in %s", kind, MANIFESTS).hasSize(1);
        return found.getFirst();
    }

    private static JsonNode service(final String name)
    {
        return documents.stream().filter(doc -> "Service".equals(doc.path("kind").asText()) &&
            name.equals(doc.at("/metadata/name").asText())).findFirst()
            .orElseThrow(() -> new AssertionError("no Service " + name + " for the StatefulSet's serviceName"));
    }

    private static int listenPort()
    {
        return ListenAddress.parse(options.listen()).getPort();
    }

    /** The container's volume mount whose directory holds {@code file}, the deepest if several do. */
    private static Optional<JsonNode> mountOf(final Path file)
    {
        return StreamSupport.stream(container.get("volumeMounts").spliterator(), false)
            .filter(mount -> file.startsWith(Path.of(mount.get("mountPath").asText())))
            .max(Comparator.comparingInt(mount -> mount.get("mountPath").asText().length()));
    }

    /** The Secret volume that puts a key at {@code file}, read-only, failing if there is none. */
    private static JsonNode secretVolumeHolding(final Path file)
    {
        final JsonNode mount = mountOf(file).orElseThrow(() -> new AssertionError("nothing mounted at " + file));
        assertThat(mount.path("readOnly").asBoolean(false)).as("mount of %s", file).isTrue();
        final JsonNode volume = StreamSupport.stream(statefulSet.at("/spec/template/spec/volumes").spliterator(), false)
            .filter(v -> mount.get("name").asText().equals(v.get("name").asText())).findFirst()
            .orElseThrow(() -> new AssertionError("no volume " + mount.get("name")));
        assertThat(volume.has("secret")).as("volume %s is a Secret", volume.get("name")).isTrue();
        final Path inVolume = Path.of(mount.get("mountPath").asText()).relativize(file);
        assertThat(texts(volume.at("/secret/items"), "/path")).as("files of Secret volume %s", volume.get("name"))
            .contains(inVolume.toString());
        return volume;
    }

    private static List<String> texts(final JsonNode array)
    {
        return texts(array, "");
    }

    private static List<String> texts(final JsonNode array, final String pointer)
    {
        assertThat(array.isArray()).as("a list: %s", array).isTrue();
        return StreamSupport.stream(array.spliterator(), false).map(node -> node.at(pointer).asText()).toList();
    }
}
