using System.Globalization;
using Parquet;
using Parquet.Schema;

namespace SparkReco.Generator;

/// <summary>
/// Writes seeded synthetic engagement data in the input contract: <c>events/</c>, <c>items/</c>,
/// <c>follows/</c>, plus <c>ground_truth/</c> (each user's planted community and whether it is a bot) so
/// tests can check that segments and neighbours recover the planted structure.
/// </summary>
/// <remarks>
/// Events are streamed: one row group is generated into reusable arrays while the previous one is being
/// encoded, so memory stays at two row groups whatever the event count.
/// </remarks>
public static class SyntheticGenerator
{
    /// <summary>Rows per Parquet row group: large enough for good compression, small enough to stream.</summary>
    internal const int RowGroupSize = 1_000_000;

    /// <summary>Share of events that are an exact copy of the previous one (double-submits for the cleaning stage).</summary>
    internal const double DuplicateRate = 0.005;

    /// <summary>Share of a user's follows that stay inside their community.</summary>
    internal const double FollowWithinCommunity = 0.9;

    internal static readonly string[] EventTypes = ["view", "like", "comment", "share"];

    // Cumulative event-type rates: view 80%, like 12%, comment 5%, share 3%.
    private const double ViewBelow = 0.80;
    private const double LikeBelow = 0.92;
    private const double CommentBelow = 0.97;

    internal static readonly ParquetSchema EventsSchema = new(
        new DataField<string>("user_id"),
        new DataField<string>("item_id"),
        new DataField<string>("event_type"),
        // isAdjustedToUTC with microseconds is what Spark writes for TimestampType.
        new DateTimeDataField("event_time", DateTimeFormat.Timestamp, isAdjustedToUTC: true, unit: DateTimeTimeUnit.Micros));

    internal static readonly ParquetSchema ItemsSchema = new(
        new DataField<string>("item_id"),
        new DataField<string>("category"),
        new DataField<string>("creator_id"));

    internal static readonly ParquetSchema FollowsSchema = new(
        new DataField<string>("follower_id"),
        new DataField<string>("followee_id"));

    internal static readonly ParquetSchema GroundTruthSchema = new(
        new DataField<string>("user_id"),
        new DataField<int>("community"),
        new DataField<bool>("is_bot"));

    public static async Task<GeneratorResult> GenerateAsync(GeneratorOptions options, IProgress<long>? progress, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();

        var world = SyntheticWorld.Build(options);
        var root = Path.GetFullPath(options.OutputDirectory);
        var files = new List<string>();

        var eventsDir = PrepareDirectory(root, "events");
        files.AddRange(await WriteEventsAsync(world, eventsDir, progress, ct));

        var itemsFile = Path.Combine(PrepareDirectory(root, "items"), PartName(0));
        await WriteItemsAsync(world, itemsFile, ct);
        files.Add(itemsFile);

        var followsFile = Path.Combine(PrepareDirectory(root, "follows"), PartName(0));
        var follows = await WriteFollowsAsync(world, followsFile, ct);
        files.Add(followsFile);

        var truthFile = Path.Combine(PrepareDirectory(root, "ground_truth"), PartName(0));
        await WriteGroundTruthAsync(world, truthFile, ct);
        files.Add(truthFile);

        return new GeneratorResult(options.Events, options.Items, follows, options.Users, files);
    }

    private static string PartName(int part) => string.Create(CultureInfo.InvariantCulture, $"part-{part:D5}.parquet");

    /// <summary>Creates the table folder and removes parts of an earlier run, which could otherwise be read alongside the new ones.</summary>
    private static string PrepareDirectory(string root, string table)
    {
        var dir = Path.Combine(root, table);
        Directory.CreateDirectory(dir);
        foreach (var stale in Directory.EnumerateFiles(dir, "part-*.parquet*"))
        {
            File.Delete(stale);
        }

        return dir;
    }

    /// <summary>Writes to a temporary name and renames when complete, so a failed run leaves no half-written part.</summary>
    private static async Task WriteFileAsync(string path, ParquetSchema schema, Func<ParquetWriter, Task> writeRowGroups, CancellationToken ct)
    {
        var temp = path + ".tmp";
        try
        {
            await using (var stream = new FileStream(temp, FileMode.Create, FileAccess.Write, FileShare.None, bufferSize: 1 << 20))
            await using (var writer = await ParquetWriter.CreateAsync(schema, stream, cancellationToken: ct))
            {
                await writeRowGroups(writer);
            }

            File.Move(temp, path, overwrite: true);
        }
        catch
        {
            File.Delete(temp);
            throw;
        }
    }

