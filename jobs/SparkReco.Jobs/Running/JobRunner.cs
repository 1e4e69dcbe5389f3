using System.Diagnostics;
using System.Globalization;
using System.Reflection;
using System.Security.Cryptography;
using System.Text;
using Microsoft.Extensions.Logging;
using SparkReco.Core.Configuration;
using SparkReco.Core.Engine;
using SparkReco.Core.Errors;
using SparkReco.Core.Stages;
using SparkReco.Input;
using SparkReco.Jobs.Reporting;
using SparkReco.Jobs.Stages;
using SparkReco.Publishing;

namespace SparkReco.Jobs.Running;

/// <summary>Opens an engine for a run; the CLI decides which.</summary>
public delegate Task<IEngine> EngineFactory(EngineSettings settings, CancellationToken cancellationToken);

/// <summary>The outcome of a published run, with the typed results its stages produced (<see cref="StageContext.Results"/>).</summary>
/// <param name="ReportPath">The published report.html (absolute), or null when the run wrote none.</param>
public sealed record RunResult(RunManifest Manifest, string OutputDirectory, StageContext Context, string? ReportPath = null);

/// <summary>
/// Drives one run: check inputs → lock the output → stages in DAG order → write tables to staging →
/// artifacts → publish atomically. Any failure before the publish leaves the previous outputs as they were.
/// </summary>
public sealed class JobRunner
{
    private readonly JobSettings _settings;
    private readonly EngineFactory _engineFactory;
    private readonly ILogger _logger;
    private readonly IRunObserver _observer;
    private readonly JobPlan _plan;
    private readonly IReadOnlyList<IRunArtifact> _artifacts;
    private readonly IInputInspector _inputs;

    /// <param name="inputs">
    /// Finds and checks the input files; by default the one <see cref="InputInspectors.For"/> chooses for the settings (data-lake
    /// inputs on Spark are checked through an engine session of their own, opened with <paramref name="engineFactory"/>).
    /// </param>
    public JobRunner(JobSettings settings, EngineFactory engineFactory, ILogger logger, IRunObserver? observer = null, JobPlan? plan = null,
        IReadOnlyList<IRunArtifact>? artifacts = null, IInputInspector? inputs = null)
    {
        _inputs = inputs ?? InputInspectors.For(settings, ct => engineFactory(settings.Engine, ct));
        _settings = settings;
        _engineFactory = engineFactory;
        _logger = logger;
        _observer = observer ?? NullRunObserver.Instance;
        _plan = plan ?? JobPlan.Default();
        _artifacts = artifacts ?? RunArtifacts.All();
    }

    /// <summary>A new run id: the start time (sortable) and 8 random hex digits (unique among runs started in the same second).</summary>
    public static string NewRunId(DateTime startedAt) =>
        startedAt.ToString("yyyyMMdd'T'HHmmss'Z'", CultureInfo.InvariantCulture) + "-" + Guid.NewGuid().ToString("N")[..8];

