using System.Security.Cryptography;

namespace ConnectiveOne.Core.Dns;

/// <summary>
/// An RSA key pair for DKIM signing. The private key is PKCS#8 PEM (<c>-----BEGIN PRIVATE KEY-----</c>),
/// which MimeKit's <c>DkimSigner</c> loads. <see cref="ToString"/> never prints the private key.
/// </summary>
public sealed class DkimKeyPair
{
    public const int KeySizeBits = 2048;

    /// <summary>The selector that goes live first.</summary>
    public const string PrimarySelector = "k1";

    /// <summary>The selector prepared for rotation.</summary>
    public const string RotationSelector = "k2";

    private DkimKeyPair(string selector, string publicKeyBase64, string privateKeyPem)
    {
        Selector = selector;
        PublicKeyBase64 = publicKeyBase64;
        PrivateKeyPem = privateKeyPem;
    }

    public string Selector { get; }

    /// <summary>Base64 of the DER SubjectPublicKeyInfo: the <c>p=</c> tag.</summary>
    public string PublicKeyBase64 { get; }

    /// <summary>PKCS#8 PEM. A secret: store it encrypted, never log it.</summary>
    public string PrivateKeyPem { get; }

    public static DkimKeyPair Generate(string selector)
    {
        using var rsa = RSA.Create(KeySizeBits);
        return FromRsa(selector, rsa);
    }

    /// <summary>Rebuilds the pair (and so the public key) from a stored PKCS#8 PEM private key.</summary>
    public static DkimKeyPair FromPrivateKeyPem(string selector, string privateKeyPem)
    {
        using var rsa = RSA.Create();
        rsa.ImportFromPem(privateKeyPem);
        return FromRsa(selector, rsa);
    }

    /// <summary>The TXT value to publish at <c>&lt;selector&gt;._domainkey.&lt;domain&gt;</c>.</summary>
    public string TxtValue => DkimRecord.TxtValue(PublicKeyBase64);

    public DkimSelectorKey ToSelectorKey(bool required) => new(Selector, PublicKeyBase64, required);

    public override string ToString() => $"DKIM key {Selector} (RSA {KeySizeBits})";

    private static DkimKeyPair FromRsa(string selector, RSA rsa) =>
        new(
            selector,
            Convert.ToBase64String(rsa.ExportSubjectPublicKeyInfo()),
            rsa.ExportPkcs8PrivateKeyPem());
}

/// <summary>Names and values of DKIM key records.</summary>
public static class DkimRecord
{
    public static string Host(string selector, string domain) => $"{selector}._domainkey.{domain}";

    public static string TxtValue(string publicKeyBase64) => $"v=DKIM1; k=rsa; p={publicKeyBase64}";
}