    private static async Task<List<string>> WriteEventsAsync(SyntheticWorld world, string dir, IProgress<long>? progress, CancellationToken ct)
    {
        var options = world.Options;
        var groupSize = Math.Min(RowGroupSize, options.EventsPerFile);

        // The row groups of every part file, in order; generation runs one group ahead of encoding.
        var plan = new List<(int Part, int Rows)>();
        var remaining = options.Events;
        for (var part = 0; remaining > 0; part++)
        {
            var inFile = Math.Min(remaining, options.EventsPerFile);
            remaining -= inFile;
            for (var left = inFile; left > 0; left -= groupSize)
            {
                plan.Add((part, (int)Math.Min(left, groupSize)));
            }
        }

        var source = new EventSource(world);
        var buffers = new[] { new EventBatch(groupSize), new EventBatch(groupSize) };
        var files = new List<string>();
        var written = 0L;
        var next = 0;
        var pending = Task.Run(() => source.Fill(buffers[0], plan[0].Rows), ct);

        while (next < plan.Count)
        {
            var part = plan[next].Part;
            var path = Path.Combine(dir, PartName(part));
            await WriteFileAsync(path, EventsSchema, async writer =>
            {
                while (next < plan.Count && plan[next].Part == part)
                {
                    ct.ThrowIfCancellationRequested();
                    var batch = await pending;
                    var index = next++;
                    if (next < plan.Count)
                    {
                        var buffer = buffers[next % 2];
                        var rows = plan[next].Rows;
                        pending = Task.Run(() => source.Fill(buffer, rows), ct);
                    }

                    await batch.WriteAsync(writer, ct);
                    written += plan[index].Rows;
                    progress?.Report(written);
                }
            }, ct);
            files.Add(path);
        }

        return files;
    }

    private static Task WriteItemsAsync(SyntheticWorld world, string path, CancellationToken ct) =>
        WriteFileAsync(path, ItemsSchema, async writer =>
        {
            var fields = ItemsSchema.DataFields;
            for (var start = 0; start < world.ItemIds.Length; start += RowGroupSize)
            {
                var count = Math.Min(RowGroupSize, world.ItemIds.Length - start);
                var categories = new string[count];
                var creators = new string[count];
                for (var i = 0; i < count; i++)
                {
                    categories[i] = world.CategoryNames[world.ItemCategory[start + i]];
                    creators[i] = world.UserIds[world.ItemCreator[start + i]];
                }

                using var group = writer.CreateRowGroup();
                await group.WriteAsync(fields[0], new ArraySegment<string>(world.ItemIds, start, count));
                await group.WriteAsync(fields[1], categories);
                await group.WriteAsync(fields[2], creators);
                ct.ThrowIfCancellationRequested();
            }
        }, ct);

    private static Task WriteGroundTruthAsync(SyntheticWorld world, string path, CancellationToken ct) =>
        WriteFileAsync(path, GroundTruthSchema, async writer =>
        {
            var fields = GroundTruthSchema.DataFields;
            for (var start = 0; start < world.UserIds.Length; start += RowGroupSize)
            {
                var count = Math.Min(RowGroupSize, world.UserIds.Length - start);
                using var group = writer.CreateRowGroup();
                await group.WriteAsync(fields[0], new ArraySegment<string>(world.UserIds, start, count));
                await group.WriteAsync<int>(fields[1], world.UserCommunity.AsMemory(start, count), cancellationToken: ct);
                await group.WriteAsync<bool>(fields[2], world.IsBot.AsMemory(start, count), cancellationToken: ct);
            }
        }, ct);