    /// <param name="runId">The run's id, when the caller made it already (to put it on its log lines); else a new one.</param>
    public async Task<RunResult> RunAsync(CancellationToken ct, string? runId = null)
    {
        // Secrets are checked before any work: pseudonymisation on without a key stops here (exit 2).
        var pseudonymKey = _settings.Privacy.PseudonymizeIds ? PrivacySettings.ReadKey() : null;
        var startedAt = DateTime.UtcNow;
        runId ??= NewRunId(startedAt);
        CheckOutputPlacement(_settings);
        // An object-store output the engine cannot write (DuckDB) is refused before any work (exit 2).
        var lakeOutput = OutputPublishers.IsLake(_settings);
        var catalog = await _inputs.InspectAsync(_settings.Input, ct);
        _logger.LogInformation("Run {RunId}: events {Files} file(s), {Rows} rows; items {Items}; follows {Follows}",
            runId, catalog.Events.Files.Count, catalog.Events.Rows, catalog.Items?.Rows.ToString(CultureInfo.InvariantCulture) ?? "none", catalog.Follows?.Rows.ToString(CultureInfo.InvariantCulture) ?? "none");

        // The publish protocol depends on the engine (rename in place, or run folders and a pointer on Spark) and on where the
        // output is: an object store is written through the engine, so its publisher exists only once the engine is open.
        var localPublisher = lakeOutput ? null : OutputPublishers.For(_settings);
        using var outputLock = localPublisher is null ? null : OutputLock.Acquire(localPublisher.OutputDirectory, runId);
        if (outputLock?.RecoveredStaleLock == true) _logger.LogWarning("The previous run on {Output} died without releasing its lock; taking it over", _settings.Output.Path);
        foreach (var note in localPublisher?.Recover() ?? []) _logger.LogWarning("Output repair: {Note}", note);

        await using var engine = await _engineFactory(_settings.Engine, ct);
        var publisher = localPublisher ?? LakePublisher(engine);
        var staging = publisher.CreateStaging(runId);
        try
        {
            var (context, timings) = await RunStagesAsync(engine, catalog, startedAt, ct);
            var outputRows = await StagingWrite(publisher, staging, "the tables", () => WriteTablesAsync(engine, context, publisher, staging, timings, pseudonymKey, ct));
            var inputRows = new SortedDictionary<string, long>(StringComparer.Ordinal) { ["events"] = catalog.Events.Rows };
            if (catalog.Items is not null) inputRows["items"] = catalog.Items.Rows;
            if (catalog.Follows is not null) inputRows["follows"] = catalog.Follows.Rows;
            var summary = new RunSummary(runId, startedAt, context.AsOf, engine.Version, timings, outputRows, inputRows);
            var files = await StagingWrite(publisher, staging, "the run files (metrics.json, report.html)", () => WriteArtifactsAsync(engine, context, summary, publisher.FilesFolder(staging), ct));
            // Described from the staged files, so the manifest states what readers get, not what the stages counted.
            var tables = await publisher.DescribeAsync(staging, outputRows.Keys, ct);

            var manifest = new RunManifest
            {
                RunId = runId,
                StartedAt = startedAt,
                FinishedAt = DateTime.UtcNow,
                AsOf = context.AsOf,
                AsOfSource = _settings.Affinity.AsOf is null ? "latest_event_time" : "configured",
                TotalSeconds = Math.Round((DateTime.UtcNow - startedAt).TotalSeconds, 3),
                ConfigHash = _settings.Hash(),
                InputFingerprint = Fingerprint(catalog),
                Engine = engine.Name,
                Versions = new SortedDictionary<string, string>(StringComparer.Ordinal)
                {
                    ["sparkreco"] = typeof(JobRunner).Assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion ?? "dev",
                    ["engine"] = engine.Version,
                    ["dotnet"] = Environment.Version.ToString(),
                },
                RowCounts = outputRows,
                Inputs = ManifestInputs(catalog),
                Tables = tables,
                Files = files,
                Stages = timings,
                Facts = ManifestFacts(context),
            };
            ct.ThrowIfCancellationRequested();
            await publisher.PublishAsync(staging, manifest, ct);
            _logger.LogInformation("Published run {RunId} to {Output}: {Tables}", runId, _settings.Output.Path,
                string.Join(", ", outputRows.Select(kv => $"{kv.Key} {kv.Value:N0} rows")));
            var report = files.Contains(ReportArtifact.ReportFileName) ? publisher.TableFolder(publisher.PublishedFolder(runId), ReportArtifact.ReportFileName) : null;
            // The last line: what a person at a terminal, or a scheduler's task log, looks for first.
            _logger.LogInformation("Run {RunId} finished in {Seconds:F1} s; report: {Report}", runId, (DateTime.UtcNow - startedAt).TotalSeconds, report ?? "none");
            return new RunResult(manifest, publisher.OutputDirectory, context, report);
        }
        catch
        {
            // The staging folder is this run's alone; the published outputs were never touched.
            publisher.Discard(staging);
            throw;
        }
    }

