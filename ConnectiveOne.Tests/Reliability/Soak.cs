namespace ConnectiveOne.Tests.Reliability;

/// <summary><c>C1_SOAK=1</c> runs the reliability tests' long variants (more rounds); off in <c>./test.sh</c> by default.</summary>
internal static class Soak
{
    public static bool On => Environment.GetEnvironmentVariable("C1_SOAK") == "1";

    /// <summary><paramref name="normal"/>, or <paramref name="soak"/> when soaking.</summary>
    public static int Rounds(int normal, int soak) => On ? soak : normal;
}
