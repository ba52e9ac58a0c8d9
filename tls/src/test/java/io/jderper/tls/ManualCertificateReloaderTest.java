package io.jderper.tls;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;

import static org.assertj.core.api.Assertions.assertThat;

class ManualCertificateReloaderTest
{
    @TempDir
    Path certdir;

    @Test
    void keepsServingUntilTheFilesChangeThenServesTheNewPair() throws Exception
    {
        final ManualCertificateReloader reloader = ManualCertificateReloader.load(certdir, "192.0.2.7");
        final ServerCertificate first = reloader.current();
        assertThat(first.selfSignedIp()).isTrue();

        assertThat(reloader.reloadIfChanged()).isEqualTo(ManualCertificateReloader.Outcome.UNCHANGED);
        assertThat(reloader.select(null)).isSameAs(first);

        // Another self-signed certificate for the same IP, as an operator would put in place.
        final Path elsewhere = Files.createDirectory(certdir.resolve("new"));
        final ServerCertificate second = ManualCertificates.load(elsewhere, "192.0.2.7");
        Files.copy(elsewhere.resolve("192.0.2.7.key"), certdir.resolve("192.0.2.7.key"),
            java.nio.file.StandardCopyOption.REPLACE_EXISTING);
        Files.copy(elsewhere.resolve("192.0.2.7.crt"), certdir.resolve("192.0.2.7.crt"),
            java.nio.file.StandardCopyOption.REPLACE_EXISTING);

        assertThat(reloader.reloadIfChanged()).isEqualTo(ManualCertificateReloader.Outcome.RELOADED);
        assertThat(reloader.current().sha256RawPin()).isEqualTo(second.sha256RawPin())
            .isNotEqualTo(first.sha256RawPin());
        assertThat(reloader.select("anything")).isSameAs(reloader.current());
        assertThat(reloader.reloadIfChanged()).isEqualTo(ManualCertificateReloader.Outcome.UNCHANGED);
    }

    @Test
    void refusesAMismatchedOrMissingPairAndKeepsTheCurrentOne() throws Exception
    {
        TestCertificates.write(certdir, "derp.example.com", TestCertificates.selfSignedDns("derp.example.com"),
            TestCertificates.KeyEncoding.PKCS8);
        final ManualCertificateReloader reloader = ManualCertificateReloader.load(certdir, "derp.example.com");
        final ServerCertificate served = reloader.current();

        // A key from another pair: half of an update, or a mistake.
        final Path other = Files.createDirectory(certdir.resolve("other"));
        TestCertificates.write(other, "derp.example.com", TestCertificates.selfSignedDns("derp.example.com"),
            TestCertificates.KeyEncoding.PKCS8);
        Files.copy(other.resolve("derp.example.com.key"), certdir.resolve("derp.example.com.key"),
            java.nio.file.StandardCopyOption.REPLACE_EXISTING);
        assertThat(reloader.reloadIfChanged()).isEqualTo(ManualCertificateReloader.Outcome.REFUSED);
        assertThat(reloader.current()).isSameAs(served);
        assertThat(reloader.reloadIfChanged()).as("the same bad files again").isEqualTo(
            ManualCertificateReloader.Outcome.REFUSED);

        Files.delete(certdir.resolve("derp.example.com.crt"));
        assertThat(reloader.reloadIfChanged()).isEqualTo(ManualCertificateReloader.Outcome.REFUSED);
        assertThat(reloader.select("derp.example.com")).isSameAs(served);

        // The rest of the new pair arrives.
        Files.copy(other.resolve("derp.example.com.crt"), certdir.resolve("derp.example.com.crt"));
        assertThat(reloader.reloadIfChanged()).isEqualTo(ManualCertificateReloader.Outcome.RELOADED);
        assertThat(reloader.current()).isNotSameAs(served);
        assertThat(reloader.select("DERP.example.com")).as("the SNI rule still applies").isSameAs(reloader.current());
        assertThat(reloader.select("other.example.com")).isNull();
        assertThat(reloader.select(null)).isNull();
    }
}
