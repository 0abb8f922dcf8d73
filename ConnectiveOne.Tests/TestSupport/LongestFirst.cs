using System.Reflection;
using Xunit.Abstractions;

[assembly: TestCollectionOrderer("ConnectiveOne.Tests.TestSupport.LongestFirstOrderer", "ConnectiveOne.Tests")]
// Four collections at a time on two cores, so the two browser collections run beside the rest. Measured on b9520bd:
// the SQLite pass took 11 m 45 s with four on a quiet machine, against 12 m 39 s with two on a busy one, and the summed
// test time doubled: the suite is CPU-bound, so this alone does not bring a pass under ten minutes.
[assembly: CollectionBehavior(MaxParallelThreads = 4)]

namespace ConnectiveOne.Tests.TestSupport;

/// <summary>
/// About how long a test class (or a collection definition) runs, in seconds on the 2-core CI machine. The long ones
/// start first: the suite is CPU-bound, and a long class started late ran alone at the end on one core.
/// </summary>
[AttributeUsage(AttributeTargets.Class)]
public sealed class RunsLongAttribute(int seconds) : Attribute
{
    public int Seconds { get; } = seconds;
}

/// <summary>Orders test collections longest first (<see cref="RunsLongAttribute"/>), the rest by name.</summary>
public sealed class LongestFirstOrderer : ITestCollectionOrderer
{
    private const string ClassCollectionPrefix = "Test collection for ";

    public IEnumerable<ITestCollection> OrderTestCollections(IEnumerable<ITestCollection> testCollections) =>
        testCollections.OrderByDescending(Seconds).ThenBy(c => c.DisplayName, StringComparer.Ordinal);

    private static int Seconds(ITestCollection collection)
    {
        // A named collection carries it on its definition; a class's own collection is named after the class.
        var type = collection.CollectionDefinition?.ToRuntimeType()
                   ?? (collection.DisplayName.StartsWith(ClassCollectionPrefix, StringComparison.Ordinal)
                       ? typeof(LongestFirstOrderer).Assembly.GetType(collection.DisplayName[ClassCollectionPrefix.Length..])
                       : null);
        return type?.GetCustomAttribute<RunsLongAttribute>()?.Seconds ?? 0;
    }
}
