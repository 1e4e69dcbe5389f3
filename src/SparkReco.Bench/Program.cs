using System.CommandLine;
using DuckDB.NET.Data;

namespace SparkReco.Bench;

/// <summary>
/// <c>sparkreco-bench</c>: the workloads of scripts/bench.sh. <c>workload NAME --dir DIR</c> makes (or reuses) the
/// DuckDB-generated event file of M, M-skewed or L and prints its facts; <c>facts --events PATH --output FILE</c>
/// prints the same facts for an input made elsewhere (workload S from <c>sparkreco generate</c>); <c>ari</c> scores a
/// run's segments against a generated world's planted communities; <c>ease-fit --items N …</c> times the driver's EASE fit
/// per catalogue size.
/// </summary>
public static class Program
{
    /// <summary>The per-user item cap the capped increments are given for: the job's default Similarity:MaxItemsPerUser.</summary>
    private const int DefaultCap = 500;

    public static int Main(string[] args)
    {
        var cap = new Option<int>("--cap") { Description = "Per-user item cap for the capped pair increments (the job's Similarity:MaxItemsPerUser).", DefaultValueFactory = _ => DefaultCap };
        var force = new Option<bool>("--force") { Description = "Regenerate / recompute even if facts.json matches the files." };

        var name = new Argument<string>("name") { Description = "Workload: " + string.Join(", ", Workload.All.Select(w => w.Name)) + "." };
        var dir = new Option<string>("--dir") { Description = "Folder for events/ and facts.json (e.g. bench-data/M).", Required = true };
        var workload = new Command("workload", "Make (or reuse) a DuckDB-generated benchmark workload and print its facts.") { name, dir, cap, force };
        workload.SetAction(parse =>
        {
            var w = Workload.Find(parse.GetValue(name)!);
            if (w is null)
            {
                Console.Error.WriteLine($"error: unknown workload '{parse.GetValue(name)}'; one of {string.Join(", ", Workload.All.Select(x => x.Name))}.");
                return 2;
            }
            WorkloadFiles.Ensure(w, parse.GetValue(dir)!, parse.GetValue(cap), parse.GetValue(force), Console.Out);
            return 0;
        });

        var events = new Option<string>("--events") { Description = "Events Parquet file or folder.", Required = true };
        var output = new Option<string>("--output") { Description = "facts.json to write (and reuse while the events' fingerprint holds).", Required = true };
        var label = new Option<string>("--name") { Description = "Workload name shown with the facts.", DefaultValueFactory = _ => "events" };
        var description = new Option<string>("--description") { Description = "One line describing the input.", DefaultValueFactory = _ => "" };
        var facts = new Command("facts", "Print (and cache) the facts of any events input.") { events, output, label, description, cap, force };
        facts.SetAction(parse =>
        {
            WorkloadFiles.Describe(parse.GetValue(label)!, parse.GetValue(description)!, parse.GetValue(events)!, parse.GetValue(output)!,
                parse.GetValue(cap), parse.GetValue(force), Console.Out);
            return 0;
        });

        var segments = new Option<string>("--segments") { Description = "The run's segments table (Parquet file or folder).", Required = true };
        var truth = new Option<string>("--truth") { Description = "ground_truth/ of `sparkreco generate`.", Required = true };
        var ari = new Command("ari", "Print how well segments recover a generated world's planted communities (adjusted Rand index).") { segments, truth };
        ari.SetAction(parse =>
        {
            Console.WriteLine(SegmentRecovery.Measure(parse.GetValue(segments)!, parse.GetValue(truth)!));
            return 0;
        });

                var items = new Option<int[]>("--items") { Description = "Catalogue sizes to time the EASE fit at.", DefaultValueFactory = _ => [5000, 10000, 20000], AllowMultipleArgumentsPerToken = true };
        var lambda = new Option<double>("--lambda") { Description = "EASE's λ (the time does not depend on it).", DefaultValueFactory = _ => 50 };
        var easeFit = new Command("ease-fit", "Time the driver's EASE fit (Cholesky inverse of XᵀX + λI) at each catalogue size.") { items, lambda };
        easeFit.SetAction(parse =>
        {
            EaseFit.Run(parse.GetValue(items)!, parse.GetValue(lambda), Console.Out);
            return 0;
        });

        var root = new RootCommand("SparkReco benchmark workloads (see scripts/bench.sh, scripts/segments.sh) and the EASE fit timing.") { workload, facts, ari, easeFit };
        try
        {
            return root.Parse(args).Invoke();
        }
        catch (Exception e) when (e is DuckDBException or IOException or UnauthorizedAccessException)
        {
            Console.Error.WriteLine("error: " + e.Message);
            return 1;
        }
    }
}
