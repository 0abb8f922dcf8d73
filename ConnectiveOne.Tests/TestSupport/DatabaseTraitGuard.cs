using System.Reflection;
using Xunit.Sdk;

[assembly: ConnectiveOne.Tests.TestSupport.DatabaseTraitGuard]

namespace ConnectiveOne.Tests.TestSupport;

/// <summary>
/// Keeps the <c>Database</c> trait honest: a test tagged <c>[Trait("Database", "Unused")]</c> runs only in the SQLite
/// pass, so one that opens a database would never be tried on PostgreSQL. Every test database is made by
/// <see cref="TestDatabase.Create"/>, which calls <see cref="ThrowIfUnused"/>: in such a test it fails, naming the test.
/// </summary>
[AttributeUsage(AttributeTargets.Assembly)]
public sealed class DatabaseTraitGuardAttribute : BeforeAfterTestAttribute
{
    // Flows into everything the test awaits or starts (Task.Run included); null outside tests tagged Unused.
    private static readonly AsyncLocal<string?> _unusedTest = new();

    public override void Before(MethodInfo methodUnderTest) =>
        _unusedTest.Value = IsTaggedUnused(methodUnderTest) ? $"{methodUnderTest.ReflectedType?.Name}.{methodUnderTest.Name}" : null;

    public override void After(MethodInfo methodUnderTest) => _unusedTest.Value = null;

    /// <summary>Fails when the running test is tagged <c>Database=Unused</c>.</summary>
    public static void ThrowIfUnused()
    {
        if (_unusedTest.Value is { } test)
        {
            throw new InvalidOperationException(
                $"{test} is tagged [Trait(\"Database\", \"Unused\")] but opens a database, so it would never run on PostgreSQL. " +
                "Remove the trait (it then runs on both databases), or tag it Sqlite/Postgres with SqliteFact/PostgresFact.");
        }
    }

    /// <summary>Whether the method, or its class or a base class, carries <c>[Trait("Database", "Unused")]</c>.</summary>
    public static bool IsTaggedUnused(MethodInfo method)
    {
        IEnumerable<MemberInfo> owners = [method];
        for (var type = method.ReflectedType ?? method.DeclaringType; type is not null; type = type.BaseType)
            owners = owners.Append(type);
        return owners.SelectMany(o => o.GetCustomAttributesData())
            .Where(a => a.AttributeType == typeof(TraitAttribute) && a.ConstructorArguments.Count == 2)
            .Any(a => a.ConstructorArguments[0].Value as string == "Database" && a.ConstructorArguments[1].Value as string == "Unused");
    }
}
