using System.Diagnostics;
using System.Globalization;
using SparkReco.Modelling;

namespace SparkReco.Bench;

/// <summary>
/// <c>ease-fit --items N …</c>: how long the driver's EASE fit (<see cref="EaseModel.Fit"/>: Cholesky of XᵀX + λI, the inverse,
/// B) takes at each catalogue size, on the Gram matrix of seeded synthetic baskets (Zipf-like popularity, 30 items per user).
/// The fit's time depends only on n (dense n³ work), not on the data, so any SPD Gram of that size measures it.
/// </summary>
public static class EaseFit
{
    public static void Run(IReadOnlyList<int> sizes, double lambda, TextWriter output)
    {
        output.WriteLine("items  gram_s  fit_s  memory_gib");
        foreach (var n in sizes)
        {
            var watch = Stopwatch.StartNew();
            var gram = Gram(n, users: 20 * n, itemsPerUser: 30, seed: 7);
            var gramSeconds = watch.Elapsed.TotalSeconds;
            watch.Restart();
            EaseModel.Fit(gram, n, lambda, threads: 0);
            var fitSeconds = watch.Elapsed.TotalSeconds;
            output.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"{n,5}  {gramSeconds,6:F1}  {fitSeconds,5:F1}  {2.0 * n * n * sizeof(double) / (1 << 30),10:F2}"));
        }
    }

    /// <summary>XᵀX of random baskets: item k drawn with probability ∝ 1/(k + 10), no item twice in a basket.</summary>
    private static double[] Gram(int n, int users, int itemsPerUser, int seed)
    {
        var random = new Random(seed);
        var cumulative = new double[n];
        var total = 0.0;
        for (var k = 0; k < n; k++) cumulative[k] = total += 1.0 / (k + 10);
        var gram = new double[(long)n * n];
        var basket = new HashSet<int>();
        for (var u = 0; u < users; u++)
        {
            basket.Clear();
            while (basket.Count < Math.Min(itemsPerUser, n))
            {
                var k = Array.BinarySearch(cumulative, random.NextDouble() * total);
                basket.Add(Math.Min(n - 1, k < 0 ? ~k : k));
            }
            foreach (var a in basket)
                foreach (var b in basket)
                    gram[(long)a * n + b]++;
        }
        return gram;
    }
}