    /// <summary>
    /// Each user follows 2–18 others (10 on average), 90% inside their own community, so follow density
    /// within a community is far above the density across communities.
    /// </summary>
    private static async Task<long> WriteFollowsAsync(SyntheticWorld world, string path, CancellationToken ct)
    {
        var rng = new Xoshiro256(world.Options.Seed, stream: 2);
        var users = world.Options.Users;
        var fields = FollowsSchema.DataFields;
        var followers = new string[RowGroupSize];
        var followees = new string[RowGroupSize];
        var chosen = new List<int>(18);
        var total = 0L;

        await WriteFileAsync(path, FollowsSchema, async writer =>
        {
            var filled = 0;
            for (var user = 0; user < users; user++)
            {
                var members = world.CommunityMembers[world.UserCommunity[user]];
                var degree = Math.Min(users - 1, 2 + rng.NextInt(17));
                chosen.Clear();
                for (var attempt = 0; chosen.Count < degree && attempt < 4 * degree; attempt++)
                {
                    var followee = rng.NextDouble() < FollowWithinCommunity && members.Length > 1
                        ? members[rng.NextInt(members.Length)]
                        : rng.NextInt(users);
                    if (followee != user && !chosen.Contains(followee))
                    {
                        chosen.Add(followee);
                    }
                }

                foreach (var followee in chosen)
                {
                    followers[filled] = world.UserIds[user];
                    followees[filled] = world.UserIds[followee];
                    if (++filled == RowGroupSize)
                    {
                        await Flush(filled);
                        filled = 0;
                    }
                }
            }

            if (filled > 0 || total == 0)
            {
                await Flush(filled);
            }

            async Task Flush(int count)
            {
                using var group = writer.CreateRowGroup();
                await group.WriteAsync(fields[0], new ArraySegment<string>(followers, 0, count));
                await group.WriteAsync(fields[1], new ArraySegment<string>(followees, 0, count));
                total += count;
                ct.ThrowIfCancellationRequested();
            }
        }, ct);

        return total;
    }

    /// <summary>One row group of events in column arrays, reused across groups.</summary>
    private sealed class EventBatch(int capacity)
    {
        public string[] Users { get; } = new string[capacity];
        public string[] Items { get; } = new string[capacity];
        public string[] Types { get; } = new string[capacity];
        public DateTime[] Times { get; } = new DateTime[capacity];
        public int Count { get; set; }

        public async Task WriteAsync(ParquetWriter writer, CancellationToken ct)
        {
            var fields = EventsSchema.DataFields;
            using var group = writer.CreateRowGroup();
            await group.WriteAsync(fields[0], new ArraySegment<string>(Users, 0, Count));
            await group.WriteAsync(fields[1], new ArraySegment<string>(Items, 0, Count));
            await group.WriteAsync(fields[2], new ArraySegment<string>(Types, 0, Count));
            await group.WriteAsync<DateTime>(fields[3], Times.AsMemory(0, Count), cancellationToken: ct);
        }
    }

    /// <summary>Samples events from the world with one random stream, so rows depend only on the options.</summary>
    private sealed class EventSource(SyntheticWorld world)
    {
        private readonly Xoshiro256 _rng = new(world.Options.Seed, stream: 3);
        private readonly Rhythm _rhythm = new(world.Options.EndUtc, world.Options.Days);
        private readonly double _botShare = world.Bots.Length * GeneratorOptions.BotEventShare;

        public EventBatch Fill(EventBatch batch, int count)
        {
            var rng = _rng;
            var users = batch.Users;
            var items = batch.Items;
            var types = batch.Types;
            var times = batch.Times;
            for (var row = 0; row < count; row++)
            {
                if (row > 0 && rng.NextDouble() < DuplicateRate)
                {
                    users[row] = users[row - 1];
                    items[row] = items[row - 1];
                    types[row] = types[row - 1];
                    times[row] = times[row - 1];
                    continue;
                }

                string user;
                int item;
                if (rng.NextDouble() < _botShare)
                {
                    // Bots hammer the whole catalogue uniformly: volume without taste.
                    user = world.UserIds[world.Bots[rng.NextInt(world.Bots.Length)]];
                    item = rng.NextInt(world.ItemIds.Length);
                }
                else
                {
                    var active = world.ActiveUsers[world.UserActivity.Sample(rng)];
                    user = active.Id;
                    var liked = world.CommunityCategories[active.Community];
                    var category = rng.NextDouble() < SyntheticWorld.PreferredCategoryShare
                        ? liked[rng.NextInt(liked.Length)]
                        : rng.NextInt(world.CategoryItems.Length);
                    item = world.CategoryItems[category][world.CategoryPopularity[category].Sample(rng)];
                }

                var kind = rng.NextDouble();
                users[row] = user;
                items[row] = world.ItemIds[item];
                types[row] = kind < ViewBelow ? EventTypes[0] : kind < LikeBelow ? EventTypes[1] : kind < CommentBelow ? EventTypes[2] : EventTypes[3];
                times[row] = _rhythm.Sample(rng);
            }

            batch.Count = count;
            return batch;
        }
    }
}
