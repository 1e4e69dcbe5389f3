namespace SparkReco.Modelling;

/// <summary>
/// A mixture of multinomials fitted by EM: each segment k has a prior π_k and, for every block of count columns (e.g. the
/// item categories of a user's events, and separately their event types), a distribution θ_k over the block's columns.
/// A user's log score for segment k is ln π_k + Σ_d x_d · ln θ_kd over its counts x; the segment is the argmax and the
/// posterior is the softmax of the scores.
/// <para>Why not k-means on shares: a user with 3 events has shares as extreme as one with 3,000, so k-means on shares
/// makes "light users" clusters and over-splits; the multinomial likelihood weighs each user by its evidence, and its
/// BIC (−2 ln L + parameters · ln N) gives a criterion for k that does not drift with the seed the way the silhouette does.
/// On generated worlds with 4–12 planted communities this took the adjusted Rand index from 0.72 to 0.95 (scripts/segments.sh).</para>
/// <para>Deterministic: k-means++-style seeding from <see cref="Random"/> with a fixed seed, then sequential sums in row
/// order; restarts and candidate k run in parallel but are compared in seed order, so the thread count changes nothing.</para>
/// </summary>
public sealed class MultinomialMixture
{
    /// <summary>Additive smoothing of θ: a column no member used keeps a finite (very low) log probability.</summary>
    public const double Smoothing = 1e-3;

    private MultinomialMixture(double[] logPrior, double[][] logTheta, double logLikelihood, double entropy, double[] confidence, int parameters, int iterations)
    {
        Entropy = entropy;
        Confidence = confidence;
        LogPrior = logPrior;
        LogTheta = logTheta;
        LogLikelihood = logLikelihood;
        Parameters = parameters;
        Iterations = iterations;
    }

    public int K => LogPrior.Count;

    /// <summary>ln π_k per segment.</summary>
    public IReadOnlyList<double> LogPrior { get; }

    /// <summary>ln θ_kd: per segment, one value per count column (each block sums to 1 in probability).</summary>
    public IReadOnlyList<double[]> LogTheta { get; }

    /// <summary>ln L of the training rows (without the multinomial coefficients, which do not depend on the model).</summary>
    public double LogLikelihood { get; }

    /// <summary>Free parameters: (k − 1) priors plus k · Σ (block size − 1).</summary>
    public int Parameters { get; }

    public int Iterations { get; }

    /// <summary>Σ over training rows of the entropy of their segment posterior (0 when every row is certain of its segment).</summary>
    public double Entropy { get; }

    /// <summary>Per segment: the mean posterior probability of the training rows assigned to it (1 = none could belong elsewhere; NaN when it has none).</summary>
    public IReadOnlyList<double> Confidence { get; }

    /// <summary>Bayesian information criterion on <paramref name="rows"/> training rows (lower is better).</summary>
    public double Bic(int rows) => -2 * LogLikelihood + Parameters * Math.Log(rows);

    /// <summary>
    /// Integrated completed likelihood, BIC + 2 · <see cref="Entropy"/> (lower is better): BIC also rewards a component that
    /// only fits the mixture's density better (a few odd users, half-way between two groups); ICL asks for segments the
    /// users can be told apart by, which is what a segmentation is for.
    /// </summary>
    public double Icl(int rows) => Bic(rows) + 2 * Entropy;

    /// <summary>ln π_k + Σ_d x_d ln θ_kd for every segment, added in column order (the order the engine's SQL adds them).</summary>
    public double[] Scores(double[] counts)
    {
        ArgumentNullException.ThrowIfNull(counts);
        var scores = new double[K];
        for (var k = 0; k < K; k++)
        {
            var s = LogPrior[k];
            var theta = LogTheta[k];
            for (var d = 0; d < counts.Length; d++) s += counts[d] * theta[d];
            scores[k] = s;
        }
        return scores;
    }

    /// <summary>The most likely segment of each row (ties: the lowest segment id).</summary>
    public int[] Predict(IReadOnlyList<double[]> rows)
    {
        ArgumentNullException.ThrowIfNull(rows);
        var labels = new int[rows.Count];
        for (var i = 0; i < rows.Count; i++)
        {
            var scores = Scores(rows[i]);
            var best = 0;
            for (var k = 1; k < scores.Length; k++)
                if (scores[k] > scores[best]) best = k;
            labels[i] = best;
        }
        return labels;
    }

