package io.jderper.tls;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.Reader;
import java.nio.charset.StandardCharsets;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.FileSystems;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.FileAttribute;
import java.nio.file.attribute.PosixFilePermission;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.GeneralSecurityException;
import java.security.KeyFactory;
import java.security.PrivateKey;
import java.security.cert.CertificateFactory;
import java.security.cert.X509Certificate;
import java.security.interfaces.ECPrivateKey;
import java.security.interfaces.ECPublicKey;
import java.security.spec.PKCS8EncodedKeySpec;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.Set;

import org.bouncycastle.asn1.ASN1ObjectIdentifier;
import org.bouncycastle.asn1.ASN1Primitive;
import org.bouncycastle.asn1.DERBitString;
import org.bouncycastle.asn1.DERNull;
import org.bouncycastle.asn1.edec.EdECObjectIdentifiers;
import org.bouncycastle.asn1.pkcs.PKCSObjectIdentifiers;
import org.bouncycastle.asn1.pkcs.PrivateKeyInfo;
import org.bouncycastle.asn1.pkcs.RSAPrivateKey;
import org.bouncycastle.asn1.x509.AlgorithmIdentifier;
import org.bouncycastle.asn1.x509.SubjectPublicKeyInfo;
import org.bouncycastle.asn1.x9.X9ObjectIdentifiers;
import org.bouncycastle.util.io.pem.PemObject;
import org.bouncycastle.util.io.pem.PemReader;

/**
 * PEM certificate chains and private keys as Go's {@code crypto/tls} reads and writes them, so a certificate
 * directory can move between derper and this relay in either direction.
 */
final class PemFiles
{
    static final String CERTIFICATE = "CERTIFICATE";
    static final String EC_PRIVATE_KEY = "EC PRIVATE KEY";
    static final String PKCS8_PRIVATE_KEY = "PRIVATE KEY";
    static final String RSA_PRIVATE_KEY = "RSA PRIVATE KEY";

    private static final int P256_ORDER_BITS = 256;
    private static final Base64.Encoder PEM_BASE64 =
        Base64.getMimeEncoder(64, "\n".getBytes(StandardCharsets.US_ASCII));

    private PemFiles()
    {
    }

    /**
     * Reads every CERTIFICATE block in file order and skips other blocks, as Go's {@code tls.X509KeyPair} does.
     */
    static List<X509Certificate> readCertificates(final Path file) throws IOException
    {
        final CertificateFactory factory = certificateFactory();
        final List<X509Certificate> chain = new ArrayList<>();
        for (final PemObject block : readBlocks(file))
        {
            if (CERTIFICATE.equals(block.getType()))
            {
                try
                {
                    chain.add((X509Certificate)factory.generateCertificate(
                        new ByteArrayInputStream(block.getContent())));
                }
                catch (final GeneralSecurityException ex)
                {
                    throw new IOException(file + ": certificate " + (chain.size() + 1) + " does not parse: " +
                        ex.getMessage(), ex);
                }
            }
        }
        if (chain.isEmpty())
        {
            throw new IOException(file + ": no PEM CERTIFICATE block found");
        }
        return chain;
    }

    /**
     * Reads the first private key block: {@code EC PRIVATE KEY} (SEC 1), {@code PRIVATE KEY} (PKCS#8) or
     * {@code RSA PRIVATE KEY} (PKCS#1). Blocks such as {@code EC PARAMETERS} before it are skipped.
     */
    static PrivateKey readPrivateKey(final Path file) throws IOException
    {
        for (final PemObject block : readBlocks(file))
        {
            final String type = block.getType();
            if (PKCS8_PRIVATE_KEY.equals(type) || type.endsWith(" " + PKCS8_PRIVATE_KEY))
            {
                try
                {
                    return toJdkKey(toPrivateKeyInfo(type, block.getContent()));
                }
                catch (final GeneralSecurityException | IllegalArgumentException | IllegalStateException ex)
                {
                    throw new IOException(file + ": " + type + " block does not parse: " + ex.getMessage(), ex);
                }
            }
        }
        throw new IOException(file + ": no PEM private key block found (expected " + EC_PRIVATE_KEY + ", " +
            PKCS8_PRIVATE_KEY + " or " + RSA_PRIVATE_KEY + ")");
    }

    /**
     * SEC 1 encoding of a P-256 key with the curve OID and the public point, the form Go's
     * {@code x509.MarshalECPrivateKey} writes; Go refuses to read it back without the curve OID.
     */
    static byte[] encodeP256PrivateKey(final ECPrivateKey key, final ECPublicKey publicKey) throws IOException
    {
        final byte[] point = SubjectPublicKeyInfo.getInstance(publicKey.getEncoded()).getPublicKeyData().getBytes();
        return new org.bouncycastle.asn1.sec.ECPrivateKey(
            P256_ORDER_BITS, key.getS(), new DERBitString(point), X9ObjectIdentifiers.prime256v1).getEncoded();
    }

