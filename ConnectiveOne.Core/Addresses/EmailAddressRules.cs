using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using MimeKit;

namespace ConnectiveOne.Core.Addresses;

/// <summary>A corporate address after validation: the domain in punycode, ready to store.</summary>
/// <remarks>
/// <para><c>Email</c>: local part as entered, <c>@</c>, the domain in lower-case punycode.</para>
/// <para><c>NormalizedEmail</c>: lower-case <c>Email</c>, the key for duplicates.</para>
/// </remarks>
public sealed record ParsedAddress(string Email, string NormalizedEmail, string LocalPart, string Domain);

/// <summary>Pure rules for corporate addresses: parsing with MimeKit, RFC 5321 limits, IDN, technical addresses.</summary>
public static class EmailAddressRules
{
    public const int MaxLocalPart = 64;
    public const int MaxDomain = 255;
    public const int MaxAddress = 254;

    /// <summary>Random base32 characters in a technical address: 40 bits, far beyond guessing.</summary>
    public const int RandomSuffixLength = 8;

    private static readonly IdnMapping _idn = new() { AllowUnassigned = false, UseStd3AsciiRules = true };

    /// <summary>Parses a bare address (no display name). Returns null with a reason in words when it is not one.</summary>
    public static ParsedAddress? TryParse(string? input, out string? problem)
    {
        problem = null;
        var text = input?.Trim() ?? "";
        if (text.Length == 0)
        {
            problem = "Enter an email address, like support@acme.com.";
            return null;
        }

        if (!MailboxAddress.TryParse(ParserOptions.Default, text, out var mailbox)
            || !string.IsNullOrEmpty(mailbox.Name)
            || mailbox.Route.Count > 0
            || text.Contains('<', StringComparison.Ordinal))
        {
            problem = $"\"{text}\" is not an email address. Enter it like support@acme.com.";
            return null;
        }

        var local = mailbox.LocalPart;
        var domainText = mailbox.Domain;
        if (string.IsNullOrEmpty(local) || string.IsNullOrEmpty(domainText) || domainText.StartsWith('['))
        {
            problem = $"\"{text}\" is not an email address: it needs a name, @ and a domain, like support@acme.com.";
            return null;
        }

        string domain;
        try
        {
            domain = _idn.GetAscii(domainText.TrimEnd('.')).ToLowerInvariant();
        }
        catch (ArgumentException)
        {
            problem = $"\"{domainText}\" is not a valid domain name.";
            return null;
        }

        if (!domain.Contains('.', StringComparison.Ordinal))
        {
            problem = $"\"{text}\" is not an email address: the domain \"{domainText}\" has no dot (like acme.com).";
            return null;
        }

        if (Encoding.UTF8.GetByteCount(local) > MaxLocalPart)
        {
            problem = $"The part before @ is longer than {MaxLocalPart} characters, which mail servers refuse.";
            return null;
        }

        if (domain.Length > MaxDomain)
        {
            problem = $"The domain is longer than {MaxDomain} characters, which DNS does not allow.";
            return null;
        }

        var email = $"{local}@{domain}";
        if (Encoding.UTF8.GetByteCount(email) > MaxAddress)
        {
            problem = $"The address is longer than {MaxAddress} characters, which mail servers refuse.";
            return null;
        }

        return new ParsedAddress(email, email.ToLowerInvariant(), local, domain);
    }

    /// <summary>A domain as entered (Unicode or punycode) in lower-case punycode; null when it is not a domain name.</summary>
    public static string? ToAsciiDomain(string? domain)
    {
        if (string.IsNullOrWhiteSpace(domain))
            return null;
        try
        {
            return _idn.GetAscii(domain.Trim().TrimEnd('.')).ToLowerInvariant();
        }
        catch (ArgumentException)
        {
            return null;
        }
    }

    /// <summary>The domain for people: Unicode when it is an IDN (<c>xn--bcher-kva.de</c> → <c>bücher.de</c>).</summary>
    public static string ToUnicodeDomain(string asciiDomain)
    {
        try
        {
            return _idn.GetUnicode(asciiDomain);
        }
        catch (ArgumentException)
        {
            return asciiDomain;
        }
    }

    /// <summary>An address for people, its domain in Unicode.</summary>
    public static string ToDisplay(string email)
    {
        var at = email.LastIndexOf('@');
        return at < 0 ? email : email[..(at + 1)] + ToUnicodeDomain(email[(at + 1)..]);
    }

    /// <summary>
    /// <c>&lt;local&gt;-&lt;domain-slug&gt;-&lt;random&gt;@&lt;inbound domain&gt;</c>, lower case, within the RFC 5321
    /// local-part limit: the readable part is shortened, never the random part.
    /// </summary>
    public static string TechnicalAddress(ParsedAddress address, string inboundDomain, string randomSuffix)
    {
        var readable = Slug(address.LocalPart) + "-" + Slug(address.Domain.Replace('.', '-'));
        var room = MaxLocalPart - 1 - randomSuffix.Length;
        if (readable.Length > room)
            readable = readable[..room].TrimEnd('-');
        return $"{readable}-{randomSuffix.ToLowerInvariant()}@{inboundDomain.Trim().TrimEnd('.').ToLowerInvariant()}";
    }

    /// <summary>Fresh random base32 characters from the system's cryptographic generator.</summary>
    public static string RandomSuffix()
    {
        Span<byte> bytes = stackalloc byte[RandomSuffixLength * 5 / 8];
        RandomNumberGenerator.Fill(bytes);
        return Base32.Encode(bytes).ToLowerInvariant();
    }

    /// <summary>Lower-case letters and digits; anything else becomes one hyphen.</summary>
    private static string Slug(string text)
    {
        var slug = new StringBuilder(text.Length);
        foreach (var c in text.ToLowerInvariant())
        {
            if (c is (>= 'a' and <= 'z') or (>= '0' and <= '9'))
                slug.Append(c);
            else if (slug.Length > 0 && slug[^1] != '-')
                slug.Append('-');
        }

        var result = slug.ToString().Trim('-');
        return result.Length == 0 ? "mail" : result;
    }
}