    /// <summary>
    /// An object-store output on Spark: published through the engine, without the output lock or the clean-up of failed
    /// run folders (Spark Connect can neither create a file exclusively nor list or delete one), so it is logged.
    /// </summary>
    private IOutputPublisher LakePublisher(IEngine engine)
    {
        var lake = engine as ILakeFiles
            ?? throw new ConfigurationException($"setting 'Output:Path' is '{_settings.Output.Path}', an object-store URL, which the {engine.Name} engine cannot write; use the Spark engine or a local folder.");
        _logger.LogWarning("Output {Output} is on an object store: no output lock is taken and failed run folders are not removed; " +
            "the scheduler must not start two runs on this output at once (README, Publishing on Spark)", _settings.Output.Path);
        return OutputPublishers.ForLake(_settings, lake);
    }

    /// <summary>The manifest's facts: the stages' counters and what their typed results list (<see cref="IManifestFacts"/>).</summary>
    private static SortedDictionary<string, object> ManifestFacts(StageContext context)
    {
        var facts = new SortedDictionary<string, object>(context.Facts, StringComparer.Ordinal);
        foreach (var result in context.Results.All.OfType<IManifestFacts>())
            foreach (var (key, value) in result.ManifestFacts()) facts[key] = value;
        return facts;
    }

    /// <summary>
    /// Writing into the staging folder fails on the output's disk, not the engine's: a full or read-only output
    /// is a publish error (exit 5) that names Output:Path, whether the file system said so to .NET or to the engine.
    /// </summary>
    private static async Task<T> StagingWrite<T>(IOutputPublisher publisher, string staging, string what, Func<Task<T>> write)
    {
        try
        {
            return await write();
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException
            || (e is EngineException && e.Message.Contains(staging, StringComparison.Ordinal) && IsOutputFileSystemError(e.Message)))
        {
            // The engine's own hint is about its spill folder; the file system's message is what applies here.
            var cause = e is EngineException { InnerException: { } inner } ? inner.Message : e.Message;
            var problem = OutputLock.IsDiskFull(e) || cause.Contains("No space left", StringComparison.OrdinalIgnoreCase)
                ? "the disk is full. Free space there or set Output:Path to a larger disk"
                : e is UnauthorizedAccessException || IsOutputFileSystemError(cause)
                ? "the folder is not writable. Give the job write permission there or set Output:Path to a writable folder"
                : "an I/O error occurred. Check the folder's disk and permissions";
            throw new PublishException($"Writing {what} to the output folder '{publisher.OutputDirectory}' failed: {problem}. " +
                $"The previous outputs are unchanged. ({FirstLine(cause)})", e);
        }
    }

    private static bool IsOutputFileSystemError(string message) =>
        message.Contains("No space left", StringComparison.OrdinalIgnoreCase)
        || message.Contains("Permission denied", StringComparison.OrdinalIgnoreCase)
        || message.Contains("Read-only file system", StringComparison.OrdinalIgnoreCase)
        || message.Contains("quota", StringComparison.OrdinalIgnoreCase);

    private static string FirstLine(string message) => message.Split('\n', 2)[0].Trim();

    /// <summary>
    /// The output folder must not be an input folder, lie inside one, or contain one: the published tables and
    /// manifest would become input of the next run (or the publish would move the input aside). Exit 2.
    /// </summary>
    public static void CheckOutputPlacement(JobSettings settings)
    {
        var output = Path.TrimEndingDirectorySeparator(Path.GetFullPath(settings.Output.Path));
        var inputs = new[] { ("Input:Events", settings.Input.Events), ("Input:Items", settings.Input.Items), ("Input:Follows", settings.Input.Follows), ("Evaluation:TestEvents", settings.Evaluation.TestEvents) };
        foreach (var (setting, path) in inputs)
        {
            if (path is null) continue;
            var input = Path.TrimEndingDirectorySeparator(Path.GetFullPath(path));
            if (IsSameOrInside(output, input) || IsSameOrInside(input, output))
                throw new ConfigurationException(
                    $"setting 'Output:Path' ('{settings.Output.Path}') overlaps the input of '{setting}' ('{path}'): published tables would be read as input by the next run. " +
                    "Set Output:Path to a folder outside every input folder.");
        }
    }

