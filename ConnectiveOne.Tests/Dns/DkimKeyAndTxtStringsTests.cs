using System.Security.Cryptography;
using System.Text;
using ConnectiveOne.Core.Dns;

namespace ConnectiveOne.Tests.Dns;

[Trait("Database", "Unused")] // touches no database: runs in the SQLite pass only
public class DkimKeyAndTxtStringsTests
{
    [Fact]
    public void Generated_key_is_rsa_2048_with_pkcs8_pem_and_spki_public_key()
    {
        var key = TestKeys.K1;

        Assert.Equal("k1", key.Selector);
        Assert.StartsWith("-----BEGIN PRIVATE KEY-----", key.PrivateKeyPem, StringComparison.Ordinal);
        using var rsa = RSA.Create();
        rsa.ImportSubjectPublicKeyInfo(Convert.FromBase64String(key.PublicKeyBase64), out _);
        Assert.Equal(2048, rsa.KeySize);
        Assert.Equal($"v=DKIM1; k=rsa; p={key.PublicKeyBase64}", key.TxtValue);
        Assert.Equal("k1._domainkey.acme.test", DkimRecord.Host("k1", "acme.test"));
    }

    [Fact]
    public void Private_key_round_trips_and_signs_for_the_published_key()
    {
        var reloaded = DkimKeyPair.FromPrivateKeyPem("k1", TestKeys.K1.PrivateKeyPem);
        Assert.Equal(TestKeys.K1.PublicKeyBase64, reloaded.PublicKeyBase64);

        using var signer = RSA.Create();
        signer.ImportFromPem(TestKeys.K1.PrivateKeyPem);
        var data = Encoding.ASCII.GetBytes("dkim");
        var signature = signer.SignData(data, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1);
        using var verifier = RSA.Create();
        verifier.ImportSubjectPublicKeyInfo(Convert.FromBase64String(TestKeys.K1.PublicKeyBase64), out _);
        Assert.True(verifier.VerifyData(data, signature, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1));
    }

    [Fact]
    public void ToString_never_shows_the_private_key()
    {
        Assert.DoesNotContain("PRIVATE", TestKeys.K1.ToString(), StringComparison.Ordinal);
        Assert.DoesNotContain(TestKeys.K1.PublicKeyBase64[..20], TestKeys.K1.ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public void Dkim_value_splits_into_255_byte_strings_and_round_trips()
    {
        var value = TestKeys.K1.TxtValue;

        var parts = TxtStrings.Split(value);

        Assert.True(value.Length > 255);
        Assert.Equal(2, parts.Count);
        Assert.All(parts, p => Assert.True(Encoding.UTF8.GetByteCount(p) <= 255));
        Assert.Equal(255, parts[0].Length);
        Assert.Equal(value, string.Concat(parts));

        var quoted = TxtStrings.ToQuoted(value);
        Assert.Equal($"\"{parts[0]}\" \"{parts[1]}\"", quoted);
        Assert.Equal(value, TxtStrings.Unquote(quoted));
    }

    [Theory]
    [InlineData("", 1)]
    [InlineData("short", 1)]
    [InlineData(255, 1)]
    [InlineData(256, 2)]
    [InlineData(510, 2)]
    [InlineData(511, 3)]
    public void Split_boundaries(object input, int expectedParts)
    {
        var value = input is int n ? new string('a', n) : (string)input;

        var parts = TxtStrings.Split(value);

        Assert.Equal(expectedParts, parts.Count);
        Assert.Equal(value, string.Concat(parts));
    }

    [Fact]
    public void Split_never_cuts_a_multibyte_character()
    {
        var value = new string('a', 254) + "é" + "b";

        var parts = TxtStrings.Split(value);

        Assert.Equal(new string('a', 254), parts[0]);
        Assert.Equal("éb", parts[1]);
    }

    [Theory]
    [InlineData("plain text", "plain text")]
    [InlineData("\"one\"", "one")]
    [InlineData("\"v=DKIM1; k=rsa; \" \"p=AB\"", "v=DKIM1; k=rsa; p=AB")]
    [InlineData("  \"a\"\"b\"  ", "ab")]
    [InlineData("\"with \\\"escaped\\\" quote\"", "with \"escaped\" quote")]
    [InlineData("\"not\" closed \"", "\"not\" closed \"")]
    public void Unquote_reads_pasted_quoted_strings(string text, string expected) =>
        Assert.Equal(expected, TxtStrings.Unquote(text));

    [Fact]
    public void Zone_file_has_one_line_per_record_with_split_strings()
    {
        var planned = DnsRecordPlanner.Plan(TestKeys.Settings(), TxtLookupResult.NotFound, TxtLookupResult.NotFound);

        var zone = DnsRecordPlanner.ZoneFile(planned);

        var lines = zone.Split('\n', StringSplitOptions.RemoveEmptyEntries).Where(l => !l.StartsWith(';')).ToArray();
        Assert.Equal(
            [
                "acme.test. 3600 IN TXT \"connectiveone-verification=tok3n-9x\"",
                "acme.test. 3600 IN TXT \"v=spf1 include:mailgun.org -all\"",
                $"k1._domainkey.acme.test. 3600 IN TXT {TxtStrings.ToQuoted(TestKeys.K1.TxtValue)}",
                $"k2._domainkey.acme.test. 3600 IN TXT {TxtStrings.ToQuoted(TestKeys.K2.TxtValue)}",
                "_dmarc.acme.test. 3600 IN TXT \"v=DMARC1; p=none;\"",
            ],
            lines);
        Assert.Contains("\" \"", lines[2], StringComparison.Ordinal);
    }
}
