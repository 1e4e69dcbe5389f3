using System.Globalization;
using SparkReco.Core.Errors;

namespace SparkReco.Generator;

/// <summary>What <see cref="SyntheticGenerator"/> makes. Same options (seed included) ⇒ identical rows.</summary>
/// <param name="OutputDirectory">Receives <c>events/</c>, <c>items/</c>, <c>follows/</c> and <c>ground_truth/</c>.</param>
/// <param name="Events">Total event rows, exact duplicates included.</param>
/// <param name="End">Exclusive end of the event window (UTC); default 2026-11-01T00:00:00Z.</param>
/// <param name="Days">Length of the event window ending at <paramref name="End"/>.</param>
/// <param name="Bots">Bots / power users, each producing about 2% of all events.</param>
/// <param name="EventsPerFile">Maximum rows per events part file.</param>
public sealed record GeneratorOptions(
    string OutputDirectory,
    long Events = 200_000,
    int Users = 2_000,
    int Items = 1_000,
    int Communities = 8,
    int Categories = 12,
    int Seed = 42,
    DateTime? End = null,
    int Days = 60,
    int Bots = 3,
    int EventsPerFile = 5_000_000)
{
    public static readonly DateTime DefaultEnd = new(2026, 11, 1, 0, 0, 0, DateTimeKind.Utc);

    /// <summary>Share of all events each bot produces.</summary>
    internal const double BotEventShare = 0.02;

    /// <summary>Bots together may produce at most half of the events, otherwise there is no signal left.</summary>
    internal const int MaxBots = 25;

    /// <summary><see cref="End"/> as UTC (an unspecified kind is taken as UTC).</summary>
    internal DateTime EndUtc => End switch
    {
        null => DefaultEnd,
        { Kind: DateTimeKind.Local } local => local.ToUniversalTime(),
        { } other => DateTime.SpecifyKind(other, DateTimeKind.Utc),
    };

    /// <summary>Throws <see cref="ConfigurationException"/> naming the first bad option and what is allowed.</summary>
    public void Validate()
    {
        if (string.IsNullOrWhiteSpace(OutputDirectory))
        {
            throw Bad(nameof(OutputDirectory), "must be a directory path");
        }

        Positive(nameof(Events), Events);
        Positive(nameof(Users), Users);
        Positive(nameof(Items), Items);
        Positive(nameof(Communities), Communities);
        Positive(nameof(Categories), Categories);
        Positive(nameof(Days), Days);
        Positive(nameof(EventsPerFile), EventsPerFile);

        if (Users < Communities)
        {
            throw Bad(nameof(Users), Invariant($"is {Users} but must be at least {nameof(Communities)} ({Communities}) so every community has a member"));
        }

        if (Items < Categories)
        {
            throw Bad(nameof(Items), Invariant($"is {Items} but must be at least {nameof(Categories)} ({Categories}) so every category has an item"));
        }

        if (Bots < 0 || Bots > MaxBots)
        {
            throw Bad(nameof(Bots), Invariant($"is {Bots} but must be between 0 and {MaxBots} (each bot makes ~2% of all events)"));
        }

        if (Bots >= Users)
        {
            throw Bad(nameof(Bots), Invariant($"is {Bots} but must be less than {nameof(Users)} ({Users}) so some users are not bots"));
        }

        if (Days > 36_500 || EndUtc.AddDays(-Days) < DateTime.UnixEpoch)
        {
            throw Bad(nameof(Days), Invariant($"is {Days}: the window ending at {EndUtc:yyyy-MM-ddTHH:mm:ssZ} must start after 1970-01-01"));
        }
    }

    private static void Positive(string name, long value)
    {
        if (value <= 0)
        {
            throw Bad(name, Invariant($"is {value} but must be positive"));
        }
    }

    private static ConfigurationException Bad(string option, string problem) =>
        new($"Generator option {option} {problem}.");

    private static string Invariant(FormattableString text) => text.ToString(CultureInfo.InvariantCulture);
}

/// <summary>What was written: row counts and the Parquet files, events first.</summary>
public sealed record GeneratorResult(long Events, long Items, long Follows, long Users, IReadOnlyList<string> Files);
