package io.jderper.tls;

import java.security.GeneralSecurityException;
import java.security.InvalidAlgorithmParameterException;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.security.PrivateKey;
import java.security.SecureRandom;
import java.security.cert.CertificateEncodingException;
import java.security.cert.CertificateException;
import java.security.cert.X509Certificate;
import java.security.spec.ECGenParameterSpec;
import java.util.HexFormat;

import org.bouncycastle.cert.X509v3CertificateBuilder;
import org.bouncycastle.cert.jcajce.JcaX509CertificateConverter;
import org.bouncycastle.operator.ContentSigner;
import org.bouncycastle.operator.OperatorCreationException;
import org.bouncycastle.operator.jcajce.JcaContentSignerBuilder;

/**
 * Small certificate helpers shared by the meta certificate and the self-signed IP certificate. Everything runs on
 * the JDK's own providers: BouncyCastle is used only for ASN.1 and the certificate builder, never registered as a
 * JCA provider, so the keys handed to Conscrypt are plain JDK keys it knows how to convert.
 */
final class Certificates
{
    static final SecureRandom RANDOM = new SecureRandom();
    static final String P256 = "secp256r1";

    private static final HexFormat HEX = HexFormat.of();

    private Certificates()
    {
    }

    static KeyPair newP256KeyPair()
    {
        try
        {
            final KeyPairGenerator generator = KeyPairGenerator.getInstance("EC");
            generator.initialize(new ECGenParameterSpec(P256), RANDOM);
            return generator.generateKeyPair();
        }
        catch (final NoSuchAlgorithmException | InvalidAlgorithmParameterException ex)
        {
            throw new IllegalStateException("the JDK cannot generate P-256 keys", ex);
        }
    }

    static X509Certificate sign(final X509v3CertificateBuilder builder, final PrivateKey signingKey)
    {
        try
        {
            final ContentSigner signer = new JcaContentSignerBuilder(signatureAlgorithm(signingKey)).build(signingKey);
            return new JcaX509CertificateConverter().getCertificate(builder.build(signer));
        }
        catch (final OperatorCreationException | CertificateException ex)
        {
            throw new IllegalStateException("cannot sign certificate", ex);
        }
    }

    /**
     * @return the JCA signature algorithm that fits the key, or null if we do not know one.
     */
    static String signatureAlgorithm(final PrivateKey key)
    {
        return switch (key.getAlgorithm())
        {
            case "EC" -> "SHA256withECDSA";
            case "RSA" -> "SHA256withRSA";
            case "Ed25519", "EdDSA" -> "Ed25519";
            default -> null;
        };
    }

    /**
     * Whether two JCA key algorithm names denote the same kind of key; the JDK names Ed25519 keys either way.
     */
    static boolean sameKeyFamily(final String algorithm, final String otherAlgorithm)
    {
        return algorithm.equalsIgnoreCase(otherAlgorithm) || (isEdDsa(algorithm) && isEdDsa(otherAlgorithm));
    }

    /**
     * @return lower-case hex of SHA-256 over the certificate's full DER encoding (derper's {@code sha256-raw:} pin).
     */
    static String sha256Hex(final X509Certificate certificate)
    {
        try
        {
            return HEX.formatHex(MessageDigest.getInstance("SHA-256").digest(certificate.getEncoded()));
        }
        catch (final NoSuchAlgorithmException | CertificateEncodingException ex)
        {
            throw new IllegalStateException("cannot hash certificate " + certificate.getSubjectX500Principal(), ex);
        }
    }

    static boolean isSelfSigned(final X509Certificate certificate)
    {
        if (!certificate.getSubjectX500Principal().equals(certificate.getIssuerX500Principal()))
        {
            return false;
        }
        try
        {
            certificate.verify(certificate.getPublicKey());
            return true;
        }
        catch (final GeneralSecurityException ex)
        {
            return false;
        }
    }

    private static boolean isEdDsa(final String algorithm)
    {
        return "EdDSA".equalsIgnoreCase(algorithm) || "Ed25519".equalsIgnoreCase(algorithm);
    }
}
