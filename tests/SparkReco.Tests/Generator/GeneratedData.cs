using SparkReco.Tests.Support;
using SparkReco.Generator;

namespace SparkReco.Tests.Generator;

/// <summary>One small generated data set shared by the structure tests (generation is the slow part).</summary>
public sealed class GeneratedData : IAsyncLifetime, IDisposable
{
    public static GeneratorOptions SmallOptions(string directory, int seed = 42) =>
        new(directory, Events: 50_000, Users: 500, Items: 300, Communities: 8, Categories: 12, Seed: seed, Days: 28, Bots: 3);

    private readonly TempDirectory _folder = new();

    public string Directory => _folder.Path;
    public GeneratorOptions Options => SmallOptions(Directory);
    public GeneratorResult Result { get; private set; } = null!;
    public List<object?[]> Events { get; private set; } = [];
    public List<object?[]> Items { get; private set; } = [];
    public List<object?[]> Follows { get; private set; } = [];
    public List<object?[]> GroundTruth { get; private set; } = [];

    /// <summary>user_id → planted community.</summary>
    public Dictionary<string, int> Community { get; } = [];
    public HashSet<string> Bots { get; } = [];

    public async Task InitializeAsync()
    {
        Result = await SyntheticGenerator.GenerateAsync(Options, progress: null, CancellationToken.None);
        Events = await ParquetRows.ReadTableAsync(Path.Combine(Directory, "events"));
        Items = await ParquetRows.ReadTableAsync(Path.Combine(Directory, "items"));
        Follows = await ParquetRows.ReadTableAsync(Path.Combine(Directory, "follows"));
        GroundTruth = await ParquetRows.ReadTableAsync(Path.Combine(Directory, "ground_truth"));
        foreach (var row in GroundTruth)
        {
            Community[(string)row[0]!] = (int)row[1]!;
            if ((bool)row[2]!)
            {
                Bots.Add((string)row[0]!);
            }
        }
    }

    public Task DisposeAsync() => Task.CompletedTask;

    public void Dispose() => _folder.Dispose();
}
