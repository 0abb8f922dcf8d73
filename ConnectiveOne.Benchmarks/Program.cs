using System.Globalization;
using ConnectiveOne.Benchmarks;

const string usage = """
    Usage: dotnet run -c Release --project ConnectiveOne.Benchmarks -- <mode> [argument]
      dns [pending domains, default 10000]   DNS verification and the re-check worker
      inbox-queries [rounds, default 200]    inbox reads on 100,000 tickets / 1,000,000 messages
      inbox-live [seconds, default 60]       SMTP 250 to the hub's messageAdded at 50 messages/s (needs a published app)
      ticket-open [opens, default 10]        a 5,000-message ticket opened in Chromium: first render, server memory per viewer
      inbox-browser [seconds, default 30]    SMTP 250 to the new row in an open Chromium inbox page, 5 messages/s
    """;

int Argument(int fallback) => args.Length > 1 ? int.Parse(args[1], CultureInfo.InvariantCulture) : fallback;

switch (args.FirstOrDefault())
{
    case "dns":
        await DnsBenchmark.RunAsync(Argument(10_000));
        return 0;
    case "inbox-queries":
        await InboxQueriesBenchmark.RunAsync(Argument(200));
        return 0;
    case "inbox-live":
        await InboxLiveBenchmark.RunAsync(Argument(60), rate: 50);
        return 0;
    case "ticket-open":
        await TicketOpenBenchmark.RunAsync(Argument(10), viewers: 10, messages: 5_000);
        return 0;
    case "inbox-browser":
        await InboxBrowserBenchmark.RunAsync(Argument(30), rate: 5);
        return 0;
    default:
        Console.Error.WriteLine(usage);
        return 2;
}