    private static bool IsSameOrInside(string path, string folder) =>
        string.Equals(path, folder, StringComparison.Ordinal)
        || path.StartsWith(folder + Path.DirectorySeparatorChar, StringComparison.Ordinal);

    /// <summary>
    /// Runs the plan's stages without taking the output lock, writing tables or publishing (offline evaluation):
    /// returns the context, whose facts and metrics the caller reports.
    /// </summary>
    public Task<StageContext> RunWithoutPublishingAsync(CancellationToken ct) => RunWithoutPublishingAsync(null, ct);

    /// <summary>Runs the plan without publishing; <paramref name="whileOpen"/> then reads what it needs while the engine still holds the tables.</summary>
    public async Task<StageContext> RunWithoutPublishingAsync(Func<IEngine, StageContext, CancellationToken, Task>? whileOpen, CancellationToken ct)
    {
        var catalog = await _inputs.InspectAsync(_settings.Input, ct);
        await using var engine = await _engineFactory(_settings.Engine, ct);
        var (context, _) = await RunStagesAsync(engine, catalog, DateTime.UtcNow, ct);
        if (whileOpen is not null) await whileOpen(engine, context, ct);
        return context;
    }

    private async Task<(StageContext Context, List<StageTiming> Timings)> RunStagesAsync(IEngine engine, InputCatalog catalog, DateTime startedAt, CancellationToken ct)
    {
        foreach (var view in SourceTables.Render(catalog, _settings.Input.Columns, engine.Dialect))
            await engine.ExecuteAsync(view, ct);
        var asOf = _settings.Affinity.AsOf ?? await ResolveAsOfAsync(engine, startedAt, ct);
        // Every event is at most as new as the run's start, so a later as_of only decays them all towards
        // zero (a year 3000 as_of published all-zero tables): it is a wrong setting, not a choice.
        if (asOf > startedAt)
            throw new ConfigurationException(
                $"setting 'Affinity:AsOf' (--as-of) is {asOf:yyyy-MM-ddTHH:mm:ssZ}, after the run started ({startedAt:yyyy-MM-ddTHH:mm:ssZ}); " +
                "events cannot be newer than now. Give the schedule's time or leave it empty for the latest event time.");
        _logger.LogInformation("as_of = {AsOf:yyyy-MM-ddTHH:mm:ssZ}{Source}", asOf, _settings.Affinity.AsOf is null ? " (latest event time)" : " (configured)");
        var context = new StageContext(_settings, engine.Dialect, asOf, startedAt, catalog.Items is not null, catalog.Follows is not null) { Logger = _logger };
        // Row checks are part of validation: they fail the run before any stage does work.
        var checkWatch = Stopwatch.StartNew();
        _observer.StepStarted("validate_rows", 0, 0);
        context.InputChecks = await EventChecks.RunAsync(engine, context, _settings.Input.Events!, ct);
        _observer.StepFinished("validate_rows", context.InputChecks["total_rows"], checkWatch.Elapsed);

        var stages = _plan.Enabled(context);
        foreach (var (skipped, reason) in _plan.Skipped(context))
            _logger.LogInformation("Stage {Stage} skipped: {Reason}", skipped, reason);
        // Render every stage's SQL before any stage runs: a feature the engine lacks fails here, naming the stage. The
        // rendering walks the steps as plan does (with plan's stand-ins), so it gets a context of its own.
        var preflight = new StageContext(_settings, engine.Dialect, asOf, startedAt, context.HasItems, context.HasFollows) { InputChecks = context.InputChecks };
        foreach (var stage in stages) _ = PlanWriter.Render(stage, preflight);
        var timings = new List<StageTiming> { new("validate_rows", context.InputChecks["total_rows"], Math.Round(checkWatch.Elapsed.TotalSeconds, 3)) };
        timings.AddRange(await RunScheduledAsync(engine, context, stages, ct));
        return (context, timings);
    }

