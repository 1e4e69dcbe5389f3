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
        var index = classes.Select((name, i) => (name, i)).ToDictionary(x => x.name, x => (uint)(x.i + 1), StringComparer.Ordinal);
        var dimensions = rows[0].Length;
        var ml = new MLContext(seed);
        var schema = LabelledRow.Schema(dimensions, classes.Length);
        var data = ml.Data.LoadFromEnumerable(rows.Select((r, i) => new LabelledRow { Features = r, Label = index[labels[i]] }), schema);
        var trainer = ml.MulticlassClassification.Trainers.LbfgsMaximumEntropy(new LbfgsMaximumEntropyMulticlassTrainer.Options
        {
            LabelColumnName = nameof(LabelledRow.Label),
            FeatureColumnName = nameof(LabelledRow.Features),
            L2Regularization = (float)l2,
            L1Regularization = 0,
            NumberOfThreads = 1,
        });
        var transformer = trainer.Fit(data);
        var parameters = transformer.Model;
        VBuffer<float>[] buffers = [];
        parameters.GetWeights(ref buffers, out var count);
        var weights = new double[count][];
        for (var c = 0; c < count; c++) weights[c] = buffers[c].DenseValues().Select(v => (double)v).ToArray();
        var biases = parameters.GetBiases().Select(v => (double)v).ToArray();
        if (count != classes.Length) throw new InvalidOperationException($"ML.NET returned {count} classes for {classes.Length} labels.");
        return new SoftmaxModel(ml, transformer, dimensions, classes, weights, biases);
    }

    /// <summary>ML.NET's predicted class probabilities per row, in <see cref="Classes"/> order.</summary>
    public float[][] PredictProbabilities(IReadOnlyList<float[]> rows)
    {
        ArgumentNullException.ThrowIfNull(rows);
        var schema = LabelledRow.Schema(_dimensions, Classes.Count);
        var data = _ml.Data.LoadFromEnumerable(rows.Select(r => new LabelledRow { Features = r, Label = 1 }), schema);
        var scored = _transformer.Transform(data);
        return scored.GetColumn<float[]>("Score").ToArray();
    }
}

internal sealed class LabelledRow
{
    public float[] Features { get; set; } = [];
    public uint Label { get; set; }

    public static SchemaDefinition Schema(int dimensions, int classes)
    {
        var schema = SchemaDefinition.Create(typeof(LabelledRow));
        schema[nameof(Features)].ColumnType = new VectorDataViewType(NumberDataViewType.Single, dimensions);
        schema[nameof(Label)].ColumnType = new KeyDataViewType(typeof(uint), classes);
        return schema;
    }
}
