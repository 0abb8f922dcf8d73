using ConnectiveOne.Benchmarks;

// dotnet run -c Release --project ConnectiveOne.Benchmarks -- dns [domains]
if (args.Length == 0 || args[0] != "dns")
{
    Console.Error.WriteLine("Usage: dotnet run -c Release --project ConnectiveOne.Benchmarks -- dns [pending domains, default 10000]");
    return 2;
}

var domains = args.Length > 1 ? int.Parse(args[1], System.Globalization.CultureInfo.InvariantCulture) : 10_000;
await DnsBenchmark.RunAsync(domains);
return 0;