    /// <summary>
    /// Runs the stages, each as soon as every stage it reads has finished, at most Engine:ConcurrentStages at a time, each
    /// on its own engine session (the run's engine first; more only where the engine offers sessions, so Spark runs one
    /// stage at a time), and never two kernel stages at once (<see cref="IStage.RunsKernel"/>: each uses every core and
    /// holds large arrays; at 50M events two side by side would add gigabytes to the peak for no speed). Among ready
    /// stages the plan's order decides. Every stage is deterministic and reads only finished
    /// tables, so the tables are the same whatever the interleaving; the timings come back in plan order. When a stage
    /// fails, the others are cancelled and the first failure is the run's.
    /// </summary>
    private async Task<List<StageTiming>> RunScheduledAsync(IEngine engine, StageContext context, IReadOnlyList<IStage> stages, CancellationToken ct)
    {
        var produced = stages.Select(s => s.Name).ToHashSet(StringComparer.Ordinal);
        var finished = new HashSet<string>(StringComparer.Ordinal);
        var pending = Enumerable.Range(0, stages.Count).ToList();
        var running = new Dictionary<Task<StageTiming>, (int Index, IEngine Session)>();
        var timings = new StageTiming[stages.Count];
        var idle = new Stack<IEngine>([engine]);
        var opened = new List<IEngine>();
        var limit = Math.Max(1, _settings.Engine.ConcurrentStages);
        using var cancel = CancellationTokenSource.CreateLinkedTokenSource(ct);
        var kernel = stages.Select(s => s.RunsKernel(engine, context)).ToArray();
        bool Ready(int index) =>
            stages[index].Inputs.All(input => !produced.Contains(input) || finished.Contains(input))
            && !(kernel[index] && running.Values.Any(r => kernel[r.Index]));
        try
        {
            while (pending.Count > 0 || running.Count > 0)
            {
                for (var p = 0; p < pending.Count && running.Count < limit;)
                {
                    var index = pending[p];
                    if (!Ready(index))
                    {
                        p++;
                        continue;
                    }
                    if (idle.Count == 0)
                    {
                        var session = await engine.OpenSessionAsync(ct);
                        if (session is null)
                        {
                            limit = running.Count; // the engine runs one stage at a time
                            break;
                        }
                        opened.Add(session);
                        idle.Push(session);
                    }
                    var on = idle.Pop();
                    pending.RemoveAt(p);
                    var stage = stages[index];
                    // On the pool: a stage may do long synchronous work (DuckDB calls, model fits) before its first await.
                    running[Task.Run(() => RunStageAsync(stage, index + 1, stages.Count, on, context, cancel.Token), CancellationToken.None)] = (index, on);
                }

                if (running.Count == 0)
                    throw new InvalidOperationException($"No stage can start: {string.Join(", ", pending.Select(i => stages[i].Name))} wait for tables no stage makes.");
                var done = await Task.WhenAny(running.Keys);
                var (doneIndex, doneSession) = running[done];
                running.Remove(done);
                try
                {
                    timings[doneIndex] = await done;
                }
                catch
                {
                    await cancel.CancelAsync();
                    // The others stop at their next cancellation check; their own errors are consequences of this one.
                    try
                    {
                        await Task.WhenAll(running.Keys);
                    }
                    catch (Exception)
                    {
                    }
                    throw;
                }
                idle.Push(doneSession);
                finished.Add(stages[doneIndex].Name);
                ReleaseInProcessTables(context, pending.Concat(running.Values.Select(r => r.Index)).Select(i => stages[i]));
            }
        }
        finally
        {
            foreach (var session in opened) await session.DisposeAsync();
        }
        return [.. timings];
    }

