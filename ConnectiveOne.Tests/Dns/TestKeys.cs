using ConnectiveOne.Core.Dns;

namespace ConnectiveOne.Tests.Dns;

/// <summary>Keys generated once per test run: RSA-2048 generation is slow enough to matter across many tests.</summary>
internal static class TestKeys
{
    public static DkimKeyPair K1 { get; } = DkimKeyPair.Generate(DkimKeyPair.PrimarySelector);

    public static DkimKeyPair K2 { get; } = DkimKeyPair.Generate(DkimKeyPair.RotationSelector);

    public static DomainDnsSettings Settings(string domain = "acme.test", string include = "mailgun.org") =>
        new(domain, "tok3n-9x", [K1.ToSelectorKey(required: true), K2.ToSelectorKey(required: false)], include);
}
