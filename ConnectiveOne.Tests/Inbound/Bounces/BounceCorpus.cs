using ConnectiveOne.Tests.TestSupport;

namespace ConnectiveOne.Tests.Inbound.Bounces;

/// <summary>Every delivery report of the corpus (sisimai MTA and provider families, flanker, chatwoot, MimeKit's DSNs); ARF complaints and RFC 3834 auto-replies left out.</summary>
public static class BounceCorpus
{
    public static IReadOnlyList<string> Files() =>
        new[] { "bounce/sisimai/bsd", "bounce/sisimai/dos-crlf", "bounce/sisimai/mac-cr", "bounce/flanker", "bounce/chatwoot" }
            .SelectMany(folder => Corpus.Files(folder, "*.eml"))
            .Where(f => Path.GetFileName(f) is var name && !name.StartsWith("rfc3834-", StringComparison.Ordinal) && !name.StartsWith("arf-", StringComparison.Ordinal))
            .Concat(Corpus.Files("mime/mimekit/messages", "delivery-status*.txt"))
            .Select(f => Path.GetRelativePath(Corpus.Root, f))
            .ToList();
}