    private async Task<StageTiming> RunStageAsync(IStage stage, int number, int count, IEngine engine, StageContext context, CancellationToken ct)
    {
        ct.ThrowIfCancellationRequested();
        _observer.StepStarted(stage.Name, number, count);
        var watch = Stopwatch.StartNew();
        long rows;
        try
        {
            rows = await stage.RunAsync(engine, context, ct);
        }
        catch (SparkRecoException e)
        {
            throw JobPlan.AtStage(e, stage.Name);
        }
        watch.Stop();
        _observer.StepFinished(stage.Name, rows, watch.Elapsed);
        _logger.LogInformation("Stage {Stage} on {Engine}: {Rows} rows in {Elapsed:F2} s", stage.Name, engine.Name, rows, watch.Elapsed.TotalSeconds);
        return new StageTiming(stage.Name, rows, Math.Round(watch.Elapsed.TotalSeconds, 3));
    }

    private async Task<IReadOnlyDictionary<string, long>> WriteTablesAsync(IEngine engine, StageContext context, IOutputPublisher publisher, string staging, List<StageTiming> timings, string? pseudonymKey, CancellationToken ct)
    {
        var rows = new SortedDictionary<string, long>(StringComparer.Ordinal);
        var watch = Stopwatch.StartNew();
        // Privacy is applied at the point of publishing, so it covers every output table, whichever stage made it.
        var pseudonymize = pseudonymKey is not null;
        if (pseudonymize) await Pseudonymizer.StoreKeyAsync(engine, pseudonymKey!, ct);
        try
        {
            foreach (var stage in _plan.Enabled(context).Where(s => s.IsOutput))
            {
                var tableWatch = Stopwatch.StartNew();
                _observer.StepStarted("write " + stage.Name, 0, 0);
                var table = pseudonymize ? await Pseudonymizer.PrepareAsync(engine, stage, ct) : stage.Name;
                await engine.WriteParquetAsync(table, publisher.TableFolder(staging, stage.Name), stage.OutputOrder, _settings.Output.Compression, ct);
                rows[stage.Name] = timings.First(t => t.Stage == stage.Name).Rows;
                _observer.StepFinished("write " + stage.Name, rows[stage.Name], tableWatch.Elapsed);
            }
        }
        finally
        {
            if (pseudonymize) await Pseudonymizer.DropKeyAsync(engine, CancellationToken.None);
        }
        if (pseudonymize) context.Facts["privacy.pseudonymized_ids"] = true;
        timings.Add(new StageTiming("write_outputs", rows.Values.Sum(), Math.Round(watch.Elapsed.TotalSeconds, 3)));
        _logger.LogInformation("Wrote {Tables} tables ({Rows} rows) to staging in {Elapsed:F2} s", rows.Count, rows.Values.Sum(), watch.Elapsed.TotalSeconds);
        return rows;
    }

    private async Task<IReadOnlyList<string>> WriteArtifactsAsync(IEngine engine, StageContext context, RunSummary summary, string folder, CancellationToken ct)
    {
        var files = new List<string>();
        foreach (var artifact in _artifacts.Where(a => a.IsEnabled(context)))
        {
            await artifact.WriteAsync(engine, context, summary, Path.Combine(folder, artifact.FileName), ct);
            files.Add(artifact.FileName);
        }
        return files;
    }

    /// <summary>
    /// Drops the in-process copies (kernel inputs and outputs) no later stage reads, so their memory is free for the
    /// stages and the writing that follow; a stage that does need one again reads it back from the engine.
    /// </summary>
    private static void ReleaseInProcessTables(StageContext context, IEnumerable<IStage> remaining)
    {
        var needed = remaining.SelectMany(s => s.Inputs).ToHashSet(StringComparer.Ordinal);
        var unused = context.InProcessTables.Keys.Where(t => !needed.Contains(t)).ToList();
        foreach (var table in unused) context.InProcessTables.Remove(table);
        // Kernel copies are large arrays (gigabytes at tens of millions of rows): collect now, so the memory goes back
        // before DuckDB's buffers grow again in the stages and writes that follow, instead of adding to the peak.
        if (unused.Count > 0) GC.Collect(GC.MaxGeneration, GCCollectionMode.Aggressive, blocking: true, compacting: true);
    }