    static byte[] toPem(final String type, final byte[] der)
    {
        final String text = "-----BEGIN " + type + "-----\n" +
            PEM_BASE64.encodeToString(der) + "\n" +
            "-----END " + type + "-----\n";
        return text.getBytes(StandardCharsets.US_ASCII);
    }

    /**
     * Writes through a temporary file in the same directory and renames it into place, so a crash never leaves a
     * half-written key, and a secret file is never readable by others, not even for a moment.
     */
    static void writeAtomically(final Path file, final byte[] content, final boolean secret) throws IOException
    {
        final Path directory = file.toAbsolutePath().getParent();
        final Path temp = Files.createTempFile(directory, "." + file.getFileName(), ".tmp",
            permissions(secret ? "rw-------" : "rw-r--r--"));
        try
        {
            Files.write(temp, content);
            Files.move(temp, file, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
        }
        finally
        {
            Files.deleteIfExists(temp);
        }
    }

    /**
     * Creates the directory and its missing parents with mode 0700, as derper does.
     */
    static void createDirectories(final Path directory) throws IOException
    {
        try
        {
            Files.createDirectories(directory, permissions("rwx------"));
        }
        catch (final FileAlreadyExistsException ex)
        {
            // A symbolic link to a directory: createDirectories rejects it, yet it is a usable directory.
            if (!Files.isDirectory(directory))
            {
                throw ex;
            }
        }
    }

    private static FileAttribute<?>[] permissions(final String mode)
    {
        if (!FileSystems.getDefault().supportedFileAttributeViews().contains("posix"))
        {
            return new FileAttribute<?>[0];
        }
        final Set<PosixFilePermission> set = PosixFilePermissions.fromString(mode);
        return new FileAttribute<?>[] {PosixFilePermissions.asFileAttribute(set)};
    }

    private static List<PemObject> readBlocks(final Path file) throws IOException
    {
        final List<PemObject> blocks = new ArrayList<>();
        try (Reader reader = Files.newBufferedReader(file, StandardCharsets.ISO_8859_1);
            PemReader pem = new PemReader(reader))
        {
            for (PemObject block = pem.readPemObject(); null != block; block = pem.readPemObject())
            {
                blocks.add(block);
            }
        }
        return blocks;
    }

    private static PrivateKeyInfo toPrivateKeyInfo(final String type, final byte[] der) throws IOException
    {
        return switch (type)
        {
            case PKCS8_PRIVATE_KEY -> PrivateKeyInfo.getInstance(der);
            case EC_PRIVATE_KEY -> ecToPrivateKeyInfo(der);
            case RSA_PRIVATE_KEY -> new PrivateKeyInfo(
                new AlgorithmIdentifier(PKCSObjectIdentifiers.rsaEncryption, DERNull.INSTANCE),
                RSAPrivateKey.getInstance(der));
            default -> throw new IllegalArgumentException("unsupported key type (encrypted keys are not supported)");
        };
    }

    private static PrivateKeyInfo ecToPrivateKeyInfo(final byte[] der) throws IOException
    {
        final org.bouncycastle.asn1.sec.ECPrivateKey ecKey = org.bouncycastle.asn1.sec.ECPrivateKey.getInstance(der);
        final ASN1Primitive curve = null == ecKey.getParametersObject() ? null :
            ecKey.getParametersObject().toASN1Primitive();
        if (null == curve)
        {
            throw new IllegalArgumentException("EC private key names no curve");
        }
        return new PrivateKeyInfo(new AlgorithmIdentifier(X9ObjectIdentifiers.id_ecPublicKey, curve), ecKey);
    }

    private static PrivateKey toJdkKey(final PrivateKeyInfo info) throws GeneralSecurityException, IOException
    {
        final ASN1ObjectIdentifier oid = info.getPrivateKeyAlgorithm().getAlgorithm();
        final String algorithm;
        if (X9ObjectIdentifiers.id_ecPublicKey.equals(oid))
        {
            algorithm = "EC";
        }
        else if (PKCSObjectIdentifiers.rsaEncryption.equals(oid))
        {
            algorithm = "RSA";
        }
        else if (PKCSObjectIdentifiers.id_RSASSA_PSS.equals(oid))
        {
            algorithm = "RSASSA-PSS";
        }
        else if (EdECObjectIdentifiers.id_Ed25519.equals(oid))
        {
            algorithm = "Ed25519";
        }
        else
        {
            throw new IllegalArgumentException("unsupported key algorithm " + oid);
        }
        return KeyFactory.getInstance(algorithm).generatePrivate(new PKCS8EncodedKeySpec(info.getEncoded()));
    }

    private static CertificateFactory certificateFactory() throws IOException
    {
        try
        {
            return CertificateFactory.getInstance("X.509");
        }
        catch (final GeneralSecurityException ex)
        {
            throw new IOException("the JDK has no X.509 certificate factory", ex);
        }
    }
}
