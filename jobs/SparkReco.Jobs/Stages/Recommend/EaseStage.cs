using System.Diagnostics;
using SparkReco.Core.Configuration;
using SparkReco.Core.Engine;
using SparkReco.Core.Stages;
using SparkReco.Kernels;
using SparkReco.Modelling;

namespace SparkReco.Jobs.Stages.Recommend;

/// <summary>
/// cf_item_ease: the item–item weights of the item-based scores with Recommend:ItemModel=ease, in item_similarity's
/// columns (item_ix, similar_ix, similarity, cooccurrence, rank), so rec_item_scores scores with it unchanged (SQL and kernel).
/// <para>EASE is a model, not a similarity measure, so it is its own choice (Recommend:ItemModel) rather than a value of
/// Similarity:Measure: its weights are regression coefficients (negative ones too, not symmetric), it covers only the items
/// the driver can invert, and the other items need a measure to fall back to — Similarity:Measure, which also keeps making
/// the published item_similarity ("more like this" wants a similarity, not regression weights).</para>
/// Steps: cf_ease_items (the Ease:MaxItems items with the most users) → cf_ease_gram (XᵀX over them, in the engine) → on the
/// driver, B = I − P·diag(1/diag(P)) with P = (XᵀX + λI)⁻¹ (<see cref="EaseModel"/>) and each item's top-K positive weights →
/// registered as cf_ease_weights → cf_item_ease = those rows, plus cf_item_similarity's rows of every other item.
/// </summary>
public sealed class EaseStage(TableScope? scope = null) : StepStage
{
    private readonly TableScope _scope = scope ?? TableScope.Main;

    public override string Name => _scope["cf_item_ease"];
    public override string Description => "one row per (item_ix, similar_ix): EASE's top-K weights for the Ease:MaxItems most popular items, the similarity measure's top-K for the others";
    public override IReadOnlyList<string> Inputs => [_scope["cf_affinity"], _scope["cf_item_similarity"]];

    public override bool IsEnabled(StageContext context)
    {
        var r = context.Settings.Recommend;
        return r.Enabled && r.UsesEase && r.Blends("item");
    }

    public override string DisabledReason(StageContext context)
    {
        var r = context.Settings.Recommend;
        return !r.Enabled ? "Recommend:Enabled=false"
            : !r.UsesEase ? $"Recommend:ItemModel={r.ItemModel}"
            : RecommendSettings.NotBlended("item");
    }

    public string Items => _scope["cf_ease_items"];
    public string Gram => _scope["cf_ease_gram"];
    public string Weights => _scope["cf_ease_weights"];

    public override IEnumerable<StageStep> Steps(StageContext c, StageRows result)
    {
        var settings = c.Settings;
        yield return new MaterializeStep(Items, RenderItems(c));
        yield return new MaterializeStep(Gram, RenderGram(c));

        var itemOf = Array.Empty<int>();
        yield return new ReadStep($"SELECT item_ix, ease_ix FROM {c.Q(Items)}", columns =>
        {
            itemOf = new int[columns.RowCount];
            var items = columns.Ints("item_ix");
            var rows = columns.Ints("ease_ix");
            for (var r = 0; r < columns.RowCount; r++) itemOf[rows[r]] = items[r];
        });
        CooccurrenceCounts? counts = null;
        var matrix = Array.Empty<double>();
        yield return new ReadStep($"SELECT row_ix, column_ix, cooccurrence FROM {c.Q(Gram)} ORDER BY row_ix, column_ix", columns =>
        {
            counts = new CooccurrenceCounts(itemOf.Length, columns);
            matrix = counts.Dense();
        });
        ColumnTable? weights = null;
        yield return new DriverStep(
            $"EASE on the {settings.Ease.MaxItems} most popular items: B = I − P·diag(1/diag(P)), P = (XᵀX + λI)⁻¹ (MathNet Cholesky), λ = Ease:Lambda; each item's top {settings.Similarity.TopK} positive weights",
            () =>
            {
                var watch = Stopwatch.StartNew();
                EaseModel.Fit(matrix, itemOf.Length, settings.Ease.Lambda, settings.Engine.Threads);
                c.Facts[$"{_scope["item_ease"]}.items"] = (long)itemOf.Length;
                c.Facts[$"{_scope["item_ease"]}.seconds_fit"] = Math.Round(watch.Elapsed.TotalSeconds, 3);
                weights = TopWeights(matrix, itemOf, counts!, settings.Similarity.TopK);
                matrix = [];
            });
        yield return new RegisterStep(Weights,
            [("item_ix", ColumnType.Int32Bit), ("similar_ix", ColumnType.Int32Bit), ("similarity", ColumnType.Real), ("cooccurrence", ColumnType.Int64Bit), ("rank", ColumnType.Int64Bit)],
            $"one row per (item_ix, similar_ix) among the fitted items: the top {settings.Similarity.TopK} positive EASE weights B_ij of each item i (ties: lowest similar_ix), with the pair's co-occurrence",
            () => weights!);
        yield return new MaterializeStep(Name, RenderMerge(c));
    }

