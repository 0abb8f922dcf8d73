using ConnectiveOne.Core.Addresses;

namespace ConnectiveOne.Tests.Addresses;

[Trait("Database", "Unused")] // touches no database: runs in the SQLite pass only
public sealed class EmailAddressRulesTests
{
    [Theory]
    [InlineData("support@acme.com", "support@acme.com", "acme.com")]
    [InlineData("  Support@ACME.com ", "Support@acme.com", "acme.com")]
    [InlineData("info@bücher.example", "info@xn--bcher-kva.example", "xn--bcher-kva.example")]
    [InlineData("info@xn--bcher-kva.example", "info@xn--bcher-kva.example", "xn--bcher-kva.example")]
    [InlineData("first.last+tag@sub.acme.co.uk", "first.last+tag@sub.acme.co.uk", "sub.acme.co.uk")]
    public void Valid_addresses_keep_the_local_part_and_store_the_domain_in_punycode(string input, string email, string domain)
    {
        var parsed = EmailAddressRules.TryParse(input, out var problem);

        Assert.Null(problem);
        Assert.NotNull(parsed);
        Assert.Equal(email, parsed.Email);
        Assert.Equal(domain, parsed.Domain);
        Assert.Equal(email.ToLowerInvariant(), parsed.NormalizedEmail);
    }

    [Theory]
    [InlineData("", "Enter an email address")]
    [InlineData("not-an-email", "is not an email address")]
    [InlineData("Support <support@acme.com>", "is not an email address")]
    [InlineData("support@", "is not an email address")]
    [InlineData("@acme.com", "is not an email address")]
    [InlineData("support@localhost", "has no dot")]
    [InlineData("support@[192.0.2.1]", "is not an email address")]
    [InlineData("two@at@acme.com", "is not an email address")]
    public void Invalid_input_gets_a_reason_in_words(string input, string expected)
    {
        Assert.Null(EmailAddressRules.TryParse(input, out var problem));
        Assert.Contains(expected, problem, StringComparison.Ordinal);
    }

    [Fact]
    public void Rfc5321_limits_apply_to_local_part_domain_and_whole_address()
    {
        Assert.NotNull(EmailAddressRules.TryParse(new string('a', 64) + "@acme.com", out _));
        Assert.Null(EmailAddressRules.TryParse(new string('a', 65) + "@acme.com", out var local));
        Assert.Contains("64", local, StringComparison.Ordinal);

        // A 250-character domain is allowed by DNS, but with a 5-character local part the address exceeds 254.
        var label = new string('b', 63);
        Assert.Null(EmailAddressRules.TryParse($"abcde@{label}.{label}.{label}.{new string('c', 58)}", out var total));
        Assert.Contains("254", total, StringComparison.Ordinal);
        Assert.NotNull(EmailAddressRules.TryParse($"{new string('a', 50)}@{label}.{label}.{label}.com", out _));
    }

    [Theory]
    [InlineData("support@acme.com", "support-acme-com-")]
    [InlineData("First.Last+Tag@Sub.Acme.com", "first-last-tag-sub-acme-com-")]
    [InlineData("info@bücher.example", "info-xn-bcher-kva-example-")]
    public void Technical_address_is_readable_prefix_random_suffix_on_the_inbound_domain(string input, string prefix)
    {
        var parsed = EmailAddressRules.TryParse(input, out _)!;

        var technical = EmailAddressRules.TechnicalAddress(parsed, "Inbound.Example.NET", "k3x9q2ab");

        Assert.Equal(prefix + "k3x9q2ab@inbound.example.net", technical);
    }

    [Fact]
    public void Technical_address_fits_64_characters_and_keeps_the_whole_random_part()
    {
        var parsed = EmailAddressRules.TryParse(new string('s', 64) + "@" + new string('d', 60) + ".com", out _)!;

        var technical = EmailAddressRules.TechnicalAddress(parsed, "inbound.example.net", "abcdefgh");

        var local = technical[..technical.IndexOf('@')];
        Assert.True(local.Length <= 64, local);
        Assert.EndsWith("-abcdefgh", local, StringComparison.Ordinal);
    }

    [Fact]
    public void Random_suffixes_are_base32_and_differ()
    {
        var suffixes = Enumerable.Range(0, 200).Select(_ => EmailAddressRules.RandomSuffix()).ToArray();

        Assert.All(suffixes, s => Assert.Matches("^[a-z2-7]{8}$", s));
        Assert.Equal(suffixes.Length, suffixes.Distinct().Count());
    }

    [Theory]
    [InlineData("bücher.example", "xn--bcher-kva.example")]
    [InlineData("XN--BCHER-KVA.example.", "xn--bcher-kva.example")]
    [InlineData("Acme.COM", "acme.com")]
    public void Domains_in_routes_may_be_unicode_or_punycode(string input, string ascii)
    {
        Assert.Equal(ascii, EmailAddressRules.ToAsciiDomain(input));
    }

    [Fact]
    public void Idn_domains_are_shown_in_unicode()
    {
        Assert.Equal("bücher.example", EmailAddressRules.ToUnicodeDomain("xn--bcher-kva.example"));
        Assert.Equal("info@bücher.example", EmailAddressRules.ToDisplay("info@xn--bcher-kva.example"));
        Assert.Equal("acme.com", EmailAddressRules.ToUnicodeDomain("acme.com"));
    }
}
