package io.jderper.tls;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.IOException;
import java.math.BigInteger;
import java.net.InetAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.FileSystems;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.cert.X509Certificate;
import java.security.interfaces.ECPublicKey;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.stream.Stream;

import org.bouncycastle.asn1.sec.ECPrivateKey;
import org.bouncycastle.asn1.x9.X9ObjectIdentifiers;
import org.bouncycastle.util.io.pem.PemObject;
import org.bouncycastle.util.io.pem.PemReader;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.EnumSource;

class ManualCertificatesTest
{
    private static final String DNS_HOSTNAME = "derp.example.com";
    private static final String IP_HOSTNAME = "203.0.113.10";
    private static final String SERVER_AUTH = "1.3.6.1.5.5.7.3.1";

    @TempDir
    Path certdir;

    @ParameterizedTest
    @CsvSource({
        "derp.example.com, derp.example.com",
        "203.0.113.10, 203.0.113.10",
        "::1, 1",
        "[::1], 1",
        "2001:db8::10, 2001db810",
        "fe80::1%eth0, fe801eth0",
        "Derp-1.Example.com, Derp-1.Example.com",
        "../../etc/passwd, ....etcpasswd",
        "a_b c, abc",
    })
    void shouldNameFilesAfterHostnameWithUnsafeCharactersRemoved(final String hostname, final String expected)
    {
        assertThat(ManualCertificates.fileBaseName(hostname)).isEqualTo(expected);
    }

    @Test
    void shouldRejectHostnameThatLeavesNoFileName()
    {
        assertThatThrownBy(() -> ManualCertificates.fileBaseName("::"))
            .isInstanceOf(IllegalArgumentException.class)
            .hasMessage("hostname=::");
    }

    @Test
    void shouldLoadChainAndKeyNamedAfterDnsHostname() throws Exception
    {
        final ServerCertificate written = TestCertificates.caIssuedDns(DNS_HOSTNAME);
        TestCertificates.write(certdir, DNS_HOSTNAME, written, TestCertificates.KeyEncoding.SEC1_EC);

        final ServerCertificate loaded = ManualCertificates.load(certdir, DNS_HOSTNAME);

        assertThat(loaded.chain()).isEqualTo(written.chain());
        assertThat(scalar(loaded)).isEqualTo(scalar(written));
        assertThat(loaded.selfSignedIp()).isFalse();
    }

    @ParameterizedTest
    @EnumSource(value = TestCertificates.KeyEncoding.class, names = {"SEC1_EC", "PKCS8", "SEC1_EC_AFTER_PARAMETERS"})
    void shouldReadEcKeysInEveryPemEncoding(final TestCertificates.KeyEncoding encoding) throws Exception
    {
        final ServerCertificate written = TestCertificates.selfSignedDns(DNS_HOSTNAME);
        TestCertificates.write(certdir, DNS_HOSTNAME, written, encoding);

        assertThat(scalar(ManualCertificates.load(certdir, DNS_HOSTNAME))).isEqualTo(scalar(written));
    }

    @ParameterizedTest
    @EnumSource(value = TestCertificates.KeyEncoding.class, names = {"PKCS1_RSA", "PKCS8"})
    void shouldReadRsaKeysInPkcs1AndPkcs8(final TestCertificates.KeyEncoding encoding) throws Exception
    {
        final ServerCertificate written = TestCertificates.selfSignedRsaDns(DNS_HOSTNAME);
        TestCertificates.write(certdir, DNS_HOSTNAME, written, encoding);

        assertThat(ManualCertificates.load(certdir, DNS_HOSTNAME).key().getAlgorithm()).isEqualTo("RSA");
    }

    @Test
    void shouldAcceptWildcardCertificateForOneLabel() throws Exception
    {
        TestCertificates.write(certdir, DNS_HOSTNAME, TestCertificates.selfSignedDns("*.example.com"),
            TestCertificates.KeyEncoding.SEC1_EC);

        assertThat(ManualCertificates.load(certdir, DNS_HOSTNAME).leaf()).isNotNull();
    }

    @Test
    void shouldRefuseLeafNotValidForHostname() throws Exception
    {
        TestCertificates.write(certdir, DNS_HOSTNAME, TestCertificates.selfSignedDns("other.example.com"),
            TestCertificates.KeyEncoding.SEC1_EC);

        assertThatThrownBy(() -> ManualCertificates.load(certdir, DNS_HOSTNAME))
            .isInstanceOf(IOException.class)
            .hasMessageContaining(certdir.resolve("derp.example.com.crt").toString())
            .hasMessageContaining("\"derp.example.com\"")
            .hasMessageContaining("DNS:other.example.com");
    }