    private string RenderItems(StageContext c) =>
        $"""
        -- {Items}: the {c.Settings.Ease.MaxItems} items with the most users (ties: lowest item_ix), numbered 0, 1, … (ease_ix): the rows of EASE's matrix.
        SELECT
            item_ix,
            CAST(popularity_rank - 1 AS INTEGER) AS ease_ix
        FROM (
            SELECT
                item_ix,
                row_number() OVER (ORDER BY n_users DESC, item_ix ASC) AS popularity_rank
            FROM (
                SELECT
                    item_ix,
                    count(*) AS n_users
                FROM {c.Q(_scope["cf_affinity"])}
                GROUP BY
                    item_ix
            ) AS item_users
        ) AS ranked
        WHERE popularity_rank <= {c.Dialect.Literal(c.Settings.Ease.MaxItems)}
        """;

    /// <summary>
    /// XᵀX as counts of the binarised, capped baskets — the co-occurrence item_similarity is defined on, diagonal included —
    /// rather than an affinity-weighted Gram: EASE's closed form is the least-squares fit of a binary X, λ then reads in
    /// users, and affinity enters where it does for every measure, in the score Σ_j a(u, j)·w(j, i). The self-join is over
    /// the same baskets as cf_item_similarity's, restricted to fewer items, so its work is within the budget that stage checked.
    /// </summary>
    private string RenderGram(StageContext c)
    {
        var baskets = string.Join("\n", new ItemSimilarityStage(_scope).RenderBaskets(c).Split('\n').Select(line => "    " + line));
        return $"""
            -- {Gram}: XᵀX over the fitted items, from the binarised baskets capped at Similarity:MaxItemsPerUser (as item_similarity's
            -- co-occurrence): one row per (row_ix <= column_ix) with the number of users who have both (the diagonal: users of the item).
            WITH baskets AS (
            {baskets}
            ),
            fitted AS (
                SELECT
                    b.user_ix,
                    e.ease_ix
                FROM baskets AS b
                JOIN {c.Q(Items)} AS e
                    ON e.item_ix = b.item_ix
            )
            SELECT
                a.ease_ix AS row_ix,
                b.ease_ix AS column_ix,
                count(*) AS cooccurrence
            FROM fitted AS a
            JOIN fitted AS b
                ON b.user_ix = a.user_ix
                AND a.ease_ix <= b.ease_ix
            GROUP BY
                a.ease_ix,
                b.ease_ix
            """;
    }