    /// <summary>
    /// The best of <paramref name="restarts"/> fits (seeds seed, seed + 1, …; highest ln L, ties to the earliest) for each
    /// k of <paramref name="ks"/>; every (k, restart) fit is scheduled on the same threads.
    /// </summary>
    /// <param name="rows">Counts per row, every row as long as <paramref name="blockSizes"/> adds up to.</param>
    /// <param name="blockSizes">Consecutive column blocks, each an independent multinomial.</param>
    public static MultinomialMixture[] FitBestForEach(IReadOnlyList<double[]> rows, IReadOnlyList<int> blockSizes, IReadOnlyList<int> ks,
        int seed, int maxIterations, int restarts, int threads = 0)
    {
        ArgumentNullException.ThrowIfNull(rows);
        ArgumentNullException.ThrowIfNull(blockSizes);
        ArgumentNullException.ThrowIfNull(ks);
        var data = new SparseRows(rows, blockSizes);
        var perK = Math.Max(1, restarts);
        var fits = new MultinomialMixture[ks.Count * perK];
        var options = new ParallelOptions { MaxDegreeOfParallelism = threads > 0 ? threads : Environment.ProcessorCount };
        Parallel.For(0, fits.Length, options, f => fits[f] = Fit(data, ks[f / perK], seed + f % perK, maxIterations));
        var best = new MultinomialMixture[ks.Count];
        for (var i = 0; i < ks.Count; i++)
        {
            best[i] = fits[i * perK];
            for (var r = 1; r < perK; r++)
                if (fits[i * perK + r].LogLikelihood > best[i].LogLikelihood + 1e-9 * Math.Abs(best[i].LogLikelihood)) best[i] = fits[i * perK + r];
        }
        return best;
    }

    /// <summary>
    /// EM from a k-means++-style start: k rows drawn with probability ∝ squared distance (of their per-block shares) to the
    /// rows already drawn give the initial θ. Stops when ln L improves by less than 1e-7 of itself, or after
    /// <paramref name="maxIterations"/>.
    /// </summary>
    private static MultinomialMixture Fit(SparseRows data, int k, int seed, int maxIterations)
    {
        var n = data.Count;
        k = Math.Max(1, Math.Min(k, n));
        var dims = data.Dimensions;
        var logTheta = new double[k][];
        var logPrior = new double[k];
        var starts = Seeds(data, k, new Random(seed));
        for (var j = 0; j < k; j++)
        {
            var counts = new double[dims];
            var row = starts[j];
            for (var p = data.Start[row]; p < data.Start[row + 1]; p++) counts[data.Column[p]] = data.Value[p];
            logTheta[j] = Normalised(counts, data.BlockOf, data.BlockSizes, smoothing: 0.01 * Math.Max(1, data.Total[row]));
            logPrior[j] = -Math.Log(k);
        }

        var scores = new double[k];
        var weight = new double[k];
        var expected = new double[k][];
        for (var j = 0; j < k; j++) expected[j] = new double[dims];
        var logLikelihood = double.NegativeInfinity;
        var iterations = 0;
        while (iterations < maxIterations)
        {
            iterations++;
            Array.Clear(weight);
            foreach (var e in expected) Array.Clear(e);
            var total = 0.0;
            for (var i = 0; i < n; i++)
            {
                total += Posterior(data, i, logPrior, logTheta, scores);
                for (var j = 0; j < k; j++)
                {
                    var r = scores[j];
                    if (r < 1e-12) continue;
                    weight[j] += r;
                    var e = expected[j];
                    for (var p = data.Start[i]; p < data.Start[i + 1]; p++) e[data.Column[p]] += r * data.Value[p];
                }
            }
            for (var j = 0; j < k; j++)
            {
                logPrior[j] = Math.Log(Math.Max(weight[j] / n, 1e-300));
                logTheta[j] = Normalised(expected[j], data.BlockOf, data.BlockSizes, Smoothing);
            }
            var improved = total - logLikelihood;
            logLikelihood = total;
            if (improved < 1e-7 * Math.Abs(total)) break;
        }

        var entropy = 0.0;
        var confidence = new double[k];
        var members = new int[k];
        for (var i = 0; i < n; i++)
        {
            Posterior(data, i, logPrior, logTheta, scores);
            var label = 0;
            for (var j = 0; j < k; j++)
            {
                if (scores[j] > 0) entropy -= scores[j] * Math.Log(scores[j]);
                if (scores[j] > scores[label]) label = j;
            }
            confidence[label] += scores[label];
            members[label]++;
        }
        for (var j = 0; j < k; j++) confidence[j] = members[j] == 0 ? double.NaN : confidence[j] / members[j];

        var parameters = k - 1 + k * data.BlockSizes.Sum(size => size - 1);
        return new MultinomialMixture(logPrior, logTheta, logLikelihood, entropy, confidence, parameters, iterations);
    }

    /// <summary>
    /// The E-step for one row: fills <paramref name="posterior"/> with the row's probability of each segment and returns the
    /// row's ln p (log-sum-exp of the segment scores, so large counts do not underflow).
    /// </summary>
    private static double Posterior(SparseRows data, int row, double[] logPrior, double[][] logTheta, double[] posterior)
    {
        var top = double.NegativeInfinity;
        for (var j = 0; j < logPrior.Length; j++)
        {
            var s = logPrior[j];
            var theta = logTheta[j];
            for (var p = data.Start[row]; p < data.Start[row + 1]; p++) s += data.Value[p] * theta[data.Column[p]];
            posterior[j] = s;
            if (s > top) top = s;
        }
        var sum = 0.0;
        for (var j = 0; j < logPrior.Length; j++) sum += posterior[j] = Math.Exp(posterior[j] - top);
        for (var j = 0; j < logPrior.Length; j++) posterior[j] /= sum;
        return top + Math.Log(sum);
    }