    @Test
    void shouldRefuseExistingIpCertificateWithoutThatIpSan() throws Exception
    {
        TestCertificates.write(certdir, IP_HOSTNAME, TestCertificates.selfSignedDns(DNS_HOSTNAME),
            TestCertificates.KeyEncoding.SEC1_EC);

        assertThatThrownBy(() -> ManualCertificates.load(certdir, IP_HOSTNAME))
            .isInstanceOf(IOException.class)
            .hasMessageContaining("not valid for hostname \"" + IP_HOSTNAME + "\"");
    }

    @Test
    void shouldRefuseKeyThatDoesNotMatchCertificate() throws Exception
    {
        TestCertificates.write(certdir, DNS_HOSTNAME, TestCertificates.selfSignedDns(DNS_HOSTNAME),
            TestCertificates.KeyEncoding.SEC1_EC);
        final Path otherDir = certdir.resolve("other");
        TestCertificates.write(otherDir, DNS_HOSTNAME, TestCertificates.selfSignedDns(DNS_HOSTNAME),
            TestCertificates.KeyEncoding.SEC1_EC);
        Files.copy(otherDir.resolve("derp.example.com.key"), certdir.resolve("derp.example.com.key"),
            StandardCopyOption.REPLACE_EXISTING);

        assertThatThrownBy(() -> ManualCertificates.load(certdir, DNS_HOSTNAME))
            .isInstanceOf(IOException.class)
            .hasMessageContaining("does not match");
    }

    @Test
    void shouldNameBothExpectedFilesWhenDnsHostnameHasNone()
    {
        assertThatThrownBy(() -> ManualCertificates.load(certdir, DNS_HOSTNAME))
            .isInstanceOf(IOException.class)
            .hasMessageContaining("\"derp.example.com\"")
            .hasMessageContaining(certdir.resolve("derp.example.com.crt") + " (missing)")
            .hasMessageContaining(certdir.resolve("derp.example.com.key") + " (missing)");
        assertThat(certdir).isEmptyDirectory();
    }

    @Test
    void shouldRefuseFileWithoutCertificates() throws Exception
    {
        TestCertificates.write(certdir, DNS_HOSTNAME, TestCertificates.selfSignedDns(DNS_HOSTNAME),
            TestCertificates.KeyEncoding.SEC1_EC);
        Files.writeString(certdir.resolve("derp.example.com.crt"), "not a certificate\n");

        assertThatThrownBy(() -> ManualCertificates.load(certdir, DNS_HOSTNAME))
            .isInstanceOf(IOException.class)
            .hasMessageContaining("no PEM CERTIFICATE block");
    }

    @Test
    void shouldCreateSelfSignedCertificateForIpHostnameLikeDerper() throws Exception
    {
        final ServerCertificate created = ManualCertificates.load(certdir, IP_HOSTNAME);
        final X509Certificate leaf = created.leaf();

        assertThat(created.chain()).hasSize(1);
        assertThat(created.selfSignedIp()).isTrue();
        assertThat(leaf.getPublicKey()).isInstanceOf(ECPublicKey.class);
        assertThat(((ECPublicKey)leaf.getPublicKey()).getParams().getCurve().getField().getFieldSize()).isEqualTo(256);
        assertThat(leaf.getSerialNumber().bitLength()).isLessThanOrEqualTo(128).isGreaterThan(64);
        assertThat(ServerTlsContextsTest.commonName(leaf)).isEqualTo(IP_HOSTNAME);
        assertThat(ipSans(leaf)).containsExactly(IP_HOSTNAME);
        assertThat(Duration.between(leaf.getNotBefore().toInstant(), leaf.getNotAfter().toInstant()).toDays())
            .isBetween(365L, 366L);
        assertThat(leaf.getKeyUsage()).startsWith(true, false, true); // digitalSignature, -, keyEncipherment
        assertThat(leaf.getExtendedKeyUsage()).containsExactly(SERVER_AUTH);
        assertThat(leaf.getBasicConstraints()).isEqualTo(-1);
        assertThat(leaf.getCriticalExtensionOIDs()).contains("2.5.29.19");
        assertThat(leaf.getExtensionValue("2.5.29.14")).as("no subject key identifier").isNull();
        assertThat(leaf.getExtensionValue("2.5.29.35")).as("no authority key identifier").isNull();
    }

    @Test
    void shouldWritePemTypesDerperWrites() throws Exception
    {
        ManualCertificates.load(certdir, IP_HOSTNAME);

        assertThat(pemTypes(certdir.resolve(IP_HOSTNAME + ".crt"))).containsExactly("CERTIFICATE");
        assertThat(pemTypes(certdir.resolve(IP_HOSTNAME + ".key"))).containsExactly("EC PRIVATE KEY");
    }

    @Test
    void shouldWriteEcKeyWithCurveAndPublicKeyAsGoRequires() throws Exception
    {
        final ServerCertificate created = ManualCertificates.load(certdir, IP_HOSTNAME);
        final ECPrivateKey sec1 = ECPrivateKey.getInstance(pemContent(certdir.resolve(IP_HOSTNAME + ".key")));

        assertThat(sec1.getParametersObject()).isEqualTo(X9ObjectIdentifiers.prime256v1);
        assertThat(sec1.getPublicKey()).as("public point").isNotNull();
        assertThat(sec1.getKey()).isEqualTo(scalar(created));
    }