    private string RenderMerge(StageContext c) =>
        $"""
        -- {Name}: one row per (item_ix, similar_ix): EASE's weights ({Weights}) for the fitted items ({Items}), the similarity
        -- measure's top-K ({_scope["cf_item_similarity"]}) for every other item. The two scales differ; the items outside the
        -- fit are the least popular, so their weights reach few users' scores.
        SELECT
            item_ix,
            similar_ix,
            similarity,
            cooccurrence,
            {c.Q("rank")}
        FROM {c.Q(Weights)}
        UNION ALL
        SELECT
            s.item_ix,
            s.similar_ix,
            s.similarity,
            s.cooccurrence,
            s.{c.Q("rank")}
        FROM {c.Q(_scope["cf_item_similarity"])} AS s
        LEFT JOIN {c.Q(Items)} AS e
            ON e.item_ix = s.item_ix
        WHERE e.item_ix IS NULL
        """;

    /// <summary>
    /// Each fitted item's top-K positive weights (a negative weight only lowers a score, and the cut keeps positive sums), ranked
    /// by weight and then by the similar item's id, as item_similarity ranks.
    /// </summary>
    private static ColumnTable TopWeights(double[] b, int[] itemOf, CooccurrenceCounts counts, int k)
    {
        var n = itemOf.Length;
        var heap = new TopKHeap(k);
        var capacity = (int)Math.Min((long)n * k, Array.MaxLength);
        var (items, similar, scores, together, ranks) = (new int[capacity], new int[capacity], new double[capacity], new long[capacity], new long[capacity]);
        var count = 0;
        var (columns, values, extras) = (new int[k], new double[k], new long[k]);
        for (var i = 0; i < n; i++)
        {
            var row = (long)i * n;
            // Offered by item id, so the heap's ties go to the lower id as item_similarity's do; the fitted index j travels along.
            for (var j = 0; j < n; j++)
                if (b[row + j] > 0) heap.Offer(itemOf[j], b[row + j], j);
            var kept = heap.Drain(columns, values, extras);
            for (var r = 0; r < kept; r++)
            {
                items[count] = itemOf[i];
                similar[count] = columns[r];
                scores[count] = values[r];
                together[count] = counts.Of(i, (int)extras[r]);
                ranks[count] = r + 1;
                count++;
            }
        }
        return new ColumnTable(count,
        [
            Column.Of("item_ix", items[..count]),
            Column.Of("similar_ix", similar[..count]),
            Column.Of("similarity", scores[..count]),
            Column.Of("cooccurrence", together[..count]),
            Column.Of("rank", ranks[..count]),
        ]);
    }

    /// <summary>The upper triangle of XᵀX as read (rows sorted by row_ix, column_ix): the dense matrix, and a pair's count.</summary>
    private sealed class CooccurrenceCounts
    {
        private readonly int _n;
        private readonly int[] _offsets;
        private readonly int[] _columns;
        private readonly long[] _counts;

        public CooccurrenceCounts(int n, ColumnTable gram)
        {
            _n = n;
            var rows = gram.Ints("row_ix");
            _columns = gram.Ints("column_ix")[..gram.RowCount];
            _counts = gram.Longs("cooccurrence")[..gram.RowCount];
            _offsets = new int[n + 1];
            for (var e = 0; e < gram.RowCount; e++) _offsets[rows[e] + 1]++;
            for (var i = 0; i < n; i++) _offsets[i + 1] += _offsets[i];
        }

        /// <summary>XᵀX as a dense symmetric n × n array.</summary>
        public double[] Dense()
        {
            var dense = new double[(long)_n * _n];
            for (var i = 0; i < _n; i++)
                for (var e = _offsets[i]; e < _offsets[i + 1]; e++)
                {
                    var j = _columns[e];
                    dense[(long)i * _n + j] = dense[(long)j * _n + i] = _counts[e];
                }
            return dense;
        }

        /// <summary>Users with both fitted items i and j (0 when none: EASE weighs pairs no user shares too).</summary>
        public long Of(int i, int j)
        {
            var (row, column) = i <= j ? (i, j) : (j, i);
            var at = Array.BinarySearch(_columns, _offsets[row], _offsets[row + 1] - _offsets[row], column);
            return at >= 0 ? _counts[at] : 0;
        }
    }
}