    /// <summary>The latest plausible event time: the default as_of, so a rerun on the same input is identical.</summary>
    private static async Task<DateTime> ResolveAsOfAsync(IEngine engine, DateTime startedAt, CancellationToken ct)
    {
        var rows = await engine.QueryAsync(RenderAsOf(engine.Dialect, startedAt), ct);
        return rows[0]["as_of"] is DateTime t
            ? DateTime.SpecifyKind(t, DateTimeKind.Utc)
            : throw new InputDataException("events: no row has a usable event time (all are null, before 1990 or in the future); set Affinity:AsOf or fix the event_time column.");
    }

    /// <summary>The query that resolves as_of when none is configured (plan prints it too).</summary>
    public static string RenderAsOf(Core.Sql.ISqlDialect d, DateTime startedAt)
    {
        ArgumentNullException.ThrowIfNull(d);
        return $"""
            SELECT max(event_time) AS as_of
            FROM {d.Quote(SourceTables.Events)}
            WHERE event_time >= {d.Timestamp(EventChecks.Earliest)}
                AND event_time <= {d.Timestamp(startedAt)}
            """;
    }

    /// <summary>The manifest's inputs: per kind, the checked file list the engine read (names relative to the configured path).</summary>
    private static SortedDictionary<string, ManifestInput> ManifestInputs(InputCatalog catalog)
    {
        var inputs = new SortedDictionary<string, ManifestInput>(StringComparer.Ordinal);
        foreach (var table in new[] { catalog.Events, catalog.Items, catalog.Follows }.OfType<InputTable>())
            inputs[table.Name] = new ManifestInput(table.Source.Path, table.Files.Select(f => RelativeName(table, f)).ToList(), table.Bytes, table.Rows);
        return inputs;
    }

    private static string RelativeName(InputTable table, string file) =>
        table.LakeFiles is not null ? LakeRelativeName(table.Source.Path, file)
        : table.Source.IsDirectory ? Path.GetRelativePath(table.Source.Path, file) : Path.GetFileName(file);

    /// <summary>A lake file's name below the configured path when Spark names it with that prefix, else its full path as Spark gave it.</summary>
    private static string LakeRelativeName(string root, string file)
    {
        var prefix = root.TrimEnd('/') + "/";
        return file.StartsWith(prefix, StringComparison.Ordinal) ? file[prefix.Length..] : file;
    }

    /// <summary>Identifies the input: each file's path (relative to its input), size and modification time, and each input's row count.</summary>
    private static string Fingerprint(InputCatalog catalog)
    {
        var text = new StringBuilder();
        foreach (var table in new[] { catalog.Events, catalog.Items, catalog.Follows }.OfType<InputTable>())
        {
            text.Append(table.Name).Append(':').Append(table.Rows).Append('\n');
            if (table.LakeFiles is { } lakeFiles)
            {
                // On a lake the engine reported each file's size and modification time; this machine cannot stat them.
                foreach (var file in lakeFiles)
                    text.Append(RelativeName(table, file.Path)).Append(' ').Append(file.Bytes).Append(' ').Append(file.ModifiedUtc.Ticks).Append('\n');
                continue;
            }
            foreach (var file in table.Files)
            {
                var relative = RelativeName(table, file);
                var info = new FileInfo(file);
                text.Append(relative).Append(' ').Append(info.Length).Append(' ').Append(info.LastWriteTimeUtc.Ticks).Append('\n');
            }
        }
        return Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(text.ToString())));
    }
}