    @Test
    void shouldReloadCreatedCertificateWithTheSamePin() throws Exception
    {
        final ServerCertificate created = ManualCertificates.load(certdir, IP_HOSTNAME);
        final ServerCertificate reloaded = ManualCertificates.load(certdir, IP_HOSTNAME);

        assertThat(reloaded.sha256RawPin()).isEqualTo(created.sha256RawPin()).matches("sha256-raw:[0-9a-f]{64}");
        assertThat(scalar(reloaded)).isEqualTo(scalar(created));
    }

    @Test
    void shouldCreateKeyWithMode0600AndMissingDirectoriesWith0700() throws Exception
    {
        assumeTrue(FileSystems.getDefault().supportedFileAttributeViews().contains("posix"));
        final Path nested = certdir.resolve("a/b");

        ManualCertificates.load(nested, IP_HOSTNAME);

        assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(nested.resolve(IP_HOSTNAME + ".key"))))
            .isEqualTo("rw-------");
        assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(nested)))
            .isEqualTo("rwx------");
        assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(nested.resolve(IP_HOSTNAME + ".crt"))))
            .startsWith("rw-");
        try (Stream<Path> files = Files.list(nested))
        {
            assertThat(files.map(p -> p.getFileName().toString()))
                .as("no temporary files left")
                .containsExactlyInAnyOrder(IP_HOSTNAME + ".crt", IP_HOSTNAME + ".key");
        }
    }

    @Test
    void shouldNameIpv6FilesWithoutColons() throws Exception
    {
        final ServerCertificate created = ManualCertificates.load(certdir, "2001:db8::10");

        assertThat(certdir.resolve("2001db810.crt")).exists();
        assertThat(certdir.resolve("2001db810.key")).exists();
        assertThat(ipSans(created.leaf())).hasSize(1);
        assertThat(InetAddress.ofLiteral(ipSans(created.leaf()).getFirst()))
            .isEqualTo(InetAddress.ofLiteral("2001:db8::10"));
    }

    @Test
    void shouldReplaceCertificateWhenItsKeyFileIsMissing() throws Exception
    {
        final ServerCertificate first = ManualCertificates.load(certdir, IP_HOSTNAME);
        Files.delete(certdir.resolve(IP_HOSTNAME + ".key"));

        final ServerCertificate second = ManualCertificates.load(certdir, IP_HOSTNAME);

        assertThat(second.sha256RawPin()).isNotEqualTo(first.sha256RawPin());
        assertThat(ManualCertificates.load(certdir, IP_HOSTNAME).sha256RawPin()).isEqualTo(second.sha256RawPin());
    }

    @Test
    void shouldLetStoreAdmitOnlyTheDnsHostnameAsSni() throws Exception
    {
        final ServerCertificate certificate = TestCertificates.selfSignedDns(DNS_HOSTNAME);
        final CertificateStore store = ManualCertificates.store(certificate, DNS_HOSTNAME);

        assertThat(store.select(DNS_HOSTNAME)).isSameAs(certificate);
        assertThat(store.select("DERP.EXAMPLE.COM")).isSameAs(certificate);
        assertThat(store.select("other.example.com")).isNull();
        assertThat(store.select(null)).as("no SNI, as derper").isNull();
    }

    @Test
    void shouldLetStoreAdmitAnySniForIpHostname() throws Exception
    {
        final ServerCertificate certificate = ManualCertificates.load(certdir, IP_HOSTNAME);
        final CertificateStore store = ManualCertificates.store(certificate, IP_HOSTNAME);

        assertThat(store.select(null)).isSameAs(certificate);
        assertThat(store.select("anything.example")).isSameAs(certificate);
    }

    private static BigInteger scalar(final ServerCertificate certificate)
    {
        return ((java.security.interfaces.ECPrivateKey)certificate.key()).getS();
    }

    private static List<String> ipSans(final X509Certificate certificate) throws Exception
    {
        final Collection<List<?>> names = certificate.getSubjectAlternativeNames();
        return names.stream().filter(n -> n.getFirst().equals(7)).map(n -> (String)n.get(1)).toList();
    }

    private static List<String> pemTypes(final Path file) throws IOException
    {
        try (PemReader reader = new PemReader(Files.newBufferedReader(file, StandardCharsets.US_ASCII)))
        {
            final List<String> types = new ArrayList<>();
            for (PemObject o = reader.readPemObject(); null != o; o = reader.readPemObject())
            {
                types.add(o.getType());
            }
            return types;
        }
    }

    private static byte[] pemContent(final Path file) throws IOException
    {
        try (PemReader reader = new PemReader(Files.newBufferedReader(file, StandardCharsets.US_ASCII)))
        {
            return reader.readPemObject().getContent();
        }
    }
}
