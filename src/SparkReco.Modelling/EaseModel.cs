using MathNet.Numerics.Providers.LinearAlgebra;

namespace SparkReco.Modelling;

/// <summary>
/// EASE (Steck 2019, "Embarrassingly Shallow Autoencoders"): the closed-form item–item regression
/// B = I − P·diag(1/diag(P)) with P = (XᵀX + λI)⁻¹ and diag(B) = 0, fitted on the driver from the Gram matrix XᵀX the engine
/// computed. Item j's score for a user is Σ_i x_ui·B_ij, so row i of B (the weights B_ij over j) is what item i lends to
/// the items it predicts, the same orientation as a row of item_similarity.
/// </summary>
public static class EaseModel
{
    /// <summary>
    /// Overwrites <paramref name="gram"/> (n × n, symmetric, so row- and column-major alike) with B, row-major: B[i·n + j] = B_ij.
    /// The inverse comes from MathNet's Cholesky of the SPD matrix XᵀX + λI (λ &gt; 0 makes it positive definite), factored
    /// in place; the solve against the identity, the bulk of the time (2n³ of the managed provider's substitutions against
    /// n³/3 for the factor), runs on <paramref name="threads"/> blocks of columns at once, since the provider solves one
    /// column after another. The fit holds about two n × n arrays (the factor and P): 6.4 GB at 20,000 items.
    /// </summary>
    public static void Fit(double[] gram, int n, double lambda, int threads)
    {
        ArgumentNullException.ThrowIfNull(gram);
        ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(lambda, 0);
        if (gram.Length != (long)n * n) throw new ArgumentException($"The Gram matrix has {gram.Length} entries, not {n}².", nameof(gram));
        if (n == 0) return;
        for (var i = 0; i < n; i++) gram[(long)i * n + i] += lambda;
        // The managed provider unless the application chose a native one: the same managed code on every machine.
        var provider = LinearAlgebraControl.Provider;
        provider.CholeskyFactor(gram, n);
        var p = new double[gram.Length];
        var blocks = Math.Clamp(threads <= 0 ? Environment.ProcessorCount : threads, 1, n);
        Parallel.For(0, blocks, new ParallelOptions { MaxDegreeOfParallelism = blocks }, block =>
        {
            var (first, last) = ((int)((long)n * block / blocks), (int)((long)n * (block + 1) / blocks));
            var columns = new double[(long)n * (last - first)];
            for (var j = first; j < last; j++) columns[(long)(j - first) * n + j] = 1;
            provider.CholeskySolveFactored(gram, n, columns, last - first);
            Array.Copy(columns, 0, p, (long)first * n, columns.Length);
        });
        // B_ij = −P_ij / P_jj off the diagonal, 0 on it. The solve leaves P column-major (P_ij at p[j·n + i]); P is symmetric
        // up to rounding, so the row read p[i·n + j] (contiguous, unlike the column) stands for P_ij.
        var diagonal = new double[n];
        for (var j = 0; j < n; j++) diagonal[j] = p[(long)j * n + j];
        Parallel.For(0, n, i =>
        {
            var row = (long)i * n;
            for (var j = 0; j < n; j++) gram[row + j] = i == j ? 0.0 : -p[row + j] / diagonal[j];
        });
    }
}
