using Microsoft.ML;
using Microsoft.ML.Data;
using Microsoft.ML.Trainers;

namespace SparkReco.Modelling;

/// <summary>
/// k-means fitted with ML.NET's <see cref="KMeansTrainer"/> (k-means++ initialisation, one thread, fixed
/// seed: the same sample gives the same centroids on every run). Rows are already standardised; the
/// exported centroids live in that space, and the engine assigns every user to the nearest one.
/// </summary>
public sealed class KMeansModel
{
    private readonly MLContext _ml;
    private readonly ITransformer _transformer;
    private readonly int _dimensions;

    private KMeansModel(MLContext ml, ITransformer transformer, int dimensions, double[][] centroids)
    {
        _ml = ml;
        _transformer = transformer;
        _dimensions = dimensions;
        Centroids = centroids;
    }

    /// <summary>Centroid per cluster (0-based cluster id), one value per feature.</summary>
    public IReadOnlyList<double[]> Centroids { get; }

    public int K => Centroids.Count;

    /// <summary>Sum of squared distances of the training rows to their nearest centroid (lower is better).</summary>
    public double Inertia { get; private init; }

    /// <summary>
    /// Best of <paramref name="restarts"/> fits (seeds seed, seed + 1, …) by inertia, ties to the earliest:
    /// one k-means++ start can settle in a poor local optimum, e.g. merging a small group into a big one.
    /// The fits are independent (each its own seed and context), so they run in parallel on up to
    /// <paramref name="threads"/> threads (0 = all cores) and are then compared in seed order: the same model whatever
    /// the thread count.
    /// </summary>
    public static KMeansModel FitBest(IReadOnlyList<float[]> rows, int k, int seed, int maxIterations, int restarts, int threads = 0) =>
        FitBestForEach(rows, [k], seed, maxIterations, restarts, threads)[0];

    /// <summary>
    /// <see cref="FitBest"/> for each k of <paramref name="ks"/>, with every (k, restart) fit scheduled on the same threads, so
    /// a core is not left idle at the end of each k's restarts (choosing k fits 7 × 5 models by default).
    /// </summary>
    public static KMeansModel[] FitBestForEach(IReadOnlyList<float[]> rows, IReadOnlyList<int> ks, int seed, int maxIterations, int restarts, int threads = 0)
    {
        ArgumentNullException.ThrowIfNull(ks);
        var perK = Math.Max(1, restarts);
        var fits = new KMeansModel[ks.Count * perK];
        var options = new ParallelOptions { MaxDegreeOfParallelism = threads > 0 ? threads : Environment.ProcessorCount };
        Parallel.For(0, fits.Length, options, f => fits[f] = Fit(rows, ks[f / perK], seed + f % perK, maxIterations));
        var best = new KMeansModel[ks.Count];
        for (var i = 0; i < ks.Count; i++)
        {
            best[i] = fits[i * perK];
            for (var r = 1; r < perK; r++)
                if (fits[i * perK + r].Inertia < best[i].Inertia * (1 - 1e-9)) best[i] = fits[i * perK + r];
        }
        return best;
    }

    public static KMeansModel Fit(IReadOnlyList<float[]> rows, int k, int seed, int maxIterations)
    {
        ArgumentNullException.ThrowIfNull(rows);
        if (rows.Count < k) throw new ArgumentException($"k-means needs at least k = {k} rows, got {rows.Count}.", nameof(rows));
        var dimensions = rows[0].Length;
        var ml = new MLContext(seed);
        var data = ml.Data.LoadFromEnumerable(rows.Select(r => new FeatureRow { Features = r }), FeatureRow.Schema(dimensions));
        var trainer = ml.Clustering.Trainers.KMeans(new KMeansTrainer.Options
        {
            FeatureColumnName = nameof(FeatureRow.Features),
            NumberOfClusters = k,
            InitializationAlgorithm = KMeansTrainer.InitializationAlgorithm.KMeansPlusPlus,
            MaximumNumberOfIterations = maxIterations,
            NumberOfThreads = 1,
        });
        var transformer = trainer.Fit(data);
        VBuffer<float>[] buffers = [];
        transformer.Model.GetClusterCentroids(ref buffers, out var clusters);
        var centroids = new double[clusters][];
        for (var c = 0; c < clusters; c++)
        {
            var dense = buffers[c].DenseValues().ToArray();
            centroids[c] = dense.Select(v => (double)v).ToArray();
        }
        return new KMeansModel(ml, transformer, dimensions, centroids) { Inertia = rows.Sum(row => centroids.Min(c => SquaredDistance(row, c))) };
    }

    private static double SquaredDistance(float[] row, double[] centroid)
    {
        var sum = 0.0;
        for (var i = 0; i < row.Length; i++)
        {
            var d = row[i] - centroid[i];
            sum += d * d;
        }
        return sum;
    }

    /// <summary>ML.NET's own predicted cluster (0-based) per row: the oracle for the engine's SQL assignment.</summary>
    public int[] Predict(IReadOnlyList<float[]> rows)
    {
        ArgumentNullException.ThrowIfNull(rows);
        var data = _ml.Data.LoadFromEnumerable(rows.Select(r => new FeatureRow { Features = r }), FeatureRow.Schema(_dimensions));
        var scored = _transformer.Transform(data);
        return scored.GetColumn<uint>("PredictedLabel").Select(label => (int)label - 1).ToArray();
    }
}

/// <summary>An ML.NET input row: one feature vector (the vector length is set per model through the schema).</summary>
internal sealed class FeatureRow
{
    public float[] Features { get; set; } = [];

    public static SchemaDefinition Schema(int dimensions)
    {
        var schema = SchemaDefinition.Create(typeof(FeatureRow));
        schema[nameof(Features)].ColumnType = new VectorDataViewType(NumberDataViewType.Single, dimensions);
        return schema;
    }
}
