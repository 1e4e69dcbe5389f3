using Microsoft.ML;
using Microsoft.ML.Data;
using Microsoft.ML.Trainers;

namespace SparkReco.Modelling;

/// <summary>
/// Multinomial logistic regression (softmax(W·x + b)) fitted with ML.NET's L-BFGS maximum-entropy
/// trainer on standardised rows. Exported as per-class weights and biases so the engine scores every
/// user with SQL; <see cref="PredictProbabilities"/> is ML.NET's own prediction, the oracle for that SQL.
/// </summary>
public sealed class SoftmaxModel
{
    private readonly MLContext _ml;
    private readonly ITransformer _transformer;
    private readonly int _dimensions;

    private SoftmaxModel(MLContext ml, ITransformer transformer, int dimensions, IReadOnlyList<string> classes, double[][] weights, double[] biases)
    {
        _ml = ml;
        _transformer = transformer;
        _dimensions = dimensions;
        Classes = classes;
        Weights = weights;
        Biases = biases;
    }

    /// <summary>Class names, ordinal order; index c matches <see cref="Weights"/>[c] and <see cref="Biases"/>[c].</summary>
    public IReadOnlyList<string> Classes { get; }

    public IReadOnlyList<double[]> Weights { get; }

    public IReadOnlyList<double> Biases { get; }

    /// <summary>Fits on rows labelled with class names; classes are the distinct labels in ordinal order.</summary>
    public static SoftmaxModel Fit(IReadOnlyList<float[]> rows, IReadOnlyList<string> labels, int seed, double l2)
    {
        ArgumentNullException.ThrowIfNull(rows);
        ArgumentNullException.ThrowIfNull(labels);
        if (rows.Count == 0 || rows.Count != labels.Count) throw new ArgumentException("Softmax needs one label per row and at least one row.", nameof(labels));
        var classes = labels.Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal).ToArray();
        var dimensions = rows[0].Length;
        var ml = new MLContext(seed);
        var data = ml.Data.LoadFromEnumerable(rows.Select((r, i) => new LabelledRow { Features = r, Class = labels[i] }), LabelledRow.Schema(dimensions));
        // The key order is given explicitly (keyData), so score slot c is classes[c] by construction.
        var keys = ml.Data.LoadFromEnumerable(classes.Select(name => new ClassRow { Class = name }));
        var pipeline = ml.Transforms.Conversion.MapValueToKey("Label", nameof(LabelledRow.Class), keyData: keys)
            .Append(ml.MulticlassClassification.Trainers.LbfgsMaximumEntropy(new LbfgsMaximumEntropyMulticlassTrainer.Options
            {
                LabelColumnName = "Label",
                FeatureColumnName = nameof(LabelledRow.Features),
                L2Regularization = (float)l2,
                L1Regularization = 0,
                NumberOfThreads = 1,
            }))
            .Append(ml.Transforms.Conversion.MapKeyToValue("PredictedClass", "PredictedLabel"));
        var transformer = pipeline.Fit(data);
        var parameters = ((IEnumerable<ITransformer>)transformer).OfType<MulticlassPredictionTransformer<MaximumEntropyModelParameters>>().Single().Model;
        VBuffer<float>[] buffers = [];
        parameters.GetWeights(ref buffers, out var count);
        if (count != classes.Length) throw new InvalidOperationException($"ML.NET returned {count} classes for {classes.Length} labels.");
        var weights = new double[count][];
        for (var c = 0; c < count; c++) weights[c] = buffers[c].DenseValues().Select(v => (double)v).ToArray();
        var biases = parameters.GetBiases().Select(v => (double)v).ToArray();
        return new SoftmaxModel(ml, transformer, dimensions, classes, weights, biases);
    }

    /// <summary>ML.NET's predicted class probabilities per row, in <see cref="Classes"/> order.</summary>
    public float[][] PredictProbabilities(IReadOnlyList<float[]> rows) =>
        Score(rows).GetColumn<float[]>("Score").ToArray();

    /// <summary>ML.NET's own predicted class name per row (mapped back through its key-to-value table).</summary>
    public string[] PredictClasses(IReadOnlyList<float[]> rows) =>
        Score(rows).GetColumn<string>("PredictedClass").ToArray();

    private IDataView Score(IReadOnlyList<float[]> rows)
    {
        ArgumentNullException.ThrowIfNull(rows);
        var data = _ml.Data.LoadFromEnumerable(rows.Select(r => new LabelledRow { Features = r, Class = Classes[0] }), LabelledRow.Schema(_dimensions));
        return _transformer.Transform(data);
    }
}

internal sealed class LabelledRow
{
    public float[] Features { get; set; } = [];
    public string Class { get; set; } = "";

    public static SchemaDefinition Schema(int dimensions)
    {
        var schema = SchemaDefinition.Create(typeof(LabelledRow));
        schema[nameof(Features)].ColumnType = new VectorDataViewType(NumberDataViewType.Single, dimensions);
        return schema;
    }
}

internal sealed class ClassRow
{
    public string Class { get; set; } = "";
}