    /// <summary>ln of the smoothed per-block proportions of <paramref name="counts"/>.</summary>
    private static double[] Normalised(double[] counts, int[] blockOf, IReadOnlyList<int> blockSizes, double smoothing)
    {
        var totals = new double[blockSizes.Count];
        for (var d = 0; d < counts.Length; d++) totals[blockOf[d]] += counts[d];
        var result = new double[counts.Length];
        for (var d = 0; d < counts.Length; d++)
            result[d] = Math.Log((counts[d] + smoothing) / (totals[blockOf[d]] + smoothing * blockSizes[blockOf[d]]));
        return result;
    }

    /// <summary>k-means++ seeding on per-block shares: the first row uniformly, each next one ∝ squared distance to the nearest seed.</summary>
    private static int[] Seeds(SparseRows data, int k, Random random)
    {
        var n = data.Count;
        var shares = new double[n][];
        for (var i = 0; i < n; i++)
        {
            var row = new double[data.Dimensions];
            for (var p = data.Start[i]; p < data.Start[i + 1]; p++) row[data.Column[p]] = data.Value[p] / data.BlockTotal[p];
            shares[i] = row;
        }
        var seeds = new int[k];
        seeds[0] = random.Next(n);
        var nearest = new double[n];
        Array.Fill(nearest, double.PositiveInfinity);
        for (var j = 1; j < k; j++)
        {
            var total = 0.0;
            var last = shares[seeds[j - 1]];
            for (var i = 0; i < n; i++)
            {
                var d = 0.0;
                for (var c = 0; c < last.Length; c++) d += (shares[i][c] - last[c]) * (shares[i][c] - last[c]);
                nearest[i] = Math.Min(nearest[i], d);
                total += nearest[i];
            }
            var target = random.NextDouble() * total;
            var pick = 0;
            for (; pick < n - 1; pick++)
            {
                target -= nearest[pick];
                if (target <= 0 && nearest[pick] > 0) break;
            }
            seeds[j] = pick;
        }
        return seeds;
    }

    /// <summary>The rows' non-zero counts in compressed-row form (users engage with few categories), with block bookkeeping.</summary>
    private sealed class SparseRows
    {
        public SparseRows(IReadOnlyList<double[]> rows, IReadOnlyList<int> blockSizes)
        {
            BlockSizes = blockSizes;
            Dimensions = blockSizes.Sum();
            if (blockSizes.Count == 0 || blockSizes.Any(size => size < 1))
                throw new ArgumentException("Every block needs at least one column.", nameof(blockSizes));
            BlockOf = new int[Dimensions];
            for (int b = 0, d = 0; b < blockSizes.Count; b++)
                for (var c = 0; c < blockSizes[b]; c++) BlockOf[d++] = b;
            Count = rows.Count;
            Start = new int[Count + 1];
            Total = new double[Count];
            List<int> columns = [];
            List<double> values = [];
            List<double> blockTotals = [];
            var perBlock = new double[blockSizes.Count];
            for (var i = 0; i < Count; i++)
            {
                var row = rows[i];
                if (row.Length != Dimensions)
                    throw new ArgumentException($"Row {i} has {row.Length} counts; the blocks have {Dimensions} columns.", nameof(rows));
                Array.Clear(perBlock);
                for (var d = 0; d < Dimensions; d++)
                {
                    if (row[d] < 0 || double.IsNaN(row[d])) throw new ArgumentException($"Row {i} has a negative or missing count in column {d}.", nameof(rows));
                    perBlock[BlockOf[d]] += row[d];
                }
                for (var d = 0; d < Dimensions; d++)
                {
                    if (row[d] == 0) continue;
                    columns.Add(d);
                    values.Add(row[d]);
                    blockTotals.Add(perBlock[BlockOf[d]]);
                }
                Total[i] = row.Sum();
                Start[i + 1] = columns.Count;
            }
            Column = [.. columns];
            Value = [.. values];
            BlockTotal = [.. blockTotals];
        }

        public IReadOnlyList<int> BlockSizes { get; }
        public int Dimensions { get; }
        public int[] BlockOf { get; }
        public int Count { get; }
        public int[] Start { get; }
        public int[] Column { get; }
        public double[] Value { get; }

        /// <summary>Per non-zero entry: the total of its row within its block (for shares).</summary>
        public double[] BlockTotal { get; }

        /// <summary>Per row: all its counts added.</summary>
        public double[] Total { get; }
    }
}
