-- SparkReco plan for engine spark; as_of = 2026-11-01T00:00:00Z

-- events_source: one row per input event, as the contract names and types it.
CREATE OR REPLACE TEMPORARY VIEW `events_source_files`
USING parquet
OPTIONS (path '<data>/events', mergeSchema 'true');

CREATE OR REPLACE TEMPORARY VIEW `events_source` AS
SELECT
    CAST(`user_id` AS STRING) AS user_id,
    CAST(`item_id` AS STRING) AS item_id,
    CAST(`event_type` AS STRING) AS event_type,
    CAST(`event_time` AS TIMESTAMP) AS event_time,
    CAST(NULL AS DOUBLE) AS weight
FROM `events_source_files`;

-- items_source: one row per item with its metadata.
CREATE OR REPLACE TEMPORARY VIEW `items_source_files`
USING parquet
OPTIONS (path '<data>/items', mergeSchema 'true');

CREATE OR REPLACE TEMPORARY VIEW `items_source` AS
SELECT
    CAST(`item_id` AS STRING) AS item_id,
    CAST(`category` AS STRING) AS category,
    CAST(`creator_id` AS STRING) AS creator_id
FROM `items_source_files`;

-- follows_source: one row per follow edge.
CREATE OR REPLACE TEMPORARY VIEW `follows_source_files`
USING parquet
OPTIONS (path '<data>/follows', mergeSchema 'true');

CREATE OR REPLACE TEMPORARY VIEW `follows_source` AS
SELECT
    CAST(`follower_id` AS STRING) AS follower_id,
    CAST(`followee_id` AS STRING) AS followee_id
FROM `follows_source_files`;

-- ===== validate_rows: row checks that fail the run before any stage does work
-- event checks: one row of counts, one column per reason a row is invalid or out of the window, and the rows kept.
SELECT
    count(*) AS total_rows,
    sum(CASE WHEN user_id IS NULL THEN 1 ELSE 0 END) AS null_user_id,
    sum(CASE WHEN item_id IS NULL THEN 1 ELSE 0 END) AS null_item_id,
    sum(CASE WHEN event_type IS NULL THEN 1 ELSE 0 END) AS null_event_type,
    sum(CASE WHEN event_time IS NULL THEN 1 ELSE 0 END) AS null_event_time,
    sum(CASE WHEN event_time < TIMESTAMP '1990-01-01 00:00:00.000000' THEN 1 ELSE 0 END) AS before_1990,
    sum(CASE WHEN event_time > TIMESTAMP '2026-11-02 00:00:00.000000' THEN 1 ELSE 0 END) AS in_future,
    sum(CASE WHEN weight IS NOT NULL AND (isnan(weight) OR weight < 0 OR weight > 1.7976931348623157E308) THEN 1 ELSE 0 END) AS bad_weight,
    sum(CASE WHEN event_type IS NOT NULL AND NOT (event_type IN ('comment', 'like', 'share', 'view')) THEN 1 ELSE 0 END) AS unknown_event_type,
    sum(CASE WHEN NOT (user_id IS NULL OR item_id IS NULL OR event_type IS NULL OR event_time IS NULL)
    AND NOT (event_time < TIMESTAMP '1990-01-01 00:00:00.000000' OR event_time > TIMESTAMP '2026-11-02 00:00:00.000000')
    AND NOT (weight IS NOT NULL AND (isnan(weight) OR weight < 0 OR weight > 1.7976931348623157E308))
    AND event_type IN ('comment', 'like', 'share', 'view') AND NOT (event_time <= TIMESTAMP '2026-11-01 00:00:00.000000') THEN 1 ELSE 0 END) AS outside_window,
    sum(CASE WHEN NOT (user_id IS NULL OR item_id IS NULL OR event_type IS NULL OR event_time IS NULL)
    AND NOT (event_time < TIMESTAMP '1990-01-01 00:00:00.000000' OR event_time > TIMESTAMP '2026-11-02 00:00:00.000000')
    AND NOT (weight IS NOT NULL AND (isnan(weight) OR weight < 0 OR weight > 1.7976931348623157E308))
    AND event_type IN ('comment', 'like', 'share', 'view') AND event_time <= TIMESTAMP '2026-11-01 00:00:00.000000' THEN 1 ELSE 0 END) AS kept
FROM `events_source`;

-- ===== stage clean_events: one row per distinct valid event in the window, bots removed
-- reads: events_source
CREATE OR REPLACE TEMPORARY VIEW `events_valid` AS
-- events_valid: distinct valid events in the window; exact duplicates collapse to one row.
-- A missing weight means 1, so it is filled in before duplicates are compared.
SELECT DISTINCT
    user_id,
    item_id,
    event_type,
    event_time,
    coalesce(weight, CAST(1 AS DOUBLE)) AS weight
FROM `events_source`
WHERE NOT (user_id IS NULL OR item_id IS NULL OR event_type IS NULL OR event_time IS NULL)
    AND NOT (event_time < TIMESTAMP '1990-01-01 00:00:00.000000' OR event_time > TIMESTAMP '2026-11-02 00:00:00.000000')
    AND NOT (weight IS NOT NULL AND (isnan(weight) OR weight < 0 OR weight > 1.7976931348623157E308))
    AND event_type IN ('comment', 'like', 'share', 'view')
    AND event_time <= TIMESTAMP '2026-11-01 00:00:00.000000';
CACHE TABLE `events_valid` OPTIONS ('storageLevel' 'MEMORY_AND_DISK');
CREATE OR REPLACE TEMPORARY VIEW `bot_users` AS
-- bot_users: one row per user with more events in the window than Clean:BotMaxEventsPerUser.
SELECT
    user_id,
    count(*) AS events
FROM `events_valid`
GROUP BY user_id
HAVING count(*) > 5000;
CACHE TABLE `bot_users` OPTIONS ('storageLevel' 'MEMORY_AND_DISK');
SELECT coalesce(sum(events), 0) AS n FROM `bot_users`;
CREATE OR REPLACE TEMPORARY VIEW `clean_events` AS
-- clean_events: one row per distinct valid event in the window, bots removed.
SELECT
    user_id,
    item_id,
    event_type,
    event_time,
    weight
FROM `events_valid`
WHERE user_id NOT IN (SELECT user_id FROM `bot_users`);
-- on the driver: rows dropped per reason, from the validation counts and the rows kept;

-- ===== stage affinity: one row per (user, item): time-decayed, type-weighted engagement
-- reads: clean_events; published
CREATE OR REPLACE TEMPORARY VIEW `affinity` AS
-- affinity: one row per (user_id, item_id).
-- affinity = sum of type_weight * weight * 0.5 ^ (age_seconds / half_life_seconds), age measured back from as_of.
-- The sum is exact (ExactSum), so the order rows arrive in cannot change the bits of a rerun.
WITH weighted_events AS (
    SELECT
        user_id,
        item_id,
        event_time,
        CASE event_type
                WHEN 'comment' THEN CAST(3 AS DOUBLE)
                WHEN 'like' THEN CAST(2 AS DOUBLE)
                WHEN 'share' THEN CAST(4 AS DOUBLE)
                WHEN 'view' THEN CAST(1 AS DOUBLE)
                ELSE CAST(0 AS DOUBLE)
            END
        * weight
        * power(CAST(0.5 AS DOUBLE), (CAST(1793491200 AS DOUBLE) - CAST(unix_micros(event_time) AS DOUBLE) / CAST(1000000 AS DOUBLE)) / CAST(2592000 AS DOUBLE)) AS contribution
    FROM `clean_events`
)
SELECT
    user_id,
    item_id,
    CASE WHEN count(CAST(contribution AS DECIMAL(38, 18))) = count(contribution) AND (count(contribution) = 0 OR sum(CAST(contribution AS DECIMAL(38, 18))) IS NOT NULL) THEN CAST(sum(CAST(contribution AS DECIMAL(38, 18))) AS DOUBLE) ELSE CAST(raise_error('SparkReco ExactSum: a term or the total is not finite or not below 1e20 in magnitude (DECIMAL(38, 18))') AS DOUBLE) END AS affinity,
    count(*) AS event_count,
    max(event_time) AS last_event_time
FROM weighted_events
GROUP BY
    user_id,
    item_id;
CACHE TABLE `affinity` OPTIONS ('storageLevel' 'MEMORY_AND_DISK');

-- ===== stage cf_affinity: one row per (user, item) of affinity on dense integer ids (dictionaries cf_users, cf_items)
-- reads: affinity
CREATE OR REPLACE TEMPORARY VIEW `cf_users` AS
-- cf_users: one row per user_id in affinity, numbered from 0 in ascending id order.
SELECT
    user_id,
    CAST(row_number() OVER (ORDER BY user_id ASC) - 1 AS INTEGER) AS user_ix
FROM (
    SELECT DISTINCT
        user_id
    FROM `affinity`
) AS distinct_ids;
CACHE TABLE `cf_users` OPTIONS ('storageLevel' 'MEMORY_AND_DISK');
CREATE OR REPLACE TEMPORARY VIEW `cf_items` AS
-- cf_items: one row per item_id in affinity, numbered from 0 in ascending id order.
SELECT
    item_id,
    CAST(row_number() OVER (ORDER BY item_id ASC) - 1 AS INTEGER) AS item_ix
FROM (
    SELECT DISTINCT
        item_id
    FROM `affinity`
) AS distinct_ids;
CACHE TABLE `cf_items` OPTIONS ('storageLevel' 'MEMORY_AND_DISK');
CREATE OR REPLACE TEMPORARY VIEW `cf_affinity` AS
-- cf_affinity: one row per (user_ix, item_ix): affinity with the ids replaced by their dense numbers.
SELECT
    u.user_ix,
    i.item_ix,
    a.affinity,
    a.last_event_time
FROM `affinity` AS a
JOIN `cf_users` AS u
    ON u.user_id = a.user_id
JOIN `cf_items` AS i
    ON i.item_id = a.item_id;
CACHE TABLE `cf_affinity` OPTIONS ('storageLevel' 'MEMORY_AND_DISK');
-- cf_affinity facts: (user, item) pairs, and those last engaged with more than 3 half-lives
-- (30 days each, Affinity:HalfLifeDays) before as_of.
SELECT
    count(*) AS pairs,
    sum(CASE WHEN CAST(1793491200 AS DOUBLE) - CAST(unix_micros(last_event_time) AS DOUBLE) / CAST(1000000 AS DOUBLE) > CAST(7776000 AS DOUBLE) THEN 1 ELSE 0 END) AS stale_pairs
FROM `cf_affinity`;

-- ===== stage item_popularity: one row per item: decayed popularity (sum of affinity) and number of users
-- reads: affinity, cf_affinity
CREATE OR REPLACE TEMPORARY VIEW `item_popularity` AS
-- item_popularity: one row per item_id (with its item_ix).
-- popularity = sum of affinity over users (time-decayed, type-weighted); users = distinct users.
SELECT
    i.item_ix,
    a.item_id,
    CASE WHEN count(CAST(a.affinity AS DECIMAL(38, 18))) = count(a.affinity) AND (count(a.affinity) = 0 OR sum(CAST(a.affinity AS DECIMAL(38, 18))) IS NOT NULL) THEN CAST(sum(CAST(a.affinity AS DECIMAL(38, 18))) AS DOUBLE) ELSE CAST(raise_error('SparkReco ExactSum: a term or the total is not finite or not below 1e20 in magnitude (DECIMAL(38, 18))') AS DOUBLE) END AS popularity,
    count(*) AS users
FROM `affinity` AS a
JOIN `cf_items` AS i
    ON i.item_id = a.item_id
GROUP BY
    i.item_ix,
    a.item_id;
CACHE TABLE `item_popularity` OPTIONS ('storageLevel' 'MEMORY_AND_DISK');

-- ===== stage cf_item_similarity: one row per (item_ix, similar_ix): top-K by the configured measure, with the raw co-occurrence count
-- reads: cf_affinity
-- cf_item_similarity: with Engine:Kernels=auto the embedded engine computes this table with a C# sparse top-K kernel
-- (identical rows); the SQL below is the definition, and what other engines run.
-- cf_item_similarity work estimate: item pairs the capped baskets generate, Σ_u m_u·(m_u − 1)/2 with m_u = min(items of u, 500).
SELECT
    CAST(coalesce(sum(basket_size * (basket_size - 1) / 2), 0) AS BIGINT) AS item_pairs
FROM (
    SELECT
        least(count(*), 500) AS basket_size
    FROM `cf_affinity`
    GROUP BY
        user_ix
) AS baskets;
CREATE OR REPLACE TEMPORARY VIEW `cf_item_baskets` AS
-- cf_item_baskets: one row per (user_ix, item_ix) the user engaged with (binarised), at most
-- 500 items per user: the most recent, then the highest affinity, then the lowest item id.
SELECT
    user_ix,
    item_ix
FROM (
    SELECT
        user_ix,
        item_ix,
        row_number() OVER (
            PARTITION BY user_ix
            ORDER BY last_event_time DESC, affinity DESC, item_ix ASC
        ) AS recency_rank
    FROM `cf_affinity`
) AS ranked_items
WHERE recency_rank <= 500;
CACHE TABLE `cf_item_baskets` OPTIONS ('storageLevel' 'MEMORY_AND_DISK');
CREATE OR REPLACE TEMPORARY VIEW `cf_item_cooccurrence` AS
-- cf_item_cooccurrence: one row per item pair (item_a < item_b) with the number of users who have both,
-- kept when at least 2 users do.
SELECT
    a.item_ix AS item_a,
    b.item_ix AS item_b,
    count(*) AS cooccurrence
FROM `cf_item_baskets` AS a
JOIN `cf_item_baskets` AS b
    ON b.user_ix = a.user_ix
    AND a.item_ix < b.item_ix
GROUP BY
    a.item_ix,
    b.item_ix
HAVING count(*) >= 2;
CACHE TABLE `cf_item_cooccurrence` OPTIONS ('storageLevel' 'MEMORY_AND_DISK');
CREATE OR REPLACE TEMPORARY VIEW `cf_item_similarity` AS
-- cf_item_similarity: one row per (item_ix, similar_ix), the 50 most similar items per item by jaccard.
-- From c = users with both items, n_a, n_b = users with each item, n_total = users with any item (all from cf_item_baskets).
-- rank orders by similarity (highest first), ties by similar_ix (lowest first).
WITH item_users AS (
    SELECT
        item_ix,
        count(*) AS n_users
    FROM `cf_item_baskets`
    GROUP BY
        item_ix
),
all_users AS (
    SELECT
        count(DISTINCT user_ix) AS n_total
    FROM `cf_item_baskets`
),
both_directions AS (
    SELECT
        item_a AS item_ix,
        item_b AS similar_ix,
        cooccurrence
    FROM `cf_item_cooccurrence`
    UNION ALL
    SELECT
        item_b AS item_ix,
        item_a AS similar_ix,
        cooccurrence
    FROM `cf_item_cooccurrence`
),
contingency AS (
    SELECT
        p.item_ix,
        p.similar_ix,
        p.cooccurrence,
        a.n_users AS n_a,
        b.n_users AS n_b,
        t.n_total
    FROM both_directions AS p
    JOIN item_users AS a
        ON a.item_ix = p.item_ix
    JOIN item_users AS b
        ON b.item_ix = p.similar_ix
    CROSS JOIN all_users AS t
),
scored AS (
    SELECT
        item_ix,
        similar_ix,
        CAST(cooccurrence AS DOUBLE) / CAST(n_a + n_b - cooccurrence AS DOUBLE) AS similarity,
        cooccurrence
    FROM contingency
),
ranked AS (
    SELECT
        item_ix,
        similar_ix,
        similarity,
        cooccurrence,
        row_number() OVER (
            PARTITION BY item_ix
            ORDER BY similarity DESC, similar_ix ASC
        ) AS similarity_rank
    FROM scored
)
SELECT
    item_ix,
    similar_ix,
    similarity,
    cooccurrence,
    similarity_rank AS `rank`
FROM ranked
WHERE similarity_rank <= 50;
CACHE TABLE `cf_item_similarity` OPTIONS ('storageLevel' 'MEMORY_AND_DISK');
-- cf_item_similarity facts: pairs the co-occurrence self-join generates (Σ_u m_u·(m_u − 1)/2), users whose basket was capped,
-- and pairs that reached the minimum support.
SELECT
    CAST(sum(basket_size * (basket_size - 1)) / 2 AS BIGINT) AS pairs,
    sum(CASE WHEN items_before_cap > basket_size THEN 1 ELSE 0 END) AS capped_users,
    count(*) AS users,
    (SELECT count(*) FROM `cf_item_cooccurrence`) AS pairs_with_support
FROM (
    SELECT
        b.user_ix,
        count(*) AS basket_size,
        max(n.items_before_cap) AS items_before_cap
    FROM `cf_item_baskets` AS b
    JOIN (
        SELECT
            user_ix,
            count(*) AS items_before_cap
        FROM `cf_affinity`
        GROUP BY
            user_ix
    ) AS n
        ON n.user_ix = b.user_ix
    GROUP BY
        b.user_ix
) AS baskets;

-- ===== stage item_similarity: one row per (item, similar item): top-K by the configured measure, with the raw co-occurrence count
-- reads: cf_item_similarity, cf_affinity; published
CREATE OR REPLACE TEMPORARY VIEW `item_similarity` AS
-- item_similarity: one row per row of cf_item_similarity, with the original ids in place of the dense numbers.
SELECT
    d0.item_id,
    d1.item_id AS similar_item_id,
    s.`similarity`,
    s.`cooccurrence`,
    CAST(s.`rank` AS BIGINT) AS `rank`
FROM `cf_item_similarity` AS s
JOIN `cf_items` AS d0
    ON d0.item_ix = s.item_ix
JOIN `cf_items` AS d1
    ON d1.item_ix = s.similar_ix;
CACHE TABLE `item_similarity` OPTIONS ('storageLevel' 'MEMORY_AND_DISK');

-- ===== stage cf_user_neighbors: one row per (user_ix, neighbor_ix): top-K by cosine of affinity vectors, with the number of shared items
-- reads: cf_affinity
-- cf_user_neighbors: with Engine:Kernels=auto the embedded engine computes this table with a C# sparse top-K kernel
-- (identical rows); the SQL below is the definition, and what other engines run.
-- cf_user_neighbors work estimate: user pairs the item index generates, Σ_i n_i·(n_i − 1)/2 over items with at most 1000 users.
SELECT
    CAST(coalesce(sum(n_users * (n_users - 1) / 2), 0) AS BIGINT) AS user_pairs
FROM (
    SELECT
        item_ix,
        count(*) AS n_users
    FROM `cf_affinity`
    WHERE affinity > CAST(0 AS DOUBLE)
    GROUP BY
        item_ix
) AS item_user_counts
WHERE n_users <= 1000;
CREATE OR REPLACE TEMPORARY VIEW `cf_neighbor_vectors` AS
-- cf_neighbor_vectors: one row per (user_ix, item_ix) with positive affinity, leaving out items with more than
-- 1000 users; weight = affinity / the norm of the user's remaining vector (unit vectors).
WITH item_user_counts AS (
    SELECT
        item_ix,
        count(*) AS n_users
    FROM `cf_affinity`
    WHERE affinity > CAST(0 AS DOUBLE)
    GROUP BY
        item_ix
),
kept AS (
    SELECT
        a.user_ix,
        a.item_ix,
        a.affinity
    FROM `cf_affinity` AS a
    JOIN item_user_counts AS n
        ON n.item_ix = a.item_ix
    WHERE a.affinity > CAST(0 AS DOUBLE)
        AND n.n_users <= 1000
),
norms AS (
    SELECT
        user_ix,
        sqrt(CASE WHEN count(CAST(affinity * affinity AS DECIMAL(38, 18))) = count(affinity * affinity) AND (count(affinity * affinity) = 0 OR sum(CAST(affinity * affinity AS DECIMAL(38, 18))) IS NOT NULL) THEN CAST(sum(CAST(affinity * affinity AS DECIMAL(38, 18))) AS DOUBLE) ELSE CAST(raise_error('SparkReco ExactSum: a term or the total is not finite or not below 1e20 in magnitude (DECIMAL(38, 18))') AS DOUBLE) END) AS norm
    FROM kept
    GROUP BY
        user_ix
)
SELECT
    k.user_ix,
    k.item_ix,
    k.affinity,
    k.affinity / n.norm AS weight
FROM kept AS k
JOIN norms AS n
    ON n.user_ix = k.user_ix;
CACHE TABLE `cf_neighbor_vectors` OPTIONS ('storageLevel' 'MEMORY_AND_DISK');
CREATE OR REPLACE TEMPORARY VIEW `cf_user_neighbors` AS
-- cf_user_neighbors: one row per (user_ix, neighbor_ix), the 50 most similar users per user.
-- similarity = cosine of the two users' vectors in cf_neighbor_vectors; overlap = shared items (at least 2).
-- rank orders by similarity (highest first), ties by neighbor_ix (lowest first).
-- Each term of the dot product of unit vectors is rounded to a multiple of 2^-52 (error below 1.2e-16): every
-- partial sum is then exact, so the result does not depend on the order the engine adds the rows in.
WITH pair_similarity AS (
    SELECT
        a.user_ix AS user_a,
        b.user_ix AS user_b,
        sum(round(a.weight * b.weight * CAST(4503599627370496 AS DOUBLE)) / CAST(4503599627370496 AS DOUBLE)) AS similarity,
        count(*) AS overlap
    FROM `cf_neighbor_vectors` AS a
    JOIN `cf_neighbor_vectors` AS b
        ON b.item_ix = a.item_ix
        AND a.user_ix < b.user_ix
    GROUP BY
        a.user_ix,
        b.user_ix
    HAVING count(*) >= 2
),
both_directions AS (
    SELECT
        user_a AS user_ix,
        user_b AS neighbor_ix,
        similarity,
        overlap
    FROM pair_similarity
    UNION ALL
    SELECT
        user_b AS user_ix,
        user_a AS neighbor_ix,
        similarity,
        overlap
    FROM pair_similarity
),
ranked AS (
    SELECT
        user_ix,
        neighbor_ix,
        similarity,
        overlap,
        row_number() OVER (
            PARTITION BY user_ix
            ORDER BY similarity DESC, neighbor_ix ASC
        ) AS neighbor_rank
    FROM both_directions
)
SELECT
    user_ix,
    neighbor_ix,
    similarity,
    overlap,
    neighbor_rank AS `rank`
FROM ranked
WHERE neighbor_rank <= 50;
CACHE TABLE `cf_user_neighbors` OPTIONS ('storageLevel' 'MEMORY_AND_DISK');
-- cf_user_neighbors facts: items left out for having more than 1000 users, and the user pairs
-- the inverted-index join generates over the kept items.
SELECT
    sum(CASE WHEN n_users > 1000 THEN 1 ELSE 0 END) AS skipped_items,
    CAST(sum(CASE WHEN n_users <= 1000 THEN n_users * (n_users - 1) ELSE 0 END) / 2 AS BIGINT) AS pairs
FROM (
    SELECT
        item_ix,
        count(*) AS n_users
    FROM `cf_affinity`
    WHERE affinity > CAST(0 AS DOUBLE)
    GROUP BY
        item_ix
) AS item_user_counts;

-- ===== stage user_neighbors: one row per (user, neighbour): top-K by cosine of affinity vectors, with the number of shared items
-- reads: cf_user_neighbors, cf_affinity; published
CREATE OR REPLACE TEMPORARY VIEW `user_neighbors` AS
-- user_neighbors: one row per row of cf_user_neighbors, with the original ids in place of the dense numbers.
SELECT
    d0.user_id,
    d1.user_id AS neighbor_id,
    s.`similarity`,
    s.`overlap`,
    CAST(s.`rank` AS BIGINT) AS `rank`
FROM `cf_user_neighbors` AS s
JOIN `cf_users` AS d0
    ON d0.user_ix = s.user_ix
JOIN `cf_users` AS d1
    ON d1.user_ix = s.neighbor_ix;
CACHE TABLE `user_neighbors` OPTIONS ('storageLevel' 'MEMORY_AND_DISK');

-- ===== stage rec_item_scores: one row per (user, candidate item), the best N′ per user: item-based score Σ_j affinity(u, j)·similarity(j, i), with the top contributing item
-- reads: cf_affinity, cf_item_similarity, cf_item_ease, item_popularity
-- rec_item_scores: with Engine:Kernels=auto the embedded engine computes this table with a C# sparse top-K kernel
-- (identical rows); the SQL below is the definition, and what other engines run.
-- rec_item_scores work estimate: contributions affinity(u, j)·similarity(j, i), Σ over (u, j) of j's similar items.
SELECT
    CAST(coalesce(sum(s.similar_items), 0) AS BIGINT) AS contributions
FROM `cf_affinity` AS a
JOIN (
    SELECT
        item_ix,
        count(*) AS similar_items
    FROM `cf_item_similarity`
    GROUP BY
        item_ix
) AS s
    ON s.item_ix = a.item_ix;
CREATE OR REPLACE TEMPORARY VIEW `rec_item_scores` AS
-- rec_item_scores: one row per (user_ix, item_ix) candidate.
-- score = sum over the user's items j of affinity(u, j) * similarity(j, item), kept when positive, seen items removed; the best 40 per user (ties: lowest item first);
-- reason_ix = the j with the largest term.
-- Terms are rounded to a per-user grid of 2^-51 of a bound on the user's sums (sources × largest |term|), so the plain sum is exact
-- in any order; the reason compares terms to 2^-29 of that bound (near-ties: lowest id).
WITH weight_bounds AS (
    SELECT
        item_ix AS source_ix,
        max(abs(similarity)) AS largest
    FROM `cf_item_similarity`
    GROUP BY
        item_ix
),
user_scales AS (
    SELECT
        user_ix,
        CASE WHEN bound > CAST(0 AS DOUBLE) THEN power(CAST(2 AS DOUBLE), least(greatest(CAST(51 AS DOUBLE) - ceil(log2(bound)), CAST(-1000 AS DOUBLE)), CAST(1000 AS DOUBLE))) ELSE CAST(1 AS DOUBLE) END AS scale
    FROM (
        SELECT
            x.user_ix,
            count(*) * max(abs(x.affinity) * b.largest) AS bound
        FROM `cf_affinity` AS x
        JOIN weight_bounds AS b
            ON b.source_ix = x.item_ix
        GROUP BY
            x.user_ix
    ) AS bounds
),
sums AS (
    SELECT
        user_ix,
        item_ix,
        sum(units / scale) AS score,
        CAST(4294967295 - (max(CAST(floor(units / CAST(2097152 AS DOUBLE)) AS BIGINT) * 4294967296 + (4294967295 - because_ix)) % 4294967296 + 4294967296) % 4294967296 AS INTEGER) AS reason_ix
    FROM (
        SELECT
            a.user_ix,
            s.similar_ix AS item_ix,
            a.item_ix AS because_ix,
            g.scale,
            round(a.affinity * s.similarity * g.scale) AS units
        FROM `cf_affinity` AS a
        JOIN user_scales AS g
            ON g.user_ix = a.user_ix
        JOIN `cf_item_similarity` AS s
            ON s.item_ix = a.item_ix
    ) AS contributions
    GROUP BY
        user_ix,
        item_ix
),
candidates AS (
    SELECT
        s.user_ix,
        s.item_ix,
        s.score AS score,
        s.reason_ix
    FROM sums AS s
    LEFT JOIN `cf_affinity` AS seen
        ON seen.user_ix = s.user_ix
        AND seen.item_ix = s.item_ix
    WHERE s.score > CAST(0 AS DOUBLE)
        AND seen.item_ix IS NULL
),
ranked AS (
    SELECT
        user_ix,
        item_ix,
        score,
        reason_ix,
        row_number() OVER (
            PARTITION BY user_ix
            ORDER BY score DESC, item_ix ASC
        ) AS candidate_rank
    FROM candidates
)
SELECT
    user_ix,
    item_ix,
    score,
    reason_ix,
    candidate_rank AS `rank`
FROM ranked
WHERE candidate_rank <= 40;
CACHE TABLE `rec_item_scores` OPTIONS ('storageLevel' 'MEMORY_AND_DISK');

-- ===== stage rec_user_scores: one row per (user, candidate item), the best N′ per user: neighbour-weighted average of the neighbours' affinity, with the top contributing neighbour
-- reads: cf_affinity, cf_user_neighbors, item_popularity
-- rec_user_scores: with Engine:Kernels=auto the embedded engine computes this table with a C# sparse top-K kernel
-- (identical rows); the SQL below is the definition, and what other engines run.
-- rec_user_scores work estimate: contributions w(u, v)·affinity(v, i), Σ over (u, v) of v's items (at most 100 each).
SELECT
    CAST(coalesce(sum(least(a.items, 100)), 0) AS BIGINT) AS contributions
FROM `cf_user_neighbors` AS n
JOIN (
    SELECT
        user_ix,
        count(*) AS items
    FROM `cf_affinity`
    GROUP BY
        user_ix
) AS a
    ON a.user_ix = n.neighbor_ix;
CREATE OR REPLACE TEMPORARY VIEW `rec_user_scores` AS
-- rec_user_scores: one row per (user_ix, item_ix) candidate.
-- score = sum over u's neighbours v of w(u, v) * affinity(v, item) / sum over u's neighbours of |w(u, v)|,
-- kept when positive, seen items removed; the best 40 per user (ties: lowest item first); reason_ix = the neighbour with the largest term.
-- A neighbour lends only its 100 highest-affinity items (ties: lowest item_ix), Neighbors:MaxItemsPerNeighbor.
-- Terms are rounded to a per-user grid of 2^-51 of a bound on the user's sums (sources × largest |term|), so the plain sum is exact
-- in any order; the reason compares terms to 2^-29 of that bound (near-ties: lowest id).
WITH neighbor_items AS (
    SELECT
        user_ix,
        item_ix,
        affinity
    FROM (
        SELECT
            user_ix,
            item_ix,
            affinity,
            row_number() OVER (
                PARTITION BY user_ix
                ORDER BY affinity DESC, item_ix ASC
            ) AS item_rank
        FROM `cf_affinity`
    ) AS ranked_items
    WHERE item_rank <= 100
),
neighbor_weights AS (
    SELECT
        user_ix,
        CASE WHEN count(CAST(abs(similarity) AS DECIMAL(38, 18))) = count(abs(similarity)) AND (count(abs(similarity)) = 0 OR sum(CAST(abs(similarity) AS DECIMAL(38, 18))) IS NOT NULL) THEN CAST(sum(CAST(abs(similarity) AS DECIMAL(38, 18))) AS DOUBLE) ELSE CAST(raise_error('SparkReco ExactSum: a term or the total is not finite or not below 1e20 in magnitude (DECIMAL(38, 18))') AS DOUBLE) END AS total_weight
    FROM `cf_user_neighbors`
    GROUP BY
        user_ix
),
item_bounds AS (
    SELECT
        user_ix AS source_ix,
        max(abs(affinity)) AS largest
    FROM neighbor_items
    GROUP BY
        user_ix
),
user_scales AS (
    SELECT
        user_ix,
        CASE WHEN bound > CAST(0 AS DOUBLE) THEN power(CAST(2 AS DOUBLE), least(greatest(CAST(51 AS DOUBLE) - ceil(log2(bound)), CAST(-1000 AS DOUBLE)), CAST(1000 AS DOUBLE))) ELSE CAST(1 AS DOUBLE) END AS scale
    FROM (
        SELECT
            x.user_ix,
            count(*) * max(abs(x.similarity) * b.largest) AS bound
        FROM `cf_user_neighbors` AS x
        JOIN item_bounds AS b
            ON b.source_ix = x.neighbor_ix
        GROUP BY
            x.user_ix
    ) AS bounds
),
sums AS (
    SELECT
        user_ix,
        item_ix,
        sum(units / scale) AS weighted_sum,
        CAST(4294967295 - (max(CAST(floor(units / CAST(2097152 AS DOUBLE)) AS BIGINT) * 4294967296 + (4294967295 - neighbor_ix)) % 4294967296 + 4294967296) % 4294967296 AS INTEGER) AS reason_ix
    FROM (
        SELECT
            n.user_ix,
            a.item_ix,
            n.neighbor_ix,
            g.scale,
            round(n.similarity * a.affinity * g.scale) AS units
        FROM `cf_user_neighbors` AS n
        JOIN user_scales AS g
            ON g.user_ix = n.user_ix
        JOIN neighbor_items AS a
            ON a.user_ix = n.neighbor_ix
    ) AS contributions
    GROUP BY
        user_ix,
        item_ix
),
candidates AS (
    SELECT
        s.user_ix,
        s.item_ix,
        s.weighted_sum / w.total_weight AS score,
        s.reason_ix
    FROM sums AS s
    JOIN neighbor_weights AS w
        ON w.user_ix = s.user_ix
    LEFT JOIN `cf_affinity` AS seen
        ON seen.user_ix = s.user_ix
        AND seen.item_ix = s.item_ix
    WHERE s.weighted_sum > CAST(0 AS DOUBLE)
        AND seen.item_ix IS NULL
),
ranked AS (
    SELECT
        user_ix,
        item_ix,
        score,
        reason_ix,
        row_number() OVER (
            PARTITION BY user_ix
            ORDER BY score DESC, item_ix ASC
        ) AS candidate_rank
    FROM candidates
)
SELECT
    user_ix,
    item_ix,
    score,
    reason_ix,
    candidate_rank AS `rank`
FROM ranked
WHERE candidate_rank <= 40;
CACHE TABLE `rec_user_scores` OPTIONS ('storageLevel' 'MEMORY_AND_DISK');

-- ===== stage recommendations: one row per (user, rank): top-N items with score, source (item, user, blend, popular) and reason
-- reads: cf_affinity, item_popularity, rec_item_scores, rec_user_scores; published
-- recommendations: with Engine:Kernels=auto the embedded engine computes this table with a C# sparse top-K kernel
-- (identical rows); the SQL below is the definition, and what other engines run.
CREATE OR REPLACE TEMPORARY VIEW `cf_recommendations` AS
-- cf_recommendations: one row per (user_ix, rank), the top 20 items per user.
-- Each source's candidates (already cut to the best N′ per user, seen items removed) are divided by the
-- user's maximum from that source, then blended as 0.5·item + 0.5·user.
-- Lists shorter than N are back-filled with popular unseen items (source popular), after every CF candidate.
WITH seen AS (
    SELECT
        user_ix,
        item_ix
    FROM `cf_affinity`
),
known_users AS (
    SELECT
        user_ix,
        count(*) AS n_seen
    FROM `cf_affinity`
    GROUP BY
        user_ix
),
item_normalised AS (
    SELECT
        user_ix,
        item_ix,
        score / max(score) OVER (PARTITION BY user_ix) AS score,
        reason_ix
    FROM `rec_item_scores`
),
user_normalised AS (
    SELECT
        user_ix,
        item_ix,
        score / max(score) OVER (PARTITION BY user_ix) AS score,
        reason_ix
    FROM `rec_user_scores`
),
blended AS (
    SELECT
        coalesce(i.user_ix, u.user_ix) AS user_ix,
        coalesce(i.item_ix, u.item_ix) AS item_ix,
        CAST(0.5 AS DOUBLE) * coalesce(i.score, CAST(0 AS DOUBLE)) + CAST(0.5 AS DOUBLE) * coalesce(u.score, CAST(0 AS DOUBLE)) AS score,
        CASE
            WHEN i.item_ix IS NULL THEN 'user'
            WHEN u.item_ix IS NULL THEN 'item'
            ELSE 'blend'
        END AS source,
        CASE
            WHEN CAST(0.5 AS DOUBLE) * coalesce(i.score, CAST(0 AS DOUBLE)) >= CAST(0.5 AS DOUBLE) * coalesce(u.score, CAST(0 AS DOUBLE)) THEN 'item'
            ELSE 'user'
        END AS reason_kind,
        CASE
            WHEN CAST(0.5 AS DOUBLE) * coalesce(i.score, CAST(0 AS DOUBLE)) >= CAST(0.5 AS DOUBLE) * coalesce(u.score, CAST(0 AS DOUBLE)) THEN i.reason_ix
            ELSE u.reason_ix
        END AS reason_ix
    FROM item_normalised AS i
    FULL OUTER JOIN user_normalised AS u
        ON u.user_ix = i.user_ix
        AND u.item_ix = i.item_ix
),
cf_ranked AS (
    SELECT
        user_ix,
        item_ix,
        score,
        source,
        reason_kind,
        reason_ix,
        row_number() OVER (
            PARTITION BY user_ix
            ORDER BY score DESC, item_ix ASC
        ) AS cf_rank
    FROM blended
),
cf_top AS (
    SELECT
        user_ix,
        item_ix,
        score,
        source,
        reason_kind,
        reason_ix
    FROM cf_ranked
    WHERE cf_rank <= 20
),
popular AS (
    SELECT
        item_ix,
        popularity / max(popularity) OVER () AS score,
        row_number() OVER (ORDER BY popularity DESC, item_ix ASC) AS popularity_rank
    FROM `item_popularity`
    WHERE popularity > CAST(0 AS DOUBLE)
),
backfill AS (
    SELECT
        k.user_ix,
        p.item_ix,
        p.score
    FROM known_users AS k
    JOIN popular AS p
        ON p.popularity_rank <= k.n_seen + 40
    LEFT JOIN seen AS s
        ON s.user_ix = k.user_ix
        AND s.item_ix = p.item_ix
    LEFT JOIN cf_top AS t
        ON t.user_ix = k.user_ix
        AND t.item_ix = p.item_ix
    WHERE s.item_ix IS NULL
        AND t.item_ix IS NULL
),
candidates AS (
    SELECT
        user_ix,
        item_ix,
        score,
        source,
        reason_kind,
        reason_ix,
        0 AS tier
    FROM cf_top
    UNION ALL
    SELECT
        user_ix,
        item_ix,
        score,
        'popular' AS source,
        'popular' AS reason_kind,
        CAST(NULL AS INTEGER) AS reason_ix,
        1 AS tier
    FROM backfill
),
ranked AS (
    SELECT
        user_ix,
        item_ix,
        score,
        source,
        reason_kind,
        reason_ix,
        row_number() OVER (
            PARTITION BY user_ix
            ORDER BY tier ASC, score DESC, item_ix ASC
        ) AS list_rank
    FROM candidates
)
SELECT
    user_ix,
    CAST(list_rank AS BIGINT) AS `rank`,
    item_ix,
    score,
    source,
    reason_kind,
    reason_ix
FROM ranked
WHERE list_rank <= 20;
CACHE TABLE `cf_recommendations` OPTIONS ('storageLevel' 'MEMORY_AND_DISK');
CREATE OR REPLACE TEMPORARY VIEW `recommendations` AS
-- recommendations: one row per (user_id, rank): cf_recommendations with the original ids and a readable reason.
SELECT
    u.user_id,
    r.`rank`,
    i.item_id,
    r.score,
    r.source,
    CASE r.reason_kind
        WHEN 'item' THEN concat_ws('', 'similar to item ', reason_item.item_id)
        WHEN 'user' THEN concat_ws('', 'liked by similar user ', reason_user.user_id)
        ELSE 'popular'
    END AS reason,
    -- The reason's id in its own typed column, so pseudonymisation can treat user ids and leave items alone.
    reason_item.item_id AS reason_item_id,
    reason_user.user_id AS reason_user_id
FROM (
    SELECT
        user_ix,
        `rank`,
        item_ix,
        score,
        source,
        reason_kind,
        -- Typed reason numbers, so the id look-ups below are plain equality joins.
        CASE WHEN reason_kind = 'item' THEN reason_ix END AS reason_item_ix,
        CASE WHEN reason_kind = 'user' THEN reason_ix END AS reason_user_ix
    FROM `cf_recommendations`
) AS r
JOIN `cf_users` AS u
    ON u.user_ix = r.user_ix
JOIN `cf_items` AS i
    ON i.item_ix = r.item_ix
LEFT JOIN `cf_items` AS reason_item
    ON reason_item.item_ix = r.reason_item_ix
LEFT JOIN `cf_users` AS reason_user
    ON reason_user.user_ix = r.reason_user_ix;
CACHE TABLE `recommendations` OPTIONS ('storageLevel' 'MEMORY_AND_DISK');

-- ===== stage eval_train_clean_events: the clean events of the train side of the evaluation split
-- reads: clean_events
CREATE OR REPLACE TEMPORARY VIEW `eval_train_clean_events` AS
-- eval_train_clean_events: the clean events except those of the test side (engaged with at or after the cutoff 2026-10-25T00:00:00Z (as_of − 7 days)); the train model sees only these.
SELECT
    user_id,
    item_id,
    event_type,
    event_time,
    weight
FROM `clean_events`
WHERE NOT (event_time >= TIMESTAMP '2026-10-25 00:00:00.000000');
CACHE TABLE `eval_train_clean_events` OPTIONS ('storageLevel' 'MEMORY_AND_DISK');

-- ===== stage eval_test_events: one row per held-out (user_id, item_id)
-- reads: clean_events
CREATE OR REPLACE TEMPORARY VIEW `eval_test_events` AS
-- eval_test_events: one row per (user_id, item_id) engaged with at or after the cutoff 2026-10-25T00:00:00Z (as_of − 7 days).
SELECT DISTINCT
    user_id,
    item_id
FROM `clean_events`
WHERE event_time >= TIMESTAMP '2026-10-25 00:00:00.000000';
CACHE TABLE `eval_test_events` OPTIONS ('storageLevel' 'MEMORY_AND_DISK');

-- ===== stage eval_train_affinity: evaluation train model: one row per (user, item): time-decayed, type-weighted engagement
-- reads: eval_train_clean_events
CREATE OR REPLACE TEMPORARY VIEW `eval_train_affinity` AS
-- eval_train_affinity: one row per (user_id, item_id).
-- affinity = sum of type_weight * weight * 0.5 ^ (age_seconds / half_life_seconds), age measured back from as_of.
-- The sum is exact (ExactSum), so the order rows arrive in cannot change the bits of a rerun.
WITH weighted_events AS (
    SELECT
        user_id,
        item_id,
        event_time,
        CASE event_type
                WHEN 'comment' THEN CAST(3 AS DOUBLE)
                WHEN 'like' THEN CAST(2 AS DOUBLE)
                WHEN 'share' THEN CAST(4 AS DOUBLE)
                WHEN 'view' THEN CAST(1 AS DOUBLE)
                ELSE CAST(0 AS DOUBLE)
            END
        * weight
        * power(CAST(0.5 AS DOUBLE), (CAST(1792886400 AS DOUBLE) - CAST(unix_micros(event_time) AS DOUBLE) / CAST(1000000 AS DOUBLE)) / CAST(2592000 AS DOUBLE)) AS contribution
    FROM `eval_train_clean_events`
)
SELECT
    user_id,
    item_id,
    CASE WHEN count(CAST(contribution AS DECIMAL(38, 18))) = count(contribution) AND (count(contribution) = 0 OR sum(CAST(contribution AS DECIMAL(38, 18))) IS NOT NULL) THEN CAST(sum(CAST(contribution AS DECIMAL(38, 18))) AS DOUBLE) ELSE CAST(raise_error('SparkReco ExactSum: a term or the total is not finite or not below 1e20 in magnitude (DECIMAL(38, 18))') AS DOUBLE) END AS affinity,
    count(*) AS event_count,
    max(event_time) AS last_event_time
FROM weighted_events
GROUP BY
    user_id,
    item_id;
CACHE TABLE `eval_train_affinity` OPTIONS ('storageLevel' 'MEMORY_AND_DISK');

-- ===== stage eval_train_cf_affinity: evaluation train model: one row per (user, item) of affinity on dense integer ids (dictionaries cf_users, cf_items)
-- reads: eval_train_affinity
CREATE OR REPLACE TEMPORARY VIEW `eval_train_cf_users` AS
-- eval_train_cf_users: one row per user_id in affinity, numbered from 0 in ascending id order.
SELECT
    user_id,
    CAST(row_number() OVER (ORDER BY user_id ASC) - 1 AS INTEGER) AS user_ix
FROM (
    SELECT DISTINCT
        user_id
    FROM `eval_train_affinity`
) AS distinct_ids;
CACHE TABLE `eval_train_cf_users` OPTIONS ('storageLevel' 'MEMORY_AND_DISK');
CREATE OR REPLACE TEMPORARY VIEW `eval_train_cf_items` AS
-- eval_train_cf_items: one row per item_id in affinity, numbered from 0 in ascending id order.
SELECT
    item_id,
    CAST(row_number() OVER (ORDER BY item_id ASC) - 1 AS INTEGER) AS item_ix
FROM (
    SELECT DISTINCT
        item_id
    FROM `eval_train_affinity`
) AS distinct_ids;
CACHE TABLE `eval_train_cf_items` OPTIONS ('storageLevel' 'MEMORY_AND_DISK');
CREATE OR REPLACE TEMPORARY VIEW `eval_train_cf_affinity` AS
-- eval_train_cf_affinity: one row per (user_ix, item_ix): affinity with the ids replaced by their dense numbers.
SELECT
    u.user_ix,
    i.item_ix,
    a.affinity,
    a.last_event_time
FROM `eval_train_affinity` AS a
JOIN `eval_train_cf_users` AS u
    ON u.user_id = a.user_id
JOIN `eval_train_cf_items` AS i
    ON i.item_id = a.item_id;
CACHE TABLE `eval_train_cf_affinity` OPTIONS ('storageLevel' 'MEMORY_AND_DISK');
-- eval_train_cf_affinity facts: (user, item) pairs, and those last engaged with more than 3 half-lives
-- (30 days each, Affinity:HalfLifeDays) before as_of.
SELECT
    count(*) AS pairs,
    sum(CASE WHEN CAST(1792886400 AS DOUBLE) - CAST(unix_micros(last_event_time) AS DOUBLE) / CAST(1000000 AS DOUBLE) > CAST(7776000 AS DOUBLE) THEN 1 ELSE 0 END) AS stale_pairs
FROM `eval_train_cf_affinity`;

-- ===== stage eval_train_item_popularity: evaluation train model: one row per item: decayed popularity (sum of affinity) and number of users
-- reads: eval_train_affinity, eval_train_cf_affinity
CREATE OR REPLACE TEMPORARY VIEW `eval_train_item_popularity` AS
-- eval_train_item_popularity: one row per item_id (with its item_ix).
-- popularity = sum of affinity over users (time-decayed, type-weighted); users = distinct users.
SELECT
    i.item_ix,
    a.item_id,
    CASE WHEN count(CAST(a.affinity AS DECIMAL(38, 18))) = count(a.affinity) AND (count(a.affinity) = 0 OR sum(CAST(a.affinity AS DECIMAL(38, 18))) IS NOT NULL) THEN CAST(sum(CAST(a.affinity AS DECIMAL(38, 18))) AS DOUBLE) ELSE CAST(raise_error('SparkReco ExactSum: a term or the total is not finite or not below 1e20 in magnitude (DECIMAL(38, 18))') AS DOUBLE) END AS popularity,
    count(*) AS users
FROM `eval_train_affinity` AS a
JOIN `eval_train_cf_items` AS i
    ON i.item_id = a.item_id
GROUP BY
    i.item_ix,
    a.item_id;
CACHE TABLE `eval_train_item_popularity` OPTIONS ('storageLevel' 'MEMORY_AND_DISK');

-- ===== stage eval_train_cf_item_similarity: evaluation train model: one row per (item_ix, similar_ix): top-K by the configured measure, with the raw co-occurrence count
-- reads: eval_train_cf_affinity
-- eval_train_cf_item_similarity: with Engine:Kernels=auto the embedded engine computes this table with a C# sparse top-K kernel
-- (identical rows); the SQL below is the definition, and what other engines run.
-- eval_train_cf_item_similarity work estimate: item pairs the capped baskets generate, Σ_u m_u·(m_u − 1)/2 with m_u = min(items of u, 500).
SELECT
    CAST(coalesce(sum(basket_size * (basket_size - 1) / 2), 0) AS BIGINT) AS item_pairs
FROM (
    SELECT
        least(count(*), 500) AS basket_size
    FROM `eval_train_cf_affinity`
    GROUP BY
        user_ix
) AS baskets;
CREATE OR REPLACE TEMPORARY VIEW `eval_train_cf_item_baskets` AS
-- eval_train_cf_item_baskets: one row per (user_ix, item_ix) the user engaged with (binarised), at most
-- 500 items per user: the most recent, then the highest affinity, then the lowest item id.
SELECT
    user_ix,
    item_ix
FROM (
    SELECT
        user_ix,
        item_ix,
        row_number() OVER (
            PARTITION BY user_ix
            ORDER BY last_event_time DESC, affinity DESC, item_ix ASC
        ) AS recency_rank
    FROM `eval_train_cf_affinity`
) AS ranked_items
WHERE recency_rank <= 500;
CACHE TABLE `eval_train_cf_item_baskets` OPTIONS ('storageLevel' 'MEMORY_AND_DISK');
CREATE OR REPLACE TEMPORARY VIEW `eval_train_cf_item_cooccurrence` AS
-- eval_train_cf_item_cooccurrence: one row per item pair (item_a < item_b) with the number of users who have both,
-- kept when at least 2 users do.
SELECT
    a.item_ix AS item_a,
    b.item_ix AS item_b,
    count(*) AS cooccurrence
FROM `eval_train_cf_item_baskets` AS a
JOIN `eval_train_cf_item_baskets` AS b
    ON b.user_ix = a.user_ix
    AND a.item_ix < b.item_ix
GROUP BY
    a.item_ix,
    b.item_ix
HAVING count(*) >= 2;
CACHE TABLE `eval_train_cf_item_cooccurrence` OPTIONS ('storageLevel' 'MEMORY_AND_DISK');
CREATE OR REPLACE TEMPORARY VIEW `eval_train_cf_item_similarity` AS
-- eval_train_cf_item_similarity: one row per (item_ix, similar_ix), the 50 most similar items per item by jaccard.
-- From c = users with both items, n_a, n_b = users with each item, n_total = users with any item (all from eval_train_cf_item_baskets).
-- rank orders by similarity (highest first), ties by similar_ix (lowest first).
WITH item_users AS (
    SELECT
        item_ix,
        count(*) AS n_users
    FROM `eval_train_cf_item_baskets`
    GROUP BY
        item_ix
),
all_users AS (
    SELECT
        count(DISTINCT user_ix) AS n_total
    FROM `eval_train_cf_item_baskets`
),
both_directions AS (
    SELECT
        item_a AS item_ix,
        item_b AS similar_ix,
        cooccurrence
    FROM `eval_train_cf_item_cooccurrence`
    UNION ALL
    SELECT
        item_b AS item_ix,
        item_a AS similar_ix,
        cooccurrence
    FROM `eval_train_cf_item_cooccurrence`
),
contingency AS (
    SELECT
        p.item_ix,
        p.similar_ix,
        p.cooccurrence,
        a.n_users AS n_a,
        b.n_users AS n_b,
        t.n_total
    FROM both_directions AS p
    JOIN item_users AS a
        ON a.item_ix = p.item_ix
    JOIN item_users AS b
        ON b.item_ix = p.similar_ix
    CROSS JOIN all_users AS t
),
scored AS (
    SELECT
        item_ix,
        similar_ix,
        CAST(cooccurrence AS DOUBLE) / CAST(n_a + n_b - cooccurrence AS DOUBLE) AS similarity,
        cooccurrence
    FROM contingency
),
ranked AS (
    SELECT
        item_ix,
        similar_ix,
        similarity,
        cooccurrence,
        row_number() OVER (
            PARTITION BY item_ix
            ORDER BY similarity DESC, similar_ix ASC
        ) AS similarity_rank
    FROM scored
)
SELECT
    item_ix,
    similar_ix,
    similarity,
    cooccurrence,
    similarity_rank AS `rank`
FROM ranked
WHERE similarity_rank <= 50;
CACHE TABLE `eval_train_cf_item_similarity` OPTIONS ('storageLevel' 'MEMORY_AND_DISK');
-- eval_train_cf_item_similarity facts: pairs the co-occurrence self-join generates (Σ_u m_u·(m_u − 1)/2), users whose basket was capped,
-- and pairs that reached the minimum support.
SELECT
    CAST(sum(basket_size * (basket_size - 1)) / 2 AS BIGINT) AS pairs,
    sum(CASE WHEN items_before_cap > basket_size THEN 1 ELSE 0 END) AS capped_users,
    count(*) AS users,
    (SELECT count(*) FROM `eval_train_cf_item_cooccurrence`) AS pairs_with_support
FROM (
    SELECT
        b.user_ix,
        count(*) AS basket_size,
        max(n.items_before_cap) AS items_before_cap
    FROM `eval_train_cf_item_baskets` AS b
    JOIN (
        SELECT
            user_ix,
            count(*) AS items_before_cap
        FROM `eval_train_cf_affinity`
        GROUP BY
            user_ix
    ) AS n
        ON n.user_ix = b.user_ix
    GROUP BY
        b.user_ix
) AS baskets;

-- ===== stage eval_train_cf_user_neighbors: evaluation train model: one row per (user_ix, neighbor_ix): top-K by cosine of affinity vectors, with the number of shared items
-- reads: eval_train_cf_affinity
-- eval_train_cf_user_neighbors: with Engine:Kernels=auto the embedded engine computes this table with a C# sparse top-K kernel
-- (identical rows); the SQL below is the definition, and what other engines run.
-- eval_train_cf_user_neighbors work estimate: user pairs the item index generates, Σ_i n_i·(n_i − 1)/2 over items with at most 1000 users.
SELECT
    CAST(coalesce(sum(n_users * (n_users - 1) / 2), 0) AS BIGINT) AS user_pairs
FROM (
    SELECT
        item_ix,
        count(*) AS n_users
    FROM `eval_train_cf_affinity`
    WHERE affinity > CAST(0 AS DOUBLE)
    GROUP BY
        item_ix
) AS item_user_counts
WHERE n_users <= 1000;
CREATE OR REPLACE TEMPORARY VIEW `eval_train_cf_neighbor_vectors` AS
-- eval_train_cf_neighbor_vectors: one row per (user_ix, item_ix) with positive affinity, leaving out items with more than
-- 1000 users; weight = affinity / the norm of the user's remaining vector (unit vectors).
WITH item_user_counts AS (
    SELECT
        item_ix,
        count(*) AS n_users
    FROM `eval_train_cf_affinity`
    WHERE affinity > CAST(0 AS DOUBLE)
    GROUP BY
        item_ix
),
kept AS (
    SELECT
        a.user_ix,
        a.item_ix,
        a.affinity
    FROM `eval_train_cf_affinity` AS a
    JOIN item_user_counts AS n
        ON n.item_ix = a.item_ix
    WHERE a.affinity > CAST(0 AS DOUBLE)
        AND n.n_users <= 1000
),
norms AS (
    SELECT
        user_ix,
        sqrt(CASE WHEN count(CAST(affinity * affinity AS DECIMAL(38, 18))) = count(affinity * affinity) AND (count(affinity * affinity) = 0 OR sum(CAST(affinity * affinity AS DECIMAL(38, 18))) IS NOT NULL) THEN CAST(sum(CAST(affinity * affinity AS DECIMAL(38, 18))) AS DOUBLE) ELSE CAST(raise_error('SparkReco ExactSum: a term or the total is not finite or not below 1e20 in magnitude (DECIMAL(38, 18))') AS DOUBLE) END) AS norm
    FROM kept
    GROUP BY
        user_ix
)
SELECT
    k.user_ix,
    k.item_ix,
    k.affinity,
    k.affinity / n.norm AS weight
FROM kept AS k
JOIN norms AS n
    ON n.user_ix = k.user_ix;
CACHE TABLE `eval_train_cf_neighbor_vectors` OPTIONS ('storageLevel' 'MEMORY_AND_DISK');
CREATE OR REPLACE TEMPORARY VIEW `eval_train_cf_user_neighbors` AS
-- eval_train_cf_user_neighbors: one row per (user_ix, neighbor_ix), the 50 most similar users per user.
-- similarity = cosine of the two users' vectors in eval_train_cf_neighbor_vectors; overlap = shared items (at least 2).
-- rank orders by similarity (highest first), ties by neighbor_ix (lowest first).
-- Each term of the dot product of unit vectors is rounded to a multiple of 2^-52 (error below 1.2e-16): every
-- partial sum is then exact, so the result does not depend on the order the engine adds the rows in.
WITH pair_similarity AS (
    SELECT
        a.user_ix AS user_a,
        b.user_ix AS user_b,
        sum(round(a.weight * b.weight * CAST(4503599627370496 AS DOUBLE)) / CAST(4503599627370496 AS DOUBLE)) AS similarity,
        count(*) AS overlap
    FROM `eval_train_cf_neighbor_vectors` AS a
    JOIN `eval_train_cf_neighbor_vectors` AS b
        ON b.item_ix = a.item_ix
        AND a.user_ix < b.user_ix
    GROUP BY
        a.user_ix,
        b.user_ix
    HAVING count(*) >= 2
),
both_directions AS (
    SELECT
        user_a AS user_ix,
        user_b AS neighbor_ix,
        similarity,
        overlap
    FROM pair_similarity
    UNION ALL
    SELECT
        user_b AS user_ix,
        user_a AS neighbor_ix,
        similarity,
        overlap
    FROM pair_similarity
),
ranked AS (
    SELECT
        user_ix,
        neighbor_ix,
        similarity,
        overlap,
        row_number() OVER (
            PARTITION BY user_ix
            ORDER BY similarity DESC, neighbor_ix ASC
        ) AS neighbor_rank
    FROM both_directions
)
SELECT
    user_ix,
    neighbor_ix,
    similarity,
    overlap,
    neighbor_rank AS `rank`
FROM ranked
WHERE neighbor_rank <= 50;
CACHE TABLE `eval_train_cf_user_neighbors` OPTIONS ('storageLevel' 'MEMORY_AND_DISK');
-- eval_train_cf_user_neighbors facts: items left out for having more than 1000 users, and the user pairs
-- the inverted-index join generates over the kept items.
SELECT
    sum(CASE WHEN n_users > 1000 THEN 1 ELSE 0 END) AS skipped_items,
    CAST(sum(CASE WHEN n_users <= 1000 THEN n_users * (n_users - 1) ELSE 0 END) / 2 AS BIGINT) AS pairs
FROM (
    SELECT
        item_ix,
        count(*) AS n_users
    FROM `eval_train_cf_affinity`
    WHERE affinity > CAST(0 AS DOUBLE)
    GROUP BY
        item_ix
) AS item_user_counts;

-- ===== stage eval_train_rec_item_scores: evaluation train model: one row per (user, candidate item), the best N′ per user: item-based score Σ_j affinity(u, j)·similarity(j, i), with the top contributing item
-- reads: eval_train_cf_affinity, eval_train_cf_item_similarity, eval_train_cf_item_ease, eval_train_item_popularity
-- eval_train_rec_item_scores: with Engine:Kernels=auto the embedded engine computes this table with a C# sparse top-K kernel
-- (identical rows); the SQL below is the definition, and what other engines run.
-- eval_train_rec_item_scores work estimate: contributions affinity(u, j)·similarity(j, i), Σ over (u, j) of j's similar items.
SELECT
    CAST(coalesce(sum(s.similar_items), 0) AS BIGINT) AS contributions
FROM `eval_train_cf_affinity` AS a
JOIN (
    SELECT
        item_ix,
        count(*) AS similar_items
    FROM `eval_train_cf_item_similarity`
    GROUP BY
        item_ix
) AS s
    ON s.item_ix = a.item_ix;
CREATE OR REPLACE TEMPORARY VIEW `eval_train_rec_item_scores` AS
-- eval_train_rec_item_scores: one row per (user_ix, item_ix) candidate.
-- score = sum over the user's items j of affinity(u, j) * similarity(j, item), kept when positive, seen items removed; the best 40 per user (ties: lowest item first);
-- reason_ix = the j with the largest term.
-- Terms are rounded to a per-user grid of 2^-51 of a bound on the user's sums (sources × largest |term|), so the plain sum is exact
-- in any order; the reason compares terms to 2^-29 of that bound (near-ties: lowest id).
WITH weight_bounds AS (
    SELECT
        item_ix AS source_ix,
        max(abs(similarity)) AS largest
    FROM `eval_train_cf_item_similarity`
    GROUP BY
        item_ix
),
user_scales AS (
    SELECT
        user_ix,
        CASE WHEN bound > CAST(0 AS DOUBLE) THEN power(CAST(2 AS DOUBLE), least(greatest(CAST(51 AS DOUBLE) - ceil(log2(bound)), CAST(-1000 AS DOUBLE)), CAST(1000 AS DOUBLE))) ELSE CAST(1 AS DOUBLE) END AS scale
    FROM (
        SELECT
            x.user_ix,
            count(*) * max(abs(x.affinity) * b.largest) AS bound
        FROM `eval_train_cf_affinity` AS x
        JOIN weight_bounds AS b
            ON b.source_ix = x.item_ix
        GROUP BY
            x.user_ix
    ) AS bounds
),
sums AS (
    SELECT
        user_ix,
        item_ix,
        sum(units / scale) AS score,
        CAST(4294967295 - (max(CAST(floor(units / CAST(2097152 AS DOUBLE)) AS BIGINT) * 4294967296 + (4294967295 - because_ix)) % 4294967296 + 4294967296) % 4294967296 AS INTEGER) AS reason_ix
    FROM (
        SELECT
            a.user_ix,
            s.similar_ix AS item_ix,
            a.item_ix AS because_ix,
            g.scale,
            round(a.affinity * s.similarity * g.scale) AS units
        FROM `eval_train_cf_affinity` AS a
        JOIN user_scales AS g
            ON g.user_ix = a.user_ix
        JOIN `eval_train_cf_item_similarity` AS s
            ON s.item_ix = a.item_ix
    ) AS contributions
    GROUP BY
        user_ix,
        item_ix
),
candidates AS (
    SELECT
        s.user_ix,
        s.item_ix,
        s.score AS score,
        s.reason_ix
    FROM sums AS s
    LEFT JOIN `eval_train_cf_affinity` AS seen
        ON seen.user_ix = s.user_ix
        AND seen.item_ix = s.item_ix
    WHERE s.score > CAST(0 AS DOUBLE)
        AND seen.item_ix IS NULL
),
ranked AS (
    SELECT
        user_ix,
        item_ix,
        score,
        reason_ix,
        row_number() OVER (
            PARTITION BY user_ix
            ORDER BY score DESC, item_ix ASC
        ) AS candidate_rank
    FROM candidates
)
SELECT
    user_ix,
    item_ix,
    score,
    reason_ix,
    candidate_rank AS `rank`
FROM ranked
WHERE candidate_rank <= 40;
CACHE TABLE `eval_train_rec_item_scores` OPTIONS ('storageLevel' 'MEMORY_AND_DISK');

-- ===== stage eval_train_rec_user_scores: evaluation train model: one row per (user, candidate item), the best N′ per user: neighbour-weighted average of the neighbours' affinity, with the top contributing neighbour
-- reads: eval_train_cf_affinity, eval_train_cf_user_neighbors, eval_train_item_popularity
-- eval_train_rec_user_scores: with Engine:Kernels=auto the embedded engine computes this table with a C# sparse top-K kernel
-- (identical rows); the SQL below is the definition, and what other engines run.
-- eval_train_rec_user_scores work estimate: contributions w(u, v)·affinity(v, i), Σ over (u, v) of v's items (at most 100 each).
SELECT
    CAST(coalesce(sum(least(a.items, 100)), 0) AS BIGINT) AS contributions
FROM `eval_train_cf_user_neighbors` AS n
JOIN (
    SELECT
        user_ix,
        count(*) AS items
    FROM `eval_train_cf_affinity`
    GROUP BY
        user_ix
) AS a
    ON a.user_ix = n.neighbor_ix;
CREATE OR REPLACE TEMPORARY VIEW `eval_train_rec_user_scores` AS
-- eval_train_rec_user_scores: one row per (user_ix, item_ix) candidate.
-- score = sum over u's neighbours v of w(u, v) * affinity(v, item) / sum over u's neighbours of |w(u, v)|,
-- kept when positive, seen items removed; the best 40 per user (ties: lowest item first); reason_ix = the neighbour with the largest term.
-- A neighbour lends only its 100 highest-affinity items (ties: lowest item_ix), Neighbors:MaxItemsPerNeighbor.
-- Terms are rounded to a per-user grid of 2^-51 of a bound on the user's sums (sources × largest |term|), so the plain sum is exact
-- in any order; the reason compares terms to 2^-29 of that bound (near-ties: lowest id).
WITH neighbor_items AS (
    SELECT
        user_ix,
        item_ix,
        affinity
    FROM (
        SELECT
            user_ix,
            item_ix,
            affinity,
            row_number() OVER (
                PARTITION BY user_ix
                ORDER BY affinity DESC, item_ix ASC
            ) AS item_rank
        FROM `eval_train_cf_affinity`
    ) AS ranked_items
    WHERE item_rank <= 100
),
neighbor_weights AS (
    SELECT
        user_ix,
        CASE WHEN count(CAST(abs(similarity) AS DECIMAL(38, 18))) = count(abs(similarity)) AND (count(abs(similarity)) = 0 OR sum(CAST(abs(similarity) AS DECIMAL(38, 18))) IS NOT NULL) THEN CAST(sum(CAST(abs(similarity) AS DECIMAL(38, 18))) AS DOUBLE) ELSE CAST(raise_error('SparkReco ExactSum: a term or the total is not finite or not below 1e20 in magnitude (DECIMAL(38, 18))') AS DOUBLE) END AS total_weight
    FROM `eval_train_cf_user_neighbors`
    GROUP BY
        user_ix
),
item_bounds AS (
    SELECT
        user_ix AS source_ix,
        max(abs(affinity)) AS largest
    FROM neighbor_items
    GROUP BY
        user_ix
),
user_scales AS (
    SELECT
        user_ix,
        CASE WHEN bound > CAST(0 AS DOUBLE) THEN power(CAST(2 AS DOUBLE), least(greatest(CAST(51 AS DOUBLE) - ceil(log2(bound)), CAST(-1000 AS DOUBLE)), CAST(1000 AS DOUBLE))) ELSE CAST(1 AS DOUBLE) END AS scale
    FROM (
        SELECT
            x.user_ix,
            count(*) * max(abs(x.similarity) * b.largest) AS bound
        FROM `eval_train_cf_user_neighbors` AS x
        JOIN item_bounds AS b
            ON b.source_ix = x.neighbor_ix
        GROUP BY
            x.user_ix
    ) AS bounds
),
sums AS (
    SELECT
        user_ix,
        item_ix,
        sum(units / scale) AS weighted_sum,
        CAST(4294967295 - (max(CAST(floor(units / CAST(2097152 AS DOUBLE)) AS BIGINT) * 4294967296 + (4294967295 - neighbor_ix)) % 4294967296 + 4294967296) % 4294967296 AS INTEGER) AS reason_ix
    FROM (
        SELECT
            n.user_ix,
            a.item_ix,
            n.neighbor_ix,
            g.scale,
            round(n.similarity * a.affinity * g.scale) AS units
        FROM `eval_train_cf_user_neighbors` AS n
        JOIN user_scales AS g
            ON g.user_ix = n.user_ix
        JOIN neighbor_items AS a
            ON a.user_ix = n.neighbor_ix
    ) AS contributions
    GROUP BY
        user_ix,
        item_ix
),
candidates AS (
    SELECT
        s.user_ix,
        s.item_ix,
        s.weighted_sum / w.total_weight AS score,
        s.reason_ix
    FROM sums AS s
    JOIN neighbor_weights AS w
        ON w.user_ix = s.user_ix
    LEFT JOIN `eval_train_cf_affinity` AS seen
        ON seen.user_ix = s.user_ix
        AND seen.item_ix = s.item_ix
    WHERE s.weighted_sum > CAST(0 AS DOUBLE)
        AND seen.item_ix IS NULL
),
ranked AS (
    SELECT
        user_ix,
        item_ix,
        score,
        reason_ix,
        row_number() OVER (
            PARTITION BY user_ix
            ORDER BY score DESC, item_ix ASC
        ) AS candidate_rank
    FROM candidates
)
SELECT
    user_ix,
    item_ix,
    score,
    reason_ix,
    candidate_rank AS `rank`
FROM ranked
WHERE candidate_rank <= 40;
CACHE TABLE `eval_train_rec_user_scores` OPTIONS ('storageLevel' 'MEMORY_AND_DISK');

-- ===== stage eval_recommendations_popular: evaluation: recommendations of source popular (lists of Evaluation:K)
-- reads: eval_train_cf_affinity, eval_train_item_popularity, eval_train_rec_item_scores, eval_train_rec_user_scores
-- eval_recommendations_popular: with Engine:Kernels=auto the embedded engine computes this table with a C# sparse top-K kernel
-- (identical rows); the SQL below is the definition, and what other engines run.
CREATE OR REPLACE TEMPORARY VIEW `eval_cf_recommendations_popular` AS
-- eval_cf_recommendations_popular: one row per (user_ix, rank), the top 10 items per user.
-- Each source's candidates (already cut to the best N′ per user, seen items removed) are divided by the
-- user's maximum from that source, then blended as 0·item + 0·user.
-- Lists shorter than N are back-filled with popular unseen items (source popular), after every CF candidate.
WITH seen AS (
    SELECT
        user_ix,
        item_ix
    FROM `eval_train_cf_affinity`
),
known_users AS (
    SELECT
        user_ix,
        count(*) AS n_seen
    FROM `eval_train_cf_affinity`
    GROUP BY
        user_ix
),
popular AS (
    SELECT
        item_ix,
        popularity / max(popularity) OVER () AS score,
        row_number() OVER (ORDER BY popularity DESC, item_ix ASC) AS popularity_rank
    FROM `eval_train_item_popularity`
    WHERE popularity > CAST(0 AS DOUBLE)
),
backfill AS (
    SELECT
        k.user_ix,
        p.item_ix,
        p.score
    FROM known_users AS k
    JOIN popular AS p
        ON p.popularity_rank <= k.n_seen + 20
    LEFT JOIN seen AS s
        ON s.user_ix = k.user_ix
        AND s.item_ix = p.item_ix
    WHERE s.item_ix IS NULL
),
candidates AS (
    SELECT
        user_ix,
        item_ix,
        score,
        'popular' AS source,
        'popular' AS reason_kind,
        CAST(NULL AS INTEGER) AS reason_ix,
        1 AS tier
    FROM backfill
),
ranked AS (
    SELECT
        user_ix,
        item_ix,
        score,
        source,
        reason_kind,
        reason_ix,
        row_number() OVER (
            PARTITION BY user_ix
            ORDER BY tier ASC, score DESC, item_ix ASC
        ) AS list_rank
    FROM candidates
)
SELECT
    user_ix,
    CAST(list_rank AS BIGINT) AS `rank`,
    item_ix,
    score,
    source,
    reason_kind,
    reason_ix
FROM ranked
WHERE list_rank <= 10;
CACHE TABLE `eval_cf_recommendations_popular` OPTIONS ('storageLevel' 'MEMORY_AND_DISK');
CREATE OR REPLACE TEMPORARY VIEW `eval_recommendations_popular` AS
-- eval_recommendations_popular: one row per (user_id, rank): eval_cf_recommendations_popular with the original ids and a readable reason.
SELECT
    u.user_id,
    r.`rank`,
    i.item_id,
    r.score,
    r.source,
    CASE r.reason_kind
        WHEN 'item' THEN concat_ws('', 'similar to item ', reason_item.item_id)
        WHEN 'user' THEN concat_ws('', 'liked by similar user ', reason_user.user_id)
        ELSE 'popular'
    END AS reason,
    -- The reason's id in its own typed column, so pseudonymisation can treat user ids and leave items alone.
    reason_item.item_id AS reason_item_id,
    reason_user.user_id AS reason_user_id
FROM (
    SELECT
        user_ix,
        `rank`,
        item_ix,
        score,
        source,
        reason_kind,
        -- Typed reason numbers, so the id look-ups below are plain equality joins.
        CASE WHEN reason_kind = 'item' THEN reason_ix END AS reason_item_ix,
        CASE WHEN reason_kind = 'user' THEN reason_ix END AS reason_user_ix
    FROM `eval_cf_recommendations_popular`
) AS r
JOIN `eval_train_cf_users` AS u
    ON u.user_ix = r.user_ix
JOIN `eval_train_cf_items` AS i
    ON i.item_ix = r.item_ix
LEFT JOIN `eval_train_cf_items` AS reason_item
    ON reason_item.item_ix = r.reason_item_ix
LEFT JOIN `eval_train_cf_users` AS reason_user
    ON reason_user.user_ix = r.reason_user_ix;
CACHE TABLE `eval_recommendations_popular` OPTIONS ('storageLevel' 'MEMORY_AND_DISK');

-- ===== stage eval_recommendations_item: evaluation: recommendations of source item (lists of Evaluation:K)
-- reads: eval_train_cf_affinity, eval_train_item_popularity, eval_train_rec_item_scores, eval_train_rec_user_scores
-- eval_recommendations_item: with Engine:Kernels=auto the embedded engine computes this table with a C# sparse top-K kernel
-- (identical rows); the SQL below is the definition, and what other engines run.
CREATE OR REPLACE TEMPORARY VIEW `eval_cf_recommendations_item` AS
-- eval_cf_recommendations_item: one row per (user_ix, rank), the top 10 items per user.
-- Each source's candidates (already cut to the best N′ per user, seen items removed) are divided by the
-- user's maximum from that source, then blended as 1·item + 0·user.
-- Lists shorter than N are back-filled with popular unseen items (source popular), after every CF candidate.
WITH seen AS (
    SELECT
        user_ix,
        item_ix
    FROM `eval_train_cf_affinity`
),
known_users AS (
    SELECT
        user_ix,
        count(*) AS n_seen
    FROM `eval_train_cf_affinity`
    GROUP BY
        user_ix
),
item_normalised AS (
    SELECT
        user_ix,
        item_ix,
        score / max(score) OVER (PARTITION BY user_ix) AS score,
        reason_ix
    FROM `eval_train_rec_item_scores`
),
blended AS (
    SELECT
        user_ix,
        item_ix,
        CAST(1 AS DOUBLE) * score AS score,
        'item' AS source,
        'item' AS reason_kind,
        reason_ix
    FROM item_normalised
),
cf_ranked AS (
    SELECT
        user_ix,
        item_ix,
        score,
        source,
        reason_kind,
        reason_ix,
        row_number() OVER (
            PARTITION BY user_ix
            ORDER BY score DESC, item_ix ASC
        ) AS cf_rank
    FROM blended
),
cf_top AS (
    SELECT
        user_ix,
        item_ix,
        score,
        source,
        reason_kind,
        reason_ix
    FROM cf_ranked
    WHERE cf_rank <= 10
),
popular AS (
    SELECT
        item_ix,
        popularity / max(popularity) OVER () AS score,
        row_number() OVER (ORDER BY popularity DESC, item_ix ASC) AS popularity_rank
    FROM `eval_train_item_popularity`
    WHERE popularity > CAST(0 AS DOUBLE)
),
backfill AS (
    SELECT
        k.user_ix,
        p.item_ix,
        p.score
    FROM known_users AS k
    JOIN popular AS p
        ON p.popularity_rank <= k.n_seen + 20
    LEFT JOIN seen AS s
        ON s.user_ix = k.user_ix
        AND s.item_ix = p.item_ix
    LEFT JOIN cf_top AS t
        ON t.user_ix = k.user_ix
        AND t.item_ix = p.item_ix
    WHERE s.item_ix IS NULL
        AND t.item_ix IS NULL
),
candidates AS (
    SELECT
        user_ix,
        item_ix,
        score,
        source,
        reason_kind,
        reason_ix,
        0 AS tier
    FROM cf_top
    UNION ALL
    SELECT
        user_ix,
        item_ix,
        score,
        'popular' AS source,
        'popular' AS reason_kind,
        CAST(NULL AS INTEGER) AS reason_ix,
        1 AS tier
    FROM backfill
),
ranked AS (
    SELECT
        user_ix,
        item_ix,
        score,
        source,
        reason_kind,
        reason_ix,
        row_number() OVER (
            PARTITION BY user_ix
            ORDER BY tier ASC, score DESC, item_ix ASC
        ) AS list_rank
    FROM candidates
)
SELECT
    user_ix,
    CAST(list_rank AS BIGINT) AS `rank`,
    item_ix,
    score,
    source,
    reason_kind,
    reason_ix
FROM ranked
WHERE list_rank <= 10;
CACHE TABLE `eval_cf_recommendations_item` OPTIONS ('storageLevel' 'MEMORY_AND_DISK');
CREATE OR REPLACE TEMPORARY VIEW `eval_recommendations_item` AS
-- eval_recommendations_item: one row per (user_id, rank): eval_cf_recommendations_item with the original ids and a readable reason.
SELECT
    u.user_id,
    r.`rank`,
    i.item_id,
    r.score,
    r.source,
    CASE r.reason_kind
        WHEN 'item' THEN concat_ws('', 'similar to item ', reason_item.item_id)
        WHEN 'user' THEN concat_ws('', 'liked by similar user ', reason_user.user_id)
        ELSE 'popular'
    END AS reason,
    -- The reason's id in its own typed column, so pseudonymisation can treat user ids and leave items alone.
    reason_item.item_id AS reason_item_id,
    reason_user.user_id AS reason_user_id
FROM (
    SELECT
        user_ix,
        `rank`,
        item_ix,
        score,
        source,
        reason_kind,
        -- Typed reason numbers, so the id look-ups below are plain equality joins.
        CASE WHEN reason_kind = 'item' THEN reason_ix END AS reason_item_ix,
        CASE WHEN reason_kind = 'user' THEN reason_ix END AS reason_user_ix
    FROM `eval_cf_recommendations_item`
) AS r
JOIN `eval_train_cf_users` AS u
    ON u.user_ix = r.user_ix
JOIN `eval_train_cf_items` AS i
    ON i.item_ix = r.item_ix
LEFT JOIN `eval_train_cf_items` AS reason_item
    ON reason_item.item_ix = r.reason_item_ix
LEFT JOIN `eval_train_cf_users` AS reason_user
    ON reason_user.user_ix = r.reason_user_ix;
CACHE TABLE `eval_recommendations_item` OPTIONS ('storageLevel' 'MEMORY_AND_DISK');

-- ===== stage eval_recommendations_user: evaluation: recommendations of source user (lists of Evaluation:K)
-- reads: eval_train_cf_affinity, eval_train_item_popularity, eval_train_rec_item_scores, eval_train_rec_user_scores
-- eval_recommendations_user: with Engine:Kernels=auto the embedded engine computes this table with a C# sparse top-K kernel
-- (identical rows); the SQL below is the definition, and what other engines run.
CREATE OR REPLACE TEMPORARY VIEW `eval_cf_recommendations_user` AS
-- eval_cf_recommendations_user: one row per (user_ix, rank), the top 10 items per user.
-- Each source's candidates (already cut to the best N′ per user, seen items removed) are divided by the
-- user's maximum from that source, then blended as 0·item + 1·user.
-- Lists shorter than N are back-filled with popular unseen items (source popular), after every CF candidate.
WITH seen AS (
    SELECT
        user_ix,
        item_ix
    FROM `eval_train_cf_affinity`
),
known_users AS (
    SELECT
        user_ix,
        count(*) AS n_seen
    FROM `eval_train_cf_affinity`
    GROUP BY
        user_ix
),
user_normalised AS (
    SELECT
        user_ix,
        item_ix,
        score / max(score) OVER (PARTITION BY user_ix) AS score,
        reason_ix
    FROM `eval_train_rec_user_scores`
),
blended AS (
    SELECT
        user_ix,
        item_ix,
        CAST(1 AS DOUBLE) * score AS score,
        'user' AS source,
        'user' AS reason_kind,
        reason_ix
    FROM user_normalised
),
cf_ranked AS (
    SELECT
        user_ix,
        item_ix,
        score,
        source,
        reason_kind,
        reason_ix,
        row_number() OVER (
            PARTITION BY user_ix
            ORDER BY score DESC, item_ix ASC
        ) AS cf_rank
    FROM blended
),
cf_top AS (
    SELECT
        user_ix,
        item_ix,
        score,
        source,
        reason_kind,
        reason_ix
    FROM cf_ranked
    WHERE cf_rank <= 10
),
popular AS (
    SELECT
        item_ix,
        popularity / max(popularity) OVER () AS score,
        row_number() OVER (ORDER BY popularity DESC, item_ix ASC) AS popularity_rank
    FROM `eval_train_item_popularity`
    WHERE popularity > CAST(0 AS DOUBLE)
),
backfill AS (
    SELECT
        k.user_ix,
        p.item_ix,
        p.score
    FROM known_users AS k
    JOIN popular AS p
        ON p.popularity_rank <= k.n_seen + 20
    LEFT JOIN seen AS s
        ON s.user_ix = k.user_ix
        AND s.item_ix = p.item_ix
    LEFT JOIN cf_top AS t
        ON t.user_ix = k.user_ix
        AND t.item_ix = p.item_ix
    WHERE s.item_ix IS NULL
        AND t.item_ix IS NULL
),
candidates AS (
    SELECT
        user_ix,
        item_ix,
        score,
        source,
        reason_kind,
        reason_ix,
        0 AS tier
    FROM cf_top
    UNION ALL
    SELECT
        user_ix,
        item_ix,
        score,
        'popular' AS source,
        'popular' AS reason_kind,
        CAST(NULL AS INTEGER) AS reason_ix,
        1 AS tier
    FROM backfill
),
ranked AS (
    SELECT
        user_ix,
        item_ix,
        score,
        source,
        reason_kind,
        reason_ix,
        row_number() OVER (
            PARTITION BY user_ix
            ORDER BY tier ASC, score DESC, item_ix ASC
        ) AS list_rank
    FROM candidates
)
SELECT
    user_ix,
    CAST(list_rank AS BIGINT) AS `rank`,
    item_ix,
    score,
    source,
    reason_kind,
    reason_ix
FROM ranked
WHERE list_rank <= 10;
CACHE TABLE `eval_cf_recommendations_user` OPTIONS ('storageLevel' 'MEMORY_AND_DISK');
CREATE OR REPLACE TEMPORARY VIEW `eval_recommendations_user` AS
-- eval_recommendations_user: one row per (user_id, rank): eval_cf_recommendations_user with the original ids and a readable reason.
SELECT
    u.user_id,
    r.`rank`,
    i.item_id,
    r.score,
    r.source,
    CASE r.reason_kind
        WHEN 'item' THEN concat_ws('', 'similar to item ', reason_item.item_id)
        WHEN 'user' THEN concat_ws('', 'liked by similar user ', reason_user.user_id)
        ELSE 'popular'
    END AS reason,
    -- The reason's id in its own typed column, so pseudonymisation can treat user ids and leave items alone.
    reason_item.item_id AS reason_item_id,
    reason_user.user_id AS reason_user_id
FROM (
    SELECT
        user_ix,
        `rank`,
        item_ix,
        score,
        source,
        reason_kind,
        -- Typed reason numbers, so the id look-ups below are plain equality joins.
        CASE WHEN reason_kind = 'item' THEN reason_ix END AS reason_item_ix,
        CASE WHEN reason_kind = 'user' THEN reason_ix END AS reason_user_ix
    FROM `eval_cf_recommendations_user`
) AS r
JOIN `eval_train_cf_users` AS u
    ON u.user_ix = r.user_ix
JOIN `eval_train_cf_items` AS i
    ON i.item_ix = r.item_ix
LEFT JOIN `eval_train_cf_items` AS reason_item
    ON reason_item.item_ix = r.reason_item_ix
LEFT JOIN `eval_train_cf_users` AS reason_user
    ON reason_user.user_ix = r.reason_user_ix;
CACHE TABLE `eval_recommendations_user` OPTIONS ('storageLevel' 'MEMORY_AND_DISK');

-- ===== stage eval_recommendations_blend: evaluation: recommendations of source blend (lists of Evaluation:K)
-- reads: eval_train_cf_affinity, eval_train_item_popularity, eval_train_rec_item_scores, eval_train_rec_user_scores
-- eval_recommendations_blend: with Engine:Kernels=auto the embedded engine computes this table with a C# sparse top-K kernel
-- (identical rows); the SQL below is the definition, and what other engines run.
CREATE OR REPLACE TEMPORARY VIEW `eval_cf_recommendations_blend` AS
-- eval_cf_recommendations_blend: one row per (user_ix, rank), the top 10 items per user.
-- Each source's candidates (already cut to the best N′ per user, seen items removed) are divided by the
-- user's maximum from that source, then blended as 0.5·item + 0.5·user.
-- Lists shorter than N are back-filled with popular unseen items (source popular), after every CF candidate.
WITH seen AS (
    SELECT
        user_ix,
        item_ix
    FROM `eval_train_cf_affinity`
),
known_users AS (
    SELECT
        user_ix,
        count(*) AS n_seen
    FROM `eval_train_cf_affinity`
    GROUP BY
        user_ix
),
item_normalised AS (
    SELECT
        user_ix,
        item_ix,
        score / max(score) OVER (PARTITION BY user_ix) AS score,
        reason_ix
    FROM `eval_train_rec_item_scores`
),
user_normalised AS (
    SELECT
        user_ix,
        item_ix,
        score / max(score) OVER (PARTITION BY user_ix) AS score,
        reason_ix
    FROM `eval_train_rec_user_scores`
),
blended AS (
    SELECT
        coalesce(i.user_ix, u.user_ix) AS user_ix,
        coalesce(i.item_ix, u.item_ix) AS item_ix,
        CAST(0.5 AS DOUBLE) * coalesce(i.score, CAST(0 AS DOUBLE)) + CAST(0.5 AS DOUBLE) * coalesce(u.score, CAST(0 AS DOUBLE)) AS score,
        CASE
            WHEN i.item_ix IS NULL THEN 'user'
            WHEN u.item_ix IS NULL THEN 'item'
            ELSE 'blend'
        END AS source,
        CASE
            WHEN CAST(0.5 AS DOUBLE) * coalesce(i.score, CAST(0 AS DOUBLE)) >= CAST(0.5 AS DOUBLE) * coalesce(u.score, CAST(0 AS DOUBLE)) THEN 'item'
            ELSE 'user'
        END AS reason_kind,
        CASE
            WHEN CAST(0.5 AS DOUBLE) * coalesce(i.score, CAST(0 AS DOUBLE)) >= CAST(0.5 AS DOUBLE) * coalesce(u.score, CAST(0 AS DOUBLE)) THEN i.reason_ix
            ELSE u.reason_ix
        END AS reason_ix
    FROM item_normalised AS i
    FULL OUTER JOIN user_normalised AS u
        ON u.user_ix = i.user_ix
        AND u.item_ix = i.item_ix
),
cf_ranked AS (
    SELECT
        user_ix,
        item_ix,
        score,
        source,
        reason_kind,
        reason_ix,
        row_number() OVER (
            PARTITION BY user_ix
            ORDER BY score DESC, item_ix ASC
        ) AS cf_rank
    FROM blended
),
cf_top AS (
    SELECT
        user_ix,
        item_ix,
        score,
        source,
        reason_kind,
        reason_ix
    FROM cf_ranked
    WHERE cf_rank <= 10
),
popular AS (
    SELECT
        item_ix,
        popularity / max(popularity) OVER () AS score,
        row_number() OVER (ORDER BY popularity DESC, item_ix ASC) AS popularity_rank
    FROM `eval_train_item_popularity`
    WHERE popularity > CAST(0 AS DOUBLE)
),
backfill AS (
    SELECT
        k.user_ix,
        p.item_ix,
        p.score
    FROM known_users AS k
    JOIN popular AS p
        ON p.popularity_rank <= k.n_seen + 20
    LEFT JOIN seen AS s
        ON s.user_ix = k.user_ix
        AND s.item_ix = p.item_ix
    LEFT JOIN cf_top AS t
        ON t.user_ix = k.user_ix
        AND t.item_ix = p.item_ix
    WHERE s.item_ix IS NULL
        AND t.item_ix IS NULL
),
candidates AS (
    SELECT
        user_ix,
        item_ix,
        score,
        source,
        reason_kind,
        reason_ix,
        0 AS tier
    FROM cf_top
    UNION ALL
    SELECT
        user_ix,
        item_ix,
        score,
        'popular' AS source,
        'popular' AS reason_kind,
        CAST(NULL AS INTEGER) AS reason_ix,
        1 AS tier
    FROM backfill
),
ranked AS (
    SELECT
        user_ix,
        item_ix,
        score,
        source,
        reason_kind,
        reason_ix,
        row_number() OVER (
            PARTITION BY user_ix
            ORDER BY tier ASC, score DESC, item_ix ASC
        ) AS list_rank
    FROM candidates
)
SELECT
    user_ix,
    CAST(list_rank AS BIGINT) AS `rank`,
    item_ix,
    score,
    source,
    reason_kind,
    reason_ix
FROM ranked
WHERE list_rank <= 10;
CACHE TABLE `eval_cf_recommendations_blend` OPTIONS ('storageLevel' 'MEMORY_AND_DISK');
CREATE OR REPLACE TEMPORARY VIEW `eval_recommendations_blend` AS
-- eval_recommendations_blend: one row per (user_id, rank): eval_cf_recommendations_blend with the original ids and a readable reason.
SELECT
    u.user_id,
    r.`rank`,
    i.item_id,
    r.score,
    r.source,
    CASE r.reason_kind
        WHEN 'item' THEN concat_ws('', 'similar to item ', reason_item.item_id)
        WHEN 'user' THEN concat_ws('', 'liked by similar user ', reason_user.user_id)
        ELSE 'popular'
    END AS reason,
    -- The reason's id in its own typed column, so pseudonymisation can treat user ids and leave items alone.
    reason_item.item_id AS reason_item_id,
    reason_user.user_id AS reason_user_id
FROM (
    SELECT
        user_ix,
        `rank`,
        item_ix,
        score,
        source,
        reason_kind,
        -- Typed reason numbers, so the id look-ups below are plain equality joins.
        CASE WHEN reason_kind = 'item' THEN reason_ix END AS reason_item_ix,
        CASE WHEN reason_kind = 'user' THEN reason_ix END AS reason_user_ix
    FROM `eval_cf_recommendations_blend`
) AS r
JOIN `eval_train_cf_users` AS u
    ON u.user_ix = r.user_ix
JOIN `eval_train_cf_items` AS i
    ON i.item_ix = r.item_ix
LEFT JOIN `eval_train_cf_items` AS reason_item
    ON reason_item.item_ix = r.reason_item_ix
LEFT JOIN `eval_train_cf_users` AS reason_user
    ON reason_user.user_ix = r.reason_user_ix;
CACHE TABLE `eval_recommendations_blend` OPTIONS ('storageLevel' 'MEMORY_AND_DISK');

-- ===== stage eval_relevant: one row per held-out (user_id, item_id) of every test user, with or without training history
-- reads: eval_test_events, eval_train_affinity
CREATE OR REPLACE TEMPORARY VIEW `eval_relevant` AS
-- eval_relevant: one row per held-out (user_id, item_id), of every test user (those without training history included),
-- leaving out items the user already had in training (eval_train_affinity; seen items are never recommended).
SELECT
    t.user_id,
    t.item_id
FROM `eval_test_events` AS t
LEFT JOIN `eval_train_affinity` AS seen
    ON seen.user_id = t.user_id
    AND seen.item_id = t.item_id
WHERE seen.item_id IS NULL;
CACHE TABLE `eval_relevant` OPTIONS ('storageLevel' 'MEMORY_AND_DISK');

-- ===== stage eval_metrics: one row per recommender source: precision, recall, nDCG, MAP, hit rate at K, coverage and popularity bias
-- reads: eval_relevant, eval_test_events, eval_train_clean_events, eval_train_affinity, eval_train_item_popularity, eval_recommendations_popular, eval_recommendations_item, eval_recommendations_user, eval_recommendations_blend
CREATE OR REPLACE TEMPORARY VIEW `eval_metrics` AS
-- eval_metrics: one row per recommender source, metrics at K = 10 averaged over test users (users with a row in eval_relevant);
-- users without training history (cold_users) are scored on the popularity back-fill list, in each list that back-fills.
-- precision = hits / K; recall = hits / |relevant|; nDCG = DCG / ideal DCG with gain 1 / log2(rank + 1);
-- AP = sum over hits of precision@rank / min(K, |relevant|); hit rate = share of users with a hit;
-- coverage = distinct recommended items / items in the train catalogue; mean popularity = mean train users per item.
WITH relevant_counts AS (
    SELECT
        user_id,
        count(*) AS n_relevant
    FROM `eval_relevant`
    GROUP BY
        user_id
),
positions AS (
    SELECT
        ideal_rank
    FROM (VALUES (1), (2), (3), (4), (5), (6), (7), (8), (9), (10)) AS p(ideal_rank)
),
cold_users AS (
    SELECT
        r.user_id
    FROM relevant_counts AS r
    LEFT JOIN (
        SELECT DISTINCT
            user_id
        FROM `eval_train_affinity`
    ) AS known
        ON known.user_id = r.user_id
    WHERE known.user_id IS NULL
),
popular AS (
    SELECT
        item_id,
        row_number() OVER (ORDER BY popularity DESC, item_ix ASC) AS list_rank
    FROM `eval_train_item_popularity`
    WHERE popularity > CAST(0 AS DOUBLE)
),
cold_lists AS (
    SELECT
        u.user_id,
        p.list_rank,
        p.item_id
    FROM cold_users AS u
    JOIN popular AS p
        ON p.list_rank <= 10
),
ideal AS (
    SELECT
        r.user_id,
        CASE WHEN count(CAST(CAST(0.6931471805599453 AS DOUBLE) / ln(CAST(p.ideal_rank + 1 AS DOUBLE)) AS DECIMAL(38, 18))) = count(CAST(0.6931471805599453 AS DOUBLE) / ln(CAST(p.ideal_rank + 1 AS DOUBLE))) AND (count(CAST(0.6931471805599453 AS DOUBLE) / ln(CAST(p.ideal_rank + 1 AS DOUBLE))) = 0 OR sum(CAST(CAST(0.6931471805599453 AS DOUBLE) / ln(CAST(p.ideal_rank + 1 AS DOUBLE)) AS DECIMAL(38, 18))) IS NOT NULL) THEN CAST(sum(CAST(CAST(0.6931471805599453 AS DOUBLE) / ln(CAST(p.ideal_rank + 1 AS DOUBLE)) AS DECIMAL(38, 18))) AS DOUBLE) ELSE CAST(raise_error('SparkReco ExactSum: a term or the total is not finite or not below 1e20 in magnitude (DECIMAL(38, 18))') AS DOUBLE) END AS idcg
    FROM relevant_counts AS r
    JOIN positions AS p
        ON p.ideal_rank <= r.n_relevant
    GROUP BY
        r.user_id
),
lists AS (
    SELECT
        'popular' AS source,
        user_id,
        `rank` AS list_rank,
        item_id
    FROM `eval_recommendations_popular`
    WHERE `rank` <= 10
    UNION ALL
SELECT
        'popular' AS source,
        user_id,
        list_rank,
        item_id
    FROM cold_lists
    UNION ALL
SELECT
        'item' AS source,
        user_id,
        `rank` AS list_rank,
        item_id
    FROM `eval_recommendations_item`
    WHERE `rank` <= 10
    UNION ALL
SELECT
        'item' AS source,
        user_id,
        list_rank,
        item_id
    FROM cold_lists
    UNION ALL
SELECT
        'user' AS source,
        user_id,
        `rank` AS list_rank,
        item_id
    FROM `eval_recommendations_user`
    WHERE `rank` <= 10
    UNION ALL
SELECT
        'user' AS source,
        user_id,
        list_rank,
        item_id
    FROM cold_lists
    UNION ALL
SELECT
        'blend' AS source,
        user_id,
        `rank` AS list_rank,
        item_id
    FROM `eval_recommendations_blend`
    WHERE `rank` <= 10
    UNION ALL
SELECT
        'blend' AS source,
        user_id,
        list_rank,
        item_id
    FROM cold_lists
),
judged AS (
    SELECT
        l.source,
        l.user_id,
        l.list_rank,
        l.item_id,
        CASE WHEN r.item_id IS NULL THEN 0 ELSE 1 END AS is_hit
    FROM lists AS l
    JOIN relevant_counts AS u
        ON u.user_id = l.user_id
    LEFT JOIN `eval_relevant` AS r
        ON r.user_id = l.user_id
        AND r.item_id = l.item_id
),
cumulative AS (
    SELECT
        source,
        user_id,
        list_rank,
        is_hit,
        sum(is_hit) OVER (
            PARTITION BY source, user_id
            ORDER BY list_rank
            ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW
        ) AS hits_so_far
    FROM judged
),
per_list AS (
    SELECT
        source,
        user_id,
        sum(is_hit) AS hits,
        CASE WHEN count(CAST(CASE WHEN is_hit = 1 THEN CAST(0.6931471805599453 AS DOUBLE) / ln(CAST(list_rank + 1 AS DOUBLE)) ELSE CAST(0 AS DOUBLE) END AS DECIMAL(38, 18))) = count(CASE WHEN is_hit = 1 THEN CAST(0.6931471805599453 AS DOUBLE) / ln(CAST(list_rank + 1 AS DOUBLE)) ELSE CAST(0 AS DOUBLE) END) AND (count(CASE WHEN is_hit = 1 THEN CAST(0.6931471805599453 AS DOUBLE) / ln(CAST(list_rank + 1 AS DOUBLE)) ELSE CAST(0 AS DOUBLE) END) = 0 OR sum(CAST(CASE WHEN is_hit = 1 THEN CAST(0.6931471805599453 AS DOUBLE) / ln(CAST(list_rank + 1 AS DOUBLE)) ELSE CAST(0 AS DOUBLE) END AS DECIMAL(38, 18))) IS NOT NULL) THEN CAST(sum(CAST(CASE WHEN is_hit = 1 THEN CAST(0.6931471805599453 AS DOUBLE) / ln(CAST(list_rank + 1 AS DOUBLE)) ELSE CAST(0 AS DOUBLE) END AS DECIMAL(38, 18))) AS DOUBLE) ELSE CAST(raise_error('SparkReco ExactSum: a term or the total is not finite or not below 1e20 in magnitude (DECIMAL(38, 18))') AS DOUBLE) END AS dcg,
        CASE WHEN count(CAST(CASE WHEN is_hit = 1 THEN CAST(hits_so_far AS DOUBLE) / CAST(list_rank AS DOUBLE) ELSE CAST(0 AS DOUBLE) END AS DECIMAL(38, 18))) = count(CASE WHEN is_hit = 1 THEN CAST(hits_so_far AS DOUBLE) / CAST(list_rank AS DOUBLE) ELSE CAST(0 AS DOUBLE) END) AND (count(CASE WHEN is_hit = 1 THEN CAST(hits_so_far AS DOUBLE) / CAST(list_rank AS DOUBLE) ELSE CAST(0 AS DOUBLE) END) = 0 OR sum(CAST(CASE WHEN is_hit = 1 THEN CAST(hits_so_far AS DOUBLE) / CAST(list_rank AS DOUBLE) ELSE CAST(0 AS DOUBLE) END AS DECIMAL(38, 18))) IS NOT NULL) THEN CAST(sum(CAST(CASE WHEN is_hit = 1 THEN CAST(hits_so_far AS DOUBLE) / CAST(list_rank AS DOUBLE) ELSE CAST(0 AS DOUBLE) END AS DECIMAL(38, 18))) AS DOUBLE) ELSE CAST(raise_error('SparkReco ExactSum: a term or the total is not finite or not below 1e20 in magnitude (DECIMAL(38, 18))') AS DOUBLE) END AS precision_sum
    FROM cumulative
    GROUP BY
        source,
        user_id
),
sources AS (
    SELECT 'popular' AS source
    UNION ALL
    SELECT 'item' AS source
    UNION ALL
    SELECT 'user' AS source
    UNION ALL
    SELECT 'blend' AS source
),
per_user AS (
    SELECT
        s.source,
        r.user_id,
        CAST(coalesce(p.hits, 0) AS DOUBLE) / CAST(10 AS DOUBLE) AS precision_at_k,
        CAST(coalesce(p.hits, 0) AS DOUBLE) / CAST(r.n_relevant AS DOUBLE) AS recall_at_k,
        coalesce(p.dcg, CAST(0 AS DOUBLE)) / i.idcg AS ndcg_at_k,
        coalesce(p.precision_sum, CAST(0 AS DOUBLE)) / CAST(least(r.n_relevant, 10) AS DOUBLE) AS map_at_k,
        CASE WHEN coalesce(p.hits, 0) > 0 THEN CAST(1 AS DOUBLE) ELSE CAST(0 AS DOUBLE) END AS hit_rate_at_k
    FROM sources AS s
    CROSS JOIN relevant_counts AS r
    JOIN ideal AS i
        ON i.user_id = r.user_id
    LEFT JOIN per_list AS p
        ON p.source = s.source
        AND p.user_id = r.user_id
),
reach AS (
    SELECT
        j.source,
        count(DISTINCT j.item_id) AS items_recommended,
        CASE WHEN count(CAST(CAST(p.users AS DOUBLE) AS DECIMAL(38, 18))) = count(CAST(p.users AS DOUBLE)) AND (count(CAST(p.users AS DOUBLE)) = 0 OR sum(CAST(CAST(p.users AS DOUBLE) AS DECIMAL(38, 18))) IS NOT NULL) THEN CAST(sum(CAST(CAST(p.users AS DOUBLE) AS DECIMAL(38, 18))) AS DOUBLE) ELSE CAST(raise_error('SparkReco ExactSum: a term or the total is not finite or not below 1e20 in magnitude (DECIMAL(38, 18))') AS DOUBLE) END / CAST(count(*) AS DOUBLE) AS mean_popularity
    FROM judged AS j
    LEFT JOIN `eval_train_item_popularity` AS p
        ON p.item_id = j.item_id
    GROUP BY
        j.source
),
catalogue AS (
    SELECT
        count(*) AS n_items
    FROM `eval_train_item_popularity`
),
history AS (
    SELECT
        CASE WHEN count(CAST(CAST(p.users AS DOUBLE) AS DECIMAL(38, 18))) = count(CAST(p.users AS DOUBLE)) AND (count(CAST(p.users AS DOUBLE)) = 0 OR sum(CAST(CAST(p.users AS DOUBLE) AS DECIMAL(38, 18))) IS NOT NULL) THEN CAST(sum(CAST(CAST(p.users AS DOUBLE) AS DECIMAL(38, 18))) AS DOUBLE) ELSE CAST(raise_error('SparkReco ExactSum: a term or the total is not finite or not below 1e20 in magnitude (DECIMAL(38, 18))') AS DOUBLE) END / CAST(count(*) AS DOUBLE) AS history_mean_popularity
    FROM `eval_train_affinity` AS a
    JOIN relevant_counts AS r
        ON r.user_id = a.user_id
    JOIN `eval_train_item_popularity` AS p
        ON p.item_id = a.item_id
)
SELECT
    u.source,
    count(*) AS users,
    CASE WHEN count(CAST(u.precision_at_k AS DECIMAL(38, 18))) = count(u.precision_at_k) AND (count(u.precision_at_k) = 0 OR sum(CAST(u.precision_at_k AS DECIMAL(38, 18))) IS NOT NULL) THEN CAST(sum(CAST(u.precision_at_k AS DECIMAL(38, 18))) AS DOUBLE) ELSE CAST(raise_error('SparkReco ExactSum: a term or the total is not finite or not below 1e20 in magnitude (DECIMAL(38, 18))') AS DOUBLE) END / CAST(count(*) AS DOUBLE) AS precision_at_k,
    CASE WHEN count(CAST(u.recall_at_k AS DECIMAL(38, 18))) = count(u.recall_at_k) AND (count(u.recall_at_k) = 0 OR sum(CAST(u.recall_at_k AS DECIMAL(38, 18))) IS NOT NULL) THEN CAST(sum(CAST(u.recall_at_k AS DECIMAL(38, 18))) AS DOUBLE) ELSE CAST(raise_error('SparkReco ExactSum: a term or the total is not finite or not below 1e20 in magnitude (DECIMAL(38, 18))') AS DOUBLE) END / CAST(count(*) AS DOUBLE) AS recall_at_k,
    CASE WHEN count(CAST(u.ndcg_at_k AS DECIMAL(38, 18))) = count(u.ndcg_at_k) AND (count(u.ndcg_at_k) = 0 OR sum(CAST(u.ndcg_at_k AS DECIMAL(38, 18))) IS NOT NULL) THEN CAST(sum(CAST(u.ndcg_at_k AS DECIMAL(38, 18))) AS DOUBLE) ELSE CAST(raise_error('SparkReco ExactSum: a term or the total is not finite or not below 1e20 in magnitude (DECIMAL(38, 18))') AS DOUBLE) END / CAST(count(*) AS DOUBLE) AS ndcg_at_k,
    CASE WHEN count(CAST(u.map_at_k AS DECIMAL(38, 18))) = count(u.map_at_k) AND (count(u.map_at_k) = 0 OR sum(CAST(u.map_at_k AS DECIMAL(38, 18))) IS NOT NULL) THEN CAST(sum(CAST(u.map_at_k AS DECIMAL(38, 18))) AS DOUBLE) ELSE CAST(raise_error('SparkReco ExactSum: a term or the total is not finite or not below 1e20 in magnitude (DECIMAL(38, 18))') AS DOUBLE) END / CAST(count(*) AS DOUBLE) AS map_at_k,
    CASE WHEN count(CAST(u.hit_rate_at_k AS DECIMAL(38, 18))) = count(u.hit_rate_at_k) AND (count(u.hit_rate_at_k) = 0 OR sum(CAST(u.hit_rate_at_k AS DECIMAL(38, 18))) IS NOT NULL) THEN CAST(sum(CAST(u.hit_rate_at_k AS DECIMAL(38, 18))) AS DOUBLE) ELSE CAST(raise_error('SparkReco ExactSum: a term or the total is not finite or not below 1e20 in magnitude (DECIMAL(38, 18))') AS DOUBLE) END / CAST(count(*) AS DOUBLE) AS hit_rate_at_k,
    CAST(coalesce(max(x.items_recommended), 0) AS DOUBLE) / CAST(max(cat.n_items) AS DOUBLE) AS coverage_at_k,
    coalesce(max(x.mean_popularity), CAST(0 AS DOUBLE)) AS mean_popularity,
    max(h.history_mean_popularity) AS history_mean_popularity
FROM per_user AS u
LEFT JOIN reach AS x
    ON x.source = u.source
CROSS JOIN catalogue AS cat
CROSS JOIN history AS h
GROUP BY
    u.source;
CACHE TABLE `eval_metrics` OPTIONS ('storageLevel' 'MEMORY_AND_DISK');
-- evaluation facts: sizes of the split and of the test population
SELECT
    (SELECT count(*) FROM `eval_train_clean_events`) AS train_events,
    (SELECT count(*) FROM `eval_test_events`) AS test_pairs,
    (SELECT count(DISTINCT user_id) FROM `eval_test_events`) AS test_users_all,
    (SELECT count(DISTINCT user_id) FROM `eval_relevant`) AS test_users,
    (
        SELECT
            count(DISTINCT r.user_id)
        FROM `eval_relevant` AS r
        LEFT JOIN `eval_train_affinity` AS a
            ON a.user_id = r.user_id
        WHERE a.user_id IS NULL
    ) AS cold_test_users,
    (SELECT count(*) FROM `eval_relevant`) AS relevant_pairs,
    (SELECT count(*) FROM `eval_train_item_popularity`) AS catalogue_items;
SELECT * FROM `eval_metrics`;

-- ===== stage user_features: one row per user: activity, recency, category mix and follow-graph features (DOUBLE)
-- reads: clean_events
-- categories are discovered first (the cat00… columns follow this order):
-- the most engaged item categories (ties by name): each gets a share feature
SELECT
    ic.category,
    count(*) AS events
FROM `clean_events` AS e
JOIN (
    SELECT
        item_id,
        min(category) AS category
    FROM `items_source`
    WHERE category IS NOT NULL
    GROUP BY item_id
) AS ic
    ON ic.item_id = e.item_id
GROUP BY ic.category
ORDER BY events DESC, ic.category
LIMIT 30;
CREATE OR REPLACE TEMPORARY VIEW `user_features` AS
-- user_features: one row per user with events up to 2026-11-01T00:00:00Z; every feature a DOUBLE measured at that time.
-- Columns are generated names (ev00 = event type, cat00 = category); the mapping is in the manifest.
WITH events AS (
    SELECT
        e.user_id,
        e.event_type,
        e.event_time,
        ic.category AS category,
        power(CAST(0.5 AS DOUBLE), (CAST(1793491200 AS DOUBLE) - CAST(unix_micros(e.event_time) AS DOUBLE) / CAST(1000000 AS DOUBLE)) / CAST(2592000 AS DOUBLE)) AS decay,
        CASE WHEN hour(e.event_time) >= 18 THEN 1 ELSE 0 END AS is_evening
    FROM `clean_events` AS e
    LEFT JOIN (
        SELECT
            item_id,
            min(category) AS category
        FROM `items_source`
        WHERE category IS NOT NULL
        GROUP BY item_id
    ) AS ic
        ON ic.item_id = e.item_id
    WHERE e.event_time <= TIMESTAMP '2026-11-01 00:00:00.000000'
),
activity AS (
    SELECT
        user_id,
        count(*) AS n_events,
        sum(CASE WHEN event_type = 'comment' THEN 1 ELSE 0 END) AS n_ev00,
        CASE WHEN count(CAST(CASE WHEN event_type = 'comment' THEN decay ELSE CAST(0 AS DOUBLE) END AS DECIMAL(38, 18))) = count(CASE WHEN event_type = 'comment' THEN decay ELSE CAST(0 AS DOUBLE) END) AND (count(CASE WHEN event_type = 'comment' THEN decay ELSE CAST(0 AS DOUBLE) END) = 0 OR sum(CAST(CASE WHEN event_type = 'comment' THEN decay ELSE CAST(0 AS DOUBLE) END AS DECIMAL(38, 18))) IS NOT NULL) THEN CAST(sum(CAST(CASE WHEN event_type = 'comment' THEN decay ELSE CAST(0 AS DOUBLE) END AS DECIMAL(38, 18))) AS DOUBLE) ELSE CAST(raise_error('SparkReco ExactSum: a term or the total is not finite or not below 1e20 in magnitude (DECIMAL(38, 18))') AS DOUBLE) END AS d_ev00,
        sum(CASE WHEN event_type = 'like' THEN 1 ELSE 0 END) AS n_ev01,
        CASE WHEN count(CAST(CASE WHEN event_type = 'like' THEN decay ELSE CAST(0 AS DOUBLE) END AS DECIMAL(38, 18))) = count(CASE WHEN event_type = 'like' THEN decay ELSE CAST(0 AS DOUBLE) END) AND (count(CASE WHEN event_type = 'like' THEN decay ELSE CAST(0 AS DOUBLE) END) = 0 OR sum(CAST(CASE WHEN event_type = 'like' THEN decay ELSE CAST(0 AS DOUBLE) END AS DECIMAL(38, 18))) IS NOT NULL) THEN CAST(sum(CAST(CASE WHEN event_type = 'like' THEN decay ELSE CAST(0 AS DOUBLE) END AS DECIMAL(38, 18))) AS DOUBLE) ELSE CAST(raise_error('SparkReco ExactSum: a term or the total is not finite or not below 1e20 in magnitude (DECIMAL(38, 18))') AS DOUBLE) END AS d_ev01,
        sum(CASE WHEN event_type = 'share' THEN 1 ELSE 0 END) AS n_ev02,
        CASE WHEN count(CAST(CASE WHEN event_type = 'share' THEN decay ELSE CAST(0 AS DOUBLE) END AS DECIMAL(38, 18))) = count(CASE WHEN event_type = 'share' THEN decay ELSE CAST(0 AS DOUBLE) END) AND (count(CASE WHEN event_type = 'share' THEN decay ELSE CAST(0 AS DOUBLE) END) = 0 OR sum(CAST(CASE WHEN event_type = 'share' THEN decay ELSE CAST(0 AS DOUBLE) END AS DECIMAL(38, 18))) IS NOT NULL) THEN CAST(sum(CAST(CASE WHEN event_type = 'share' THEN decay ELSE CAST(0 AS DOUBLE) END AS DECIMAL(38, 18))) AS DOUBLE) ELSE CAST(raise_error('SparkReco ExactSum: a term or the total is not finite or not below 1e20 in magnitude (DECIMAL(38, 18))') AS DOUBLE) END AS d_ev02,
        sum(CASE WHEN event_type = 'view' THEN 1 ELSE 0 END) AS n_ev03,
        CASE WHEN count(CAST(CASE WHEN event_type = 'view' THEN decay ELSE CAST(0 AS DOUBLE) END AS DECIMAL(38, 18))) = count(CASE WHEN event_type = 'view' THEN decay ELSE CAST(0 AS DOUBLE) END) AND (count(CASE WHEN event_type = 'view' THEN decay ELSE CAST(0 AS DOUBLE) END) = 0 OR sum(CAST(CASE WHEN event_type = 'view' THEN decay ELSE CAST(0 AS DOUBLE) END AS DECIMAL(38, 18))) IS NOT NULL) THEN CAST(sum(CAST(CASE WHEN event_type = 'view' THEN decay ELSE CAST(0 AS DOUBLE) END AS DECIMAL(38, 18))) AS DOUBLE) ELSE CAST(raise_error('SparkReco ExactSum: a term or the total is not finite or not below 1e20 in magnitude (DECIMAL(38, 18))') AS DOUBLE) END AS d_ev03,
        count(DISTINCT CAST(event_time AS DATE)) AS active_days,
        max(CAST(unix_micros(event_time) AS DOUBLE) / CAST(1000000 AS DOUBLE)) AS last_seconds,
        sum(is_evening) AS n_evening,
        sum(CASE WHEN category = '<category 1>' THEN 1 ELSE 0 END) AS n_cat00,
        sum(CASE WHEN category = '<category 2>' THEN 1 ELSE 0 END) AS n_cat01,
        count(DISTINCT category) AS n_categories
    FROM events
    GROUP BY user_id
),
category_mix AS (
    SELECT
        user_id,
        category,
        count(*) AS n
    FROM events
    WHERE category IS NOT NULL
    GROUP BY
        user_id,
        category
),
diversity AS (
    SELECT
        user_id,
        -CASE WHEN count(CAST(p * ln(p) AS DECIMAL(38, 18))) = count(p * ln(p)) AND (count(p * ln(p)) = 0 OR sum(CAST(p * ln(p) AS DECIMAL(38, 18))) IS NOT NULL) THEN CAST(sum(CAST(p * ln(p) AS DECIMAL(38, 18))) AS DOUBLE) ELSE CAST(raise_error('SparkReco ExactSum: a term or the total is not finite or not below 1e20 in magnitude (DECIMAL(38, 18))') AS DOUBLE) END AS entropy
    FROM (
        SELECT
            user_id,
            CAST(n AS DOUBLE) / CAST(sum(n) OVER (PARTITION BY user_id) AS DOUBLE) AS p
        FROM category_mix
    ) AS shares
    GROUP BY user_id
),
followers AS (
    SELECT
        followee_id AS user_id,
        count(DISTINCT follower_id) AS n
    FROM `follows_source`
    GROUP BY followee_id
),
followees AS (
    SELECT
        follower_id AS user_id,
        count(DISTINCT followee_id) AS n
    FROM `follows_source`
    GROUP BY follower_id
)
SELECT
    a.user_id,
    ln(CAST(1 AS DOUBLE) + CAST(a.n_events AS DOUBLE)) AS log_events,
    ln(CAST(1 AS DOUBLE) + CAST(a.n_ev00 AS DOUBLE)) AS ev00_log_count,
    ln(CAST(1 AS DOUBLE) + CAST(a.d_ev00 AS DOUBLE)) AS ev00_log_decayed,
    CAST(a.n_ev00 AS DOUBLE) / CAST(a.n_events AS DOUBLE) AS ev00_share,
    ln(CAST(1 AS DOUBLE) + CAST(a.n_ev01 AS DOUBLE)) AS ev01_log_count,
    ln(CAST(1 AS DOUBLE) + CAST(a.d_ev01 AS DOUBLE)) AS ev01_log_decayed,
    CAST(a.n_ev01 AS DOUBLE) / CAST(a.n_events AS DOUBLE) AS ev01_share,
    ln(CAST(1 AS DOUBLE) + CAST(a.n_ev02 AS DOUBLE)) AS ev02_log_count,
    ln(CAST(1 AS DOUBLE) + CAST(a.d_ev02 AS DOUBLE)) AS ev02_log_decayed,
    CAST(a.n_ev02 AS DOUBLE) / CAST(a.n_events AS DOUBLE) AS ev02_share,
    ln(CAST(1 AS DOUBLE) + CAST(a.n_ev03 AS DOUBLE)) AS ev03_log_count,
    ln(CAST(1 AS DOUBLE) + CAST(a.d_ev03 AS DOUBLE)) AS ev03_log_decayed,
    CAST(a.n_ev03 AS DOUBLE) / CAST(a.n_events AS DOUBLE) AS ev03_share,
    (CAST(1793491200 AS DOUBLE) - a.last_seconds) / CAST(86400 AS DOUBLE) AS recency_days,
    ln(CAST(1 AS DOUBLE) + CAST(a.active_days AS DOUBLE)) AS log_active_days,
    CAST(a.n_evening AS DOUBLE) / CAST(a.n_events AS DOUBLE) AS evening_share,
    CAST(a.n_cat00 AS DOUBLE) / CAST(a.n_events AS DOUBLE) AS cat00_share,
    CAST(a.n_cat01 AS DOUBLE) / CAST(a.n_events AS DOUBLE) AS cat01_share,
    coalesce(dv.entropy, CAST(0 AS DOUBLE)) AS category_entropy,
    CAST(a.n_categories AS DOUBLE) AS category_count,
    ln(CAST(1 AS DOUBLE) + CAST(coalesce(fr.n, 0) AS DOUBLE)) AS log_followers,
    ln(CAST(1 AS DOUBLE) + CAST(coalesce(fe.n, 0) AS DOUBLE)) AS log_followees
FROM activity AS a
LEFT JOIN diversity AS dv
    ON dv.user_id = a.user_id
LEFT JOIN followers AS fr
    ON fr.user_id = a.user_id
LEFT JOIN followees AS fe
    ON fe.user_id = a.user_id;
CACHE TABLE `user_features` OPTIONS ('storageLevel' 'MEMORY_AND_DISK');

-- ===== stage segments: one row per user: segment id (0-based) and probability (Segments:Model=mixture: the posterior of that segment) or distance (kmeans: Euclidean, to its centroid in standardised feature space)
-- reads: user_features; published
-- mixture sample: the first users by md5(user_id), their counts per category (x0…x2: the feature categories, then the rest) and per event type
SELECT *
FROM (
    SELECT
        user_id,
        round(n * `cat00_share`) AS x0,
        round(n * `cat01_share`) AS x1,
        n - (round(n * `cat00_share`) + round(n * `cat01_share`)) AS x2,
        round(n * `ev00_share`) AS x3,
        round(n * `ev01_share`) AS x4,
        round(n * `ev02_share`) AS x5,
        round(n * `ev03_share`) AS x6
    FROM (
        SELECT
            *,
            round(exp(`log_events`) - CAST(1 AS DOUBLE)) AS n
        FROM `user_features`
    ) AS f
) AS counts
ORDER BY
    md5(user_id),
    user_id
LIMIT 20000;
-- on the driver: mixture of multinomials on the sample: k from Segments:K, else the lowest ICL in [MinK, MaxK];
-- register driver-made table segment_mixture (segment BIGINT, log_prior DOUBLE, w0 DOUBLE, w1 DOUBLE, w2 DOUBLE, w3 DOUBLE, w4 DOUBLE, w5 DOUBLE, w6 DOUBLE) as rows: one row per segment: ln of its prior and ln θ per count column w{d} (none when the sample is empty);
CREATE OR REPLACE TEMPORARY VIEW `segments` AS
-- segments: one row per user; the segment of segment_mixture with the highest ln prior + Σ count · ln θ (ties to the lowest id), and its posterior probability (an exact sum, so reruns agree to the bit).
WITH counts AS (
    SELECT
        user_id,
        round(n * `cat00_share`) AS x0,
        round(n * `cat01_share`) AS x1,
        n - (round(n * `cat00_share`) + round(n * `cat01_share`)) AS x2,
        round(n * `ev00_share`) AS x3,
        round(n * `ev01_share`) AS x4,
        round(n * `ev02_share`) AS x5,
        round(n * `ev03_share`) AS x6
    FROM (
        SELECT
            *,
            round(exp(`log_events`) - CAST(1 AS DOUBLE)) AS n
        FROM `user_features`
    ) AS f
),
scores AS (
    SELECT
        x.user_id,
        m.segment,
        m.log_prior
            + x.x0 * m.w0
            + x.x1 * m.w1
            + x.x2 * m.w2
            + x.x3 * m.w3
            + x.x4 * m.w4
            + x.x5 * m.w5
            + x.x6 * m.w6 AS score
    FROM counts AS x
    CROSS JOIN `segment_mixture` AS m
),
scored AS (
    SELECT
        user_id,
        segment,
        score,
        max(score) OVER (PARTITION BY user_id) AS top
    FROM scores
)
SELECT
    user_id,
    min(named_struct('v', -(score), 'k', segment)).k AS segment,
    CAST(1 AS DOUBLE) / CASE WHEN count(CAST(exp(score - top) AS DECIMAL(38, 18))) = count(exp(score - top)) AND (count(exp(score - top)) = 0 OR sum(CAST(exp(score - top) AS DECIMAL(38, 18))) IS NOT NULL) THEN CAST(sum(CAST(exp(score - top) AS DECIMAL(38, 18))) AS DOUBLE) ELSE CAST(raise_error('SparkReco ExactSum: a term or the total is not finite or not below 1e20 in magnitude (DECIMAL(38, 18))') AS DOUBLE) END AS probability
FROM scored
GROUP BY
    user_id;
CACHE TABLE `segments` OPTIONS ('storageLevel' 'MEMORY_AND_DISK');
-- segments self-check: the sample users' assigned segments, in sample order
SELECT
    user_id,
    segment
FROM `segments`
ORDER BY
    md5(user_id),
    user_id
LIMIT 20000;

-- ===== stage segment_profiles: one row per reported segment (−1 = small segments merged): size, event mix, lifts, mean features, label
-- reads: segments, user_features, clean_events, affinity; published
-- segment sizes
SELECT
    segment,
    count(*) AS users
FROM `segments`
GROUP BY segment
ORDER BY segment;
-- register driver-made table segment_groups (segment BIGINT, grp BIGINT) as rows: one row per segment: the group it is reported in, its own id or -1 when it has fewer than Privacy:KAnonymity users;
-- mean features per reported segment
SELECT
    g.grp,
    count(*) AS users,
    CASE WHEN count(CAST(f.`log_events` AS DECIMAL(38, 18))) = count(f.`log_events`) AND (count(f.`log_events`) = 0 OR sum(CAST(f.`log_events` AS DECIMAL(38, 18))) IS NOT NULL) THEN CAST(sum(CAST(f.`log_events` AS DECIMAL(38, 18))) AS DOUBLE) ELSE CAST(raise_error('SparkReco ExactSum: a term or the total is not finite or not below 1e20 in magnitude (DECIMAL(38, 18))') AS DOUBLE) END / CAST(nullif(count(f.`log_events`), 0) AS DOUBLE) AS f0,
    CASE WHEN count(CAST(f.`ev00_log_count` AS DECIMAL(38, 18))) = count(f.`ev00_log_count`) AND (count(f.`ev00_log_count`) = 0 OR sum(CAST(f.`ev00_log_count` AS DECIMAL(38, 18))) IS NOT NULL) THEN CAST(sum(CAST(f.`ev00_log_count` AS DECIMAL(38, 18))) AS DOUBLE) ELSE CAST(raise_error('SparkReco ExactSum: a term or the total is not finite or not below 1e20 in magnitude (DECIMAL(38, 18))') AS DOUBLE) END / CAST(nullif(count(f.`ev00_log_count`), 0) AS DOUBLE) AS f1,
    CASE WHEN count(CAST(f.`ev00_log_decayed` AS DECIMAL(38, 18))) = count(f.`ev00_log_decayed`) AND (count(f.`ev00_log_decayed`) = 0 OR sum(CAST(f.`ev00_log_decayed` AS DECIMAL(38, 18))) IS NOT NULL) THEN CAST(sum(CAST(f.`ev00_log_decayed` AS DECIMAL(38, 18))) AS DOUBLE) ELSE CAST(raise_error('SparkReco ExactSum: a term or the total is not finite or not below 1e20 in magnitude (DECIMAL(38, 18))') AS DOUBLE) END / CAST(nullif(count(f.`ev00_log_decayed`), 0) AS DOUBLE) AS f2,
    CASE WHEN count(CAST(f.`ev00_share` AS DECIMAL(38, 18))) = count(f.`ev00_share`) AND (count(f.`ev00_share`) = 0 OR sum(CAST(f.`ev00_share` AS DECIMAL(38, 18))) IS NOT NULL) THEN CAST(sum(CAST(f.`ev00_share` AS DECIMAL(38, 18))) AS DOUBLE) ELSE CAST(raise_error('SparkReco ExactSum: a term or the total is not finite or not below 1e20 in magnitude (DECIMAL(38, 18))') AS DOUBLE) END / CAST(nullif(count(f.`ev00_share`), 0) AS DOUBLE) AS f3,
    CASE WHEN count(CAST(f.`ev01_log_count` AS DECIMAL(38, 18))) = count(f.`ev01_log_count`) AND (count(f.`ev01_log_count`) = 0 OR sum(CAST(f.`ev01_log_count` AS DECIMAL(38, 18))) IS NOT NULL) THEN CAST(sum(CAST(f.`ev01_log_count` AS DECIMAL(38, 18))) AS DOUBLE) ELSE CAST(raise_error('SparkReco ExactSum: a term or the total is not finite or not below 1e20 in magnitude (DECIMAL(38, 18))') AS DOUBLE) END / CAST(nullif(count(f.`ev01_log_count`), 0) AS DOUBLE) AS f4,
    CASE WHEN count(CAST(f.`ev01_log_decayed` AS DECIMAL(38, 18))) = count(f.`ev01_log_decayed`) AND (count(f.`ev01_log_decayed`) = 0 OR sum(CAST(f.`ev01_log_decayed` AS DECIMAL(38, 18))) IS NOT NULL) THEN CAST(sum(CAST(f.`ev01_log_decayed` AS DECIMAL(38, 18))) AS DOUBLE) ELSE CAST(raise_error('SparkReco ExactSum: a term or the total is not finite or not below 1e20 in magnitude (DECIMAL(38, 18))') AS DOUBLE) END / CAST(nullif(count(f.`ev01_log_decayed`), 0) AS DOUBLE) AS f5,
    CASE WHEN count(CAST(f.`ev01_share` AS DECIMAL(38, 18))) = count(f.`ev01_share`) AND (count(f.`ev01_share`) = 0 OR sum(CAST(f.`ev01_share` AS DECIMAL(38, 18))) IS NOT NULL) THEN CAST(sum(CAST(f.`ev01_share` AS DECIMAL(38, 18))) AS DOUBLE) ELSE CAST(raise_error('SparkReco ExactSum: a term or the total is not finite or not below 1e20 in magnitude (DECIMAL(38, 18))') AS DOUBLE) END / CAST(nullif(count(f.`ev01_share`), 0) AS DOUBLE) AS f6,
    CASE WHEN count(CAST(f.`ev02_log_count` AS DECIMAL(38, 18))) = count(f.`ev02_log_count`) AND (count(f.`ev02_log_count`) = 0 OR sum(CAST(f.`ev02_log_count` AS DECIMAL(38, 18))) IS NOT NULL) THEN CAST(sum(CAST(f.`ev02_log_count` AS DECIMAL(38, 18))) AS DOUBLE) ELSE CAST(raise_error('SparkReco ExactSum: a term or the total is not finite or not below 1e20 in magnitude (DECIMAL(38, 18))') AS DOUBLE) END / CAST(nullif(count(f.`ev02_log_count`), 0) AS DOUBLE) AS f7,
    CASE WHEN count(CAST(f.`ev02_log_decayed` AS DECIMAL(38, 18))) = count(f.`ev02_log_decayed`) AND (count(f.`ev02_log_decayed`) = 0 OR sum(CAST(f.`ev02_log_decayed` AS DECIMAL(38, 18))) IS NOT NULL) THEN CAST(sum(CAST(f.`ev02_log_decayed` AS DECIMAL(38, 18))) AS DOUBLE) ELSE CAST(raise_error('SparkReco ExactSum: a term or the total is not finite or not below 1e20 in magnitude (DECIMAL(38, 18))') AS DOUBLE) END / CAST(nullif(count(f.`ev02_log_decayed`), 0) AS DOUBLE) AS f8,
    CASE WHEN count(CAST(f.`ev02_share` AS DECIMAL(38, 18))) = count(f.`ev02_share`) AND (count(f.`ev02_share`) = 0 OR sum(CAST(f.`ev02_share` AS DECIMAL(38, 18))) IS NOT NULL) THEN CAST(sum(CAST(f.`ev02_share` AS DECIMAL(38, 18))) AS DOUBLE) ELSE CAST(raise_error('SparkReco ExactSum: a term or the total is not finite or not below 1e20 in magnitude (DECIMAL(38, 18))') AS DOUBLE) END / CAST(nullif(count(f.`ev02_share`), 0) AS DOUBLE) AS f9,
    CASE WHEN count(CAST(f.`ev03_log_count` AS DECIMAL(38, 18))) = count(f.`ev03_log_count`) AND (count(f.`ev03_log_count`) = 0 OR sum(CAST(f.`ev03_log_count` AS DECIMAL(38, 18))) IS NOT NULL) THEN CAST(sum(CAST(f.`ev03_log_count` AS DECIMAL(38, 18))) AS DOUBLE) ELSE CAST(raise_error('SparkReco ExactSum: a term or the total is not finite or not below 1e20 in magnitude (DECIMAL(38, 18))') AS DOUBLE) END / CAST(nullif(count(f.`ev03_log_count`), 0) AS DOUBLE) AS f10,
    CASE WHEN count(CAST(f.`ev03_log_decayed` AS DECIMAL(38, 18))) = count(f.`ev03_log_decayed`) AND (count(f.`ev03_log_decayed`) = 0 OR sum(CAST(f.`ev03_log_decayed` AS DECIMAL(38, 18))) IS NOT NULL) THEN CAST(sum(CAST(f.`ev03_log_decayed` AS DECIMAL(38, 18))) AS DOUBLE) ELSE CAST(raise_error('SparkReco ExactSum: a term or the total is not finite or not below 1e20 in magnitude (DECIMAL(38, 18))') AS DOUBLE) END / CAST(nullif(count(f.`ev03_log_decayed`), 0) AS DOUBLE) AS f11,
    CASE WHEN count(CAST(f.`ev03_share` AS DECIMAL(38, 18))) = count(f.`ev03_share`) AND (count(f.`ev03_share`) = 0 OR sum(CAST(f.`ev03_share` AS DECIMAL(38, 18))) IS NOT NULL) THEN CAST(sum(CAST(f.`ev03_share` AS DECIMAL(38, 18))) AS DOUBLE) ELSE CAST(raise_error('SparkReco ExactSum: a term or the total is not finite or not below 1e20 in magnitude (DECIMAL(38, 18))') AS DOUBLE) END / CAST(nullif(count(f.`ev03_share`), 0) AS DOUBLE) AS f12,
    CASE WHEN count(CAST(f.`recency_days` AS DECIMAL(38, 18))) = count(f.`recency_days`) AND (count(f.`recency_days`) = 0 OR sum(CAST(f.`recency_days` AS DECIMAL(38, 18))) IS NOT NULL) THEN CAST(sum(CAST(f.`recency_days` AS DECIMAL(38, 18))) AS DOUBLE) ELSE CAST(raise_error('SparkReco ExactSum: a term or the total is not finite or not below 1e20 in magnitude (DECIMAL(38, 18))') AS DOUBLE) END / CAST(nullif(count(f.`recency_days`), 0) AS DOUBLE) AS f13,
    CASE WHEN count(CAST(f.`log_active_days` AS DECIMAL(38, 18))) = count(f.`log_active_days`) AND (count(f.`log_active_days`) = 0 OR sum(CAST(f.`log_active_days` AS DECIMAL(38, 18))) IS NOT NULL) THEN CAST(sum(CAST(f.`log_active_days` AS DECIMAL(38, 18))) AS DOUBLE) ELSE CAST(raise_error('SparkReco ExactSum: a term or the total is not finite or not below 1e20 in magnitude (DECIMAL(38, 18))') AS DOUBLE) END / CAST(nullif(count(f.`log_active_days`), 0) AS DOUBLE) AS f14,
    CASE WHEN count(CAST(f.`evening_share` AS DECIMAL(38, 18))) = count(f.`evening_share`) AND (count(f.`evening_share`) = 0 OR sum(CAST(f.`evening_share` AS DECIMAL(38, 18))) IS NOT NULL) THEN CAST(sum(CAST(f.`evening_share` AS DECIMAL(38, 18))) AS DOUBLE) ELSE CAST(raise_error('SparkReco ExactSum: a term or the total is not finite or not below 1e20 in magnitude (DECIMAL(38, 18))') AS DOUBLE) END / CAST(nullif(count(f.`evening_share`), 0) AS DOUBLE) AS f15,
    CASE WHEN count(CAST(f.`cat00_share` AS DECIMAL(38, 18))) = count(f.`cat00_share`) AND (count(f.`cat00_share`) = 0 OR sum(CAST(f.`cat00_share` AS DECIMAL(38, 18))) IS NOT NULL) THEN CAST(sum(CAST(f.`cat00_share` AS DECIMAL(38, 18))) AS DOUBLE) ELSE CAST(raise_error('SparkReco ExactSum: a term or the total is not finite or not below 1e20 in magnitude (DECIMAL(38, 18))') AS DOUBLE) END / CAST(nullif(count(f.`cat00_share`), 0) AS DOUBLE) AS f16,
    CASE WHEN count(CAST(f.`cat01_share` AS DECIMAL(38, 18))) = count(f.`cat01_share`) AND (count(f.`cat01_share`) = 0 OR sum(CAST(f.`cat01_share` AS DECIMAL(38, 18))) IS NOT NULL) THEN CAST(sum(CAST(f.`cat01_share` AS DECIMAL(38, 18))) AS DOUBLE) ELSE CAST(raise_error('SparkReco ExactSum: a term or the total is not finite or not below 1e20 in magnitude (DECIMAL(38, 18))') AS DOUBLE) END / CAST(nullif(count(f.`cat01_share`), 0) AS DOUBLE) AS f17,
    CASE WHEN count(CAST(f.`category_entropy` AS DECIMAL(38, 18))) = count(f.`category_entropy`) AND (count(f.`category_entropy`) = 0 OR sum(CAST(f.`category_entropy` AS DECIMAL(38, 18))) IS NOT NULL) THEN CAST(sum(CAST(f.`category_entropy` AS DECIMAL(38, 18))) AS DOUBLE) ELSE CAST(raise_error('SparkReco ExactSum: a term or the total is not finite or not below 1e20 in magnitude (DECIMAL(38, 18))') AS DOUBLE) END / CAST(nullif(count(f.`category_entropy`), 0) AS DOUBLE) AS f18,
    CASE WHEN count(CAST(f.`category_count` AS DECIMAL(38, 18))) = count(f.`category_count`) AND (count(f.`category_count`) = 0 OR sum(CAST(f.`category_count` AS DECIMAL(38, 18))) IS NOT NULL) THEN CAST(sum(CAST(f.`category_count` AS DECIMAL(38, 18))) AS DOUBLE) ELSE CAST(raise_error('SparkReco ExactSum: a term or the total is not finite or not below 1e20 in magnitude (DECIMAL(38, 18))') AS DOUBLE) END / CAST(nullif(count(f.`category_count`), 0) AS DOUBLE) AS f19,
    CASE WHEN count(CAST(f.`log_followers` AS DECIMAL(38, 18))) = count(f.`log_followers`) AND (count(f.`log_followers`) = 0 OR sum(CAST(f.`log_followers` AS DECIMAL(38, 18))) IS NOT NULL) THEN CAST(sum(CAST(f.`log_followers` AS DECIMAL(38, 18))) AS DOUBLE) ELSE CAST(raise_error('SparkReco ExactSum: a term or the total is not finite or not below 1e20 in magnitude (DECIMAL(38, 18))') AS DOUBLE) END / CAST(nullif(count(f.`log_followers`), 0) AS DOUBLE) AS f20,
    CASE WHEN count(CAST(f.`log_followees` AS DECIMAL(38, 18))) = count(f.`log_followees`) AND (count(f.`log_followees`) = 0 OR sum(CAST(f.`log_followees` AS DECIMAL(38, 18))) IS NOT NULL) THEN CAST(sum(CAST(f.`log_followees` AS DECIMAL(38, 18))) AS DOUBLE) ELSE CAST(raise_error('SparkReco ExactSum: a term or the total is not finite or not below 1e20 in magnitude (DECIMAL(38, 18))') AS DOUBLE) END / CAST(nullif(count(f.`log_followees`), 0) AS DOUBLE) AS f21
FROM `segments` AS s
JOIN `segment_groups` AS g
    ON g.segment = s.segment
JOIN `user_features` AS f
    ON f.user_id = s.user_id
GROUP BY g.grp;
-- events per reported segment and event type
SELECT
    g.grp,
    e.event_type,
    count(*) AS events
FROM `clean_events` AS e
JOIN `segments` AS s
    ON s.user_id = e.user_id
JOIN `segment_groups` AS g
    ON g.segment = s.segment
GROUP BY
    g.grp,
    e.event_type;
-- events per reported segment and item category
SELECT
    g.grp,
    ic.category,
    count(*) AS events
FROM `clean_events` AS e
JOIN `segments` AS s
    ON s.user_id = e.user_id
JOIN `segment_groups` AS g
    ON g.segment = s.segment
JOIN (
    SELECT
        item_id,
        min(category) AS category
    FROM `items_source`
    WHERE category IS NOT NULL
    GROUP BY item_id
) AS ic
    ON ic.item_id = e.item_id
GROUP BY
    g.grp,
    ic.category;
-- top items per reported segment by lift = (share of the segment's events) / (share of all events).
-- affinity has one row per (user, item) with its event count, so users per item are a count, not a count(DISTINCT)
-- over every event.
WITH segment_items AS (
    SELECT
        g.grp,
        a.item_id,
        CAST(sum(a.event_count) AS BIGINT) AS n,
        count(*) AS users
    FROM `affinity` AS a
    JOIN `segments` AS s
        ON s.user_id = a.user_id
    JOIN `segment_groups` AS g
        ON g.segment = s.segment
    GROUP BY
        g.grp,
        a.item_id
),
segment_totals AS (
    SELECT grp, CAST(sum(n) AS BIGINT) AS n FROM segment_items GROUP BY grp
),
item_totals AS (
    SELECT item_id, CAST(sum(n) AS BIGINT) AS n FROM segment_items GROUP BY item_id
),
everything AS (
    SELECT CAST(sum(n) AS BIGINT) AS n FROM segment_items
),
lifted AS (
    SELECT
        si.grp,
        si.item_id,
        si.n,
        (CAST(si.n AS DOUBLE) / CAST(st.n AS DOUBLE)) / (CAST(it.n AS DOUBLE) / CAST(ev.n AS DOUBLE)) AS lift
    FROM segment_items AS si
    JOIN segment_totals AS st
        ON st.grp = si.grp
    JOIN item_totals AS it
        ON it.item_id = si.item_id
    CROSS JOIN everything AS ev
    WHERE si.users >= 10
),
ranked AS (
    SELECT
        grp,
        item_id,
        n,
        lift,
        row_number() OVER (PARTITION BY grp ORDER BY lift DESC, n DESC, item_id) AS position
    FROM lifted
)
SELECT
    grp,
    item_id,
    lift
FROM ranked
WHERE position <= 5
ORDER BY
    grp,
    position;
-- on the driver: one profile per reported segment from these results: shares, lifts and a label;
-- register driver-made table segment_profiles (segment BIGINT, label STRING, users BIGINT, share DOUBLE, events_per_user DOUBLE, event_mix STRING, top_categories STRING, top_items STRING, mean_log_events DOUBLE, mean_ev00_log_count DOUBLE, mean_ev00_log_decayed DOUBLE, mean_ev00_share DOUBLE, mean_ev01_log_count DOUBLE, mean_ev01_log_decayed DOUBLE, mean_ev01_share DOUBLE, mean_ev02_log_count DOUBLE, mean_ev02_log_decayed DOUBLE, mean_ev02_share DOUBLE, mean_ev03_log_count DOUBLE, mean_ev03_log_decayed DOUBLE, mean_ev03_share DOUBLE, mean_recency_days DOUBLE, mean_log_active_days DOUBLE, mean_evening_share DOUBLE, mean_cat00_share DOUBLE, mean_cat01_share DOUBLE, mean_category_entropy DOUBLE, mean_category_count DOUBLE, mean_log_followers DOUBLE, mean_log_followees DOUBLE) as rows: one row per reported segment (-1 = segments below k-anonymity, merged): size, event mix, lifts, mean features and label;

-- ===== stage segment_feature_means: one row per reported segment and feature: the feature's slot name, what it measures in this run, its event type or category, its group and the segment's mean
-- reads: segment_profiles; published
CREATE OR REPLACE TEMPORARY VIEW `segment_feature_means` AS
-- segment_feature_means: segment_profiles' mean features, one row per segment and feature, labelled
SELECT
    segment,
    0 AS position,
    'log_events' AS feature,
    'ln(1 + events)' AS meaning,
    CAST(NULL AS STRING) AS event_type,
    CAST(NULL AS STRING) AS category,
    'activity' AS feature_group,
    `mean_log_events` AS mean
FROM `segment_profiles`
UNION ALL
SELECT
    segment,
    1 AS position,
    'ev00_log_count' AS feature,
    'ln(1 + number of \'comment\' events)' AS meaning,
    'comment' AS event_type,
    CAST(NULL AS STRING) AS category,
    'event_counts' AS feature_group,
    `mean_ev00_log_count` AS mean
FROM `segment_profiles`
UNION ALL
SELECT
    segment,
    2 AS position,
    'ev00_log_decayed' AS feature,
    'ln(1 + \'comment\' events decayed by Affinity:HalfLifeDays)' AS meaning,
    'comment' AS event_type,
    CAST(NULL AS STRING) AS category,
    'event_counts' AS feature_group,
    `mean_ev00_log_decayed` AS mean
FROM `segment_profiles`
UNION ALL
SELECT
    segment,
    3 AS position,
    'ev00_share' AS feature,
    'share of events that are \'comment\'' AS meaning,
    'comment' AS event_type,
    CAST(NULL AS STRING) AS category,
    'event_mix' AS feature_group,
    `mean_ev00_share` AS mean
FROM `segment_profiles`
UNION ALL
SELECT
    segment,
    4 AS position,
    'ev01_log_count' AS feature,
    'ln(1 + number of \'like\' events)' AS meaning,
    'like' AS event_type,
    CAST(NULL AS STRING) AS category,
    'event_counts' AS feature_group,
    `mean_ev01_log_count` AS mean
FROM `segment_profiles`
UNION ALL
SELECT
    segment,
    5 AS position,
    'ev01_log_decayed' AS feature,
    'ln(1 + \'like\' events decayed by Affinity:HalfLifeDays)' AS meaning,
    'like' AS event_type,
    CAST(NULL AS STRING) AS category,
    'event_counts' AS feature_group,
    `mean_ev01_log_decayed` AS mean
FROM `segment_profiles`
UNION ALL
SELECT
    segment,
    6 AS position,
    'ev01_share' AS feature,
    'share of events that are \'like\'' AS meaning,
    'like' AS event_type,
    CAST(NULL AS STRING) AS category,
    'event_mix' AS feature_group,
    `mean_ev01_share` AS mean
FROM `segment_profiles`
UNION ALL
SELECT
    segment,
    7 AS position,
    'ev02_log_count' AS feature,
    'ln(1 + number of \'share\' events)' AS meaning,
    'share' AS event_type,
    CAST(NULL AS STRING) AS category,
    'event_counts' AS feature_group,
    `mean_ev02_log_count` AS mean
FROM `segment_profiles`
UNION ALL
SELECT
    segment,
    8 AS position,
    'ev02_log_decayed' AS feature,
    'ln(1 + \'share\' events decayed by Affinity:HalfLifeDays)' AS meaning,
    'share' AS event_type,
    CAST(NULL AS STRING) AS category,
    'event_counts' AS feature_group,
    `mean_ev02_log_decayed` AS mean
FROM `segment_profiles`
UNION ALL
SELECT
    segment,
    9 AS position,
    'ev02_share' AS feature,
    'share of events that are \'share\'' AS meaning,
    'share' AS event_type,
    CAST(NULL AS STRING) AS category,
    'event_mix' AS feature_group,
    `mean_ev02_share` AS mean
FROM `segment_profiles`
UNION ALL
SELECT
    segment,
    10 AS position,
    'ev03_log_count' AS feature,
    'ln(1 + number of \'view\' events)' AS meaning,
    'view' AS event_type,
    CAST(NULL AS STRING) AS category,
    'event_counts' AS feature_group,
    `mean_ev03_log_count` AS mean
FROM `segment_profiles`
UNION ALL
SELECT
    segment,
    11 AS position,
    'ev03_log_decayed' AS feature,
    'ln(1 + \'view\' events decayed by Affinity:HalfLifeDays)' AS meaning,
    'view' AS event_type,
    CAST(NULL AS STRING) AS category,
    'event_counts' AS feature_group,
    `mean_ev03_log_decayed` AS mean
FROM `segment_profiles`
UNION ALL
SELECT
    segment,
    12 AS position,
    'ev03_share' AS feature,
    'share of events that are \'view\'' AS meaning,
    'view' AS event_type,
    CAST(NULL AS STRING) AS category,
    'event_mix' AS feature_group,
    `mean_ev03_share` AS mean
FROM `segment_profiles`
UNION ALL
SELECT
    segment,
    13 AS position,
    'recency_days' AS feature,
    'days from the last event to the reference time' AS meaning,
    CAST(NULL AS STRING) AS event_type,
    CAST(NULL AS STRING) AS category,
    'activity' AS feature_group,
    `mean_recency_days` AS mean
FROM `segment_profiles`
UNION ALL
SELECT
    segment,
    14 AS position,
    'log_active_days' AS feature,
    'ln(1 + distinct days with an event)' AS meaning,
    CAST(NULL AS STRING) AS event_type,
    CAST(NULL AS STRING) AS category,
    'activity' AS feature_group,
    `mean_log_active_days` AS mean
FROM `segment_profiles`
UNION ALL
SELECT
    segment,
    15 AS position,
    'evening_share' AS feature,
    'share of events at or after Features:EveningStartHour (UTC)' AS meaning,
    CAST(NULL AS STRING) AS event_type,
    CAST(NULL AS STRING) AS category,
    'timing' AS feature_group,
    `mean_evening_share` AS mean
FROM `segment_profiles`
UNION ALL
SELECT
    segment,
    16 AS position,
    'cat00_share' AS feature,
    'share of events on items in category \'<category 1>\'' AS meaning,
    CAST(NULL AS STRING) AS event_type,
    '<category 1>' AS category,
    'categories' AS feature_group,
    `mean_cat00_share` AS mean
FROM `segment_profiles`
UNION ALL
SELECT
    segment,
    17 AS position,
    'cat01_share' AS feature,
    'share of events on items in category \'<category 2>\'' AS meaning,
    CAST(NULL AS STRING) AS event_type,
    '<category 2>' AS category,
    'categories' AS feature_group,
    `mean_cat01_share` AS mean
FROM `segment_profiles`
UNION ALL
SELECT
    segment,
    18 AS position,
    'category_entropy' AS feature,
    'entropy (nats) of the user\'s events over all categories' AS meaning,
    CAST(NULL AS STRING) AS event_type,
    CAST(NULL AS STRING) AS category,
    'categories' AS feature_group,
    `mean_category_entropy` AS mean
FROM `segment_profiles`
UNION ALL
SELECT
    segment,
    19 AS position,
    'category_count' AS feature,
    'distinct categories engaged with' AS meaning,
    CAST(NULL AS STRING) AS event_type,
    CAST(NULL AS STRING) AS category,
    'categories' AS feature_group,
    `mean_category_count` AS mean
FROM `segment_profiles`
UNION ALL
SELECT
    segment,
    20 AS position,
    'log_followers' AS feature,
    'ln(1 + followers)' AS meaning,
    CAST(NULL AS STRING) AS event_type,
    CAST(NULL AS STRING) AS category,
    'social' AS feature_group,
    `mean_log_followers` AS mean
FROM `segment_profiles`
UNION ALL
SELECT
    segment,
    21 AS position,
    'log_followees' AS feature,
    'ln(1 + accounts followed)' AS meaning,
    CAST(NULL AS STRING) AS event_type,
    CAST(NULL AS STRING) AS category,
    'social' AS feature_group,
    `mean_log_followees` AS mean
FROM `segment_profiles`;
CACHE TABLE `segment_feature_means` OPTIONS ('storageLevel' 'MEMORY_AND_DISK');

-- ===== stage user_scores: one row per (user, class): softmax probability of the next engagement's category, rank 1 = most likely
-- reads: user_features, clean_events, items_source; published
CREATE OR REPLACE TEMPORARY VIEW `score_training_features` AS
-- score_training_features: one row per user with events up to 2026-10-25T00:00:00Z; every feature a DOUBLE measured at that time.
-- Columns are generated names (ev00 = event type, cat00 = category); the mapping is in the manifest.
WITH events AS (
    SELECT
        e.user_id,
        e.event_type,
        e.event_time,
        ic.category AS category,
        power(CAST(0.5 AS DOUBLE), (CAST(1792886400 AS DOUBLE) - CAST(unix_micros(e.event_time) AS DOUBLE) / CAST(1000000 AS DOUBLE)) / CAST(2592000 AS DOUBLE)) AS decay,
        CASE WHEN hour(e.event_time) >= 18 THEN 1 ELSE 0 END AS is_evening
    FROM `clean_events` AS e
    LEFT JOIN (
        SELECT
            item_id,
            min(category) AS category
        FROM `items_source`
        WHERE category IS NOT NULL
        GROUP BY item_id
    ) AS ic
        ON ic.item_id = e.item_id
    WHERE e.event_time <= TIMESTAMP '2026-10-25 00:00:00.000000'
),
activity AS (
    SELECT
        user_id,
        count(*) AS n_events,
        sum(CASE WHEN event_type = 'comment' THEN 1 ELSE 0 END) AS n_ev00,
        CASE WHEN count(CAST(CASE WHEN event_type = 'comment' THEN decay ELSE CAST(0 AS DOUBLE) END AS DECIMAL(38, 18))) = count(CASE WHEN event_type = 'comment' THEN decay ELSE CAST(0 AS DOUBLE) END) AND (count(CASE WHEN event_type = 'comment' THEN decay ELSE CAST(0 AS DOUBLE) END) = 0 OR sum(CAST(CASE WHEN event_type = 'comment' THEN decay ELSE CAST(0 AS DOUBLE) END AS DECIMAL(38, 18))) IS NOT NULL) THEN CAST(sum(CAST(CASE WHEN event_type = 'comment' THEN decay ELSE CAST(0 AS DOUBLE) END AS DECIMAL(38, 18))) AS DOUBLE) ELSE CAST(raise_error('SparkReco ExactSum: a term or the total is not finite or not below 1e20 in magnitude (DECIMAL(38, 18))') AS DOUBLE) END AS d_ev00,
        sum(CASE WHEN event_type = 'like' THEN 1 ELSE 0 END) AS n_ev01,
        CASE WHEN count(CAST(CASE WHEN event_type = 'like' THEN decay ELSE CAST(0 AS DOUBLE) END AS DECIMAL(38, 18))) = count(CASE WHEN event_type = 'like' THEN decay ELSE CAST(0 AS DOUBLE) END) AND (count(CASE WHEN event_type = 'like' THEN decay ELSE CAST(0 AS DOUBLE) END) = 0 OR sum(CAST(CASE WHEN event_type = 'like' THEN decay ELSE CAST(0 AS DOUBLE) END AS DECIMAL(38, 18))) IS NOT NULL) THEN CAST(sum(CAST(CASE WHEN event_type = 'like' THEN decay ELSE CAST(0 AS DOUBLE) END AS DECIMAL(38, 18))) AS DOUBLE) ELSE CAST(raise_error('SparkReco ExactSum: a term or the total is not finite or not below 1e20 in magnitude (DECIMAL(38, 18))') AS DOUBLE) END AS d_ev01,
        sum(CASE WHEN event_type = 'share' THEN 1 ELSE 0 END) AS n_ev02,
        CASE WHEN count(CAST(CASE WHEN event_type = 'share' THEN decay ELSE CAST(0 AS DOUBLE) END AS DECIMAL(38, 18))) = count(CASE WHEN event_type = 'share' THEN decay ELSE CAST(0 AS DOUBLE) END) AND (count(CASE WHEN event_type = 'share' THEN decay ELSE CAST(0 AS DOUBLE) END) = 0 OR sum(CAST(CASE WHEN event_type = 'share' THEN decay ELSE CAST(0 AS DOUBLE) END AS DECIMAL(38, 18))) IS NOT NULL) THEN CAST(sum(CAST(CASE WHEN event_type = 'share' THEN decay ELSE CAST(0 AS DOUBLE) END AS DECIMAL(38, 18))) AS DOUBLE) ELSE CAST(raise_error('SparkReco ExactSum: a term or the total is not finite or not below 1e20 in magnitude (DECIMAL(38, 18))') AS DOUBLE) END AS d_ev02,
        sum(CASE WHEN event_type = 'view' THEN 1 ELSE 0 END) AS n_ev03,
        CASE WHEN count(CAST(CASE WHEN event_type = 'view' THEN decay ELSE CAST(0 AS DOUBLE) END AS DECIMAL(38, 18))) = count(CASE WHEN event_type = 'view' THEN decay ELSE CAST(0 AS DOUBLE) END) AND (count(CASE WHEN event_type = 'view' THEN decay ELSE CAST(0 AS DOUBLE) END) = 0 OR sum(CAST(CASE WHEN event_type = 'view' THEN decay ELSE CAST(0 AS DOUBLE) END AS DECIMAL(38, 18))) IS NOT NULL) THEN CAST(sum(CAST(CASE WHEN event_type = 'view' THEN decay ELSE CAST(0 AS DOUBLE) END AS DECIMAL(38, 18))) AS DOUBLE) ELSE CAST(raise_error('SparkReco ExactSum: a term or the total is not finite or not below 1e20 in magnitude (DECIMAL(38, 18))') AS DOUBLE) END AS d_ev03,
        count(DISTINCT CAST(event_time AS DATE)) AS active_days,
        max(CAST(unix_micros(event_time) AS DOUBLE) / CAST(1000000 AS DOUBLE)) AS last_seconds,
        sum(is_evening) AS n_evening,
        sum(CASE WHEN category = '<category 1>' THEN 1 ELSE 0 END) AS n_cat00,
        sum(CASE WHEN category = '<category 2>' THEN 1 ELSE 0 END) AS n_cat01,
        count(DISTINCT category) AS n_categories
    FROM events
    GROUP BY user_id
),
category_mix AS (
    SELECT
        user_id,
        category,
        count(*) AS n
    FROM events
    WHERE category IS NOT NULL
    GROUP BY
        user_id,
        category
),
diversity AS (
    SELECT
        user_id,
        -CASE WHEN count(CAST(p * ln(p) AS DECIMAL(38, 18))) = count(p * ln(p)) AND (count(p * ln(p)) = 0 OR sum(CAST(p * ln(p) AS DECIMAL(38, 18))) IS NOT NULL) THEN CAST(sum(CAST(p * ln(p) AS DECIMAL(38, 18))) AS DOUBLE) ELSE CAST(raise_error('SparkReco ExactSum: a term or the total is not finite or not below 1e20 in magnitude (DECIMAL(38, 18))') AS DOUBLE) END AS entropy
    FROM (
        SELECT
            user_id,
            CAST(n AS DOUBLE) / CAST(sum(n) OVER (PARTITION BY user_id) AS DOUBLE) AS p
        FROM category_mix
    ) AS shares
    GROUP BY user_id
),
followers AS (
    SELECT
        followee_id AS user_id,
        count(DISTINCT follower_id) AS n
    FROM `follows_source`
    GROUP BY followee_id
),
followees AS (
    SELECT
        follower_id AS user_id,
        count(DISTINCT followee_id) AS n
    FROM `follows_source`
    GROUP BY follower_id
)
SELECT
    a.user_id,
    ln(CAST(1 AS DOUBLE) + CAST(a.n_events AS DOUBLE)) AS log_events,
    ln(CAST(1 AS DOUBLE) + CAST(a.n_ev00 AS DOUBLE)) AS ev00_log_count,
    ln(CAST(1 AS DOUBLE) + CAST(a.d_ev00 AS DOUBLE)) AS ev00_log_decayed,
    CAST(a.n_ev00 AS DOUBLE) / CAST(a.n_events AS DOUBLE) AS ev00_share,
    ln(CAST(1 AS DOUBLE) + CAST(a.n_ev01 AS DOUBLE)) AS ev01_log_count,
    ln(CAST(1 AS DOUBLE) + CAST(a.d_ev01 AS DOUBLE)) AS ev01_log_decayed,
    CAST(a.n_ev01 AS DOUBLE) / CAST(a.n_events AS DOUBLE) AS ev01_share,
    ln(CAST(1 AS DOUBLE) + CAST(a.n_ev02 AS DOUBLE)) AS ev02_log_count,
    ln(CAST(1 AS DOUBLE) + CAST(a.d_ev02 AS DOUBLE)) AS ev02_log_decayed,
    CAST(a.n_ev02 AS DOUBLE) / CAST(a.n_events AS DOUBLE) AS ev02_share,
    ln(CAST(1 AS DOUBLE) + CAST(a.n_ev03 AS DOUBLE)) AS ev03_log_count,
    ln(CAST(1 AS DOUBLE) + CAST(a.d_ev03 AS DOUBLE)) AS ev03_log_decayed,
    CAST(a.n_ev03 AS DOUBLE) / CAST(a.n_events AS DOUBLE) AS ev03_share,
    (CAST(1792886400 AS DOUBLE) - a.last_seconds) / CAST(86400 AS DOUBLE) AS recency_days,
    ln(CAST(1 AS DOUBLE) + CAST(a.active_days AS DOUBLE)) AS log_active_days,
    CAST(a.n_evening AS DOUBLE) / CAST(a.n_events AS DOUBLE) AS evening_share,
    CAST(a.n_cat00 AS DOUBLE) / CAST(a.n_events AS DOUBLE) AS cat00_share,
    CAST(a.n_cat01 AS DOUBLE) / CAST(a.n_events AS DOUBLE) AS cat01_share,
    coalesce(dv.entropy, CAST(0 AS DOUBLE)) AS category_entropy,
    CAST(a.n_categories AS DOUBLE) AS category_count,
    ln(CAST(1 AS DOUBLE) + CAST(coalesce(fr.n, 0) AS DOUBLE)) AS log_followers,
    ln(CAST(1 AS DOUBLE) + CAST(coalesce(fe.n, 0) AS DOUBLE)) AS log_followees
FROM activity AS a
LEFT JOIN diversity AS dv
    ON dv.user_id = a.user_id
LEFT JOIN followers AS fr
    ON fr.user_id = a.user_id
LEFT JOIN followees AS fe
    ON fe.user_id = a.user_id;
CACHE TABLE `score_training_features` OPTIONS ('storageLevel' 'MEMORY_AND_DISK');
CREATE OR REPLACE TEMPORARY VIEW `score_labels` AS
-- score_labels: one row per user with an engagement after the cutoff: the category of the first one (ties by item, type).
SELECT
    user_id,
    label
FROM (
    SELECT
        e.user_id,
        CASE WHEN ic.category IN ('<category 1>', '<category 2>') THEN ic.category ELSE '(other)' END AS label,
        row_number() OVER (PARTITION BY e.user_id ORDER BY e.event_time, e.item_id, e.event_type) AS position
    FROM `clean_events` AS e
    JOIN (
        SELECT
            item_id,
            min(category) AS category
        FROM `items_source`
        WHERE category IS NOT NULL
        GROUP BY item_id
    ) AS ic
        ON ic.item_id = e.item_id
    WHERE e.event_time > TIMESTAMP '2026-10-25 00:00:00.000000'
        AND e.event_time <= TIMESTAMP '2026-11-01 00:00:00.000000'
) AS firsts
WHERE position = 1;
CACHE TABLE `score_labels` OPTIONS ('storageLevel' 'MEMORY_AND_DISK');
-- standardisation of score_training_features: mean and mean square per feature (exact sums, so reruns agree to the bit);
-- the population standard deviation is sqrt(mean square - mean^2)
SELECT
    CASE WHEN count(CAST(`log_events` AS DECIMAL(38, 18))) = count(`log_events`) AND (count(`log_events`) = 0 OR sum(CAST(`log_events` AS DECIMAL(38, 18))) IS NOT NULL) THEN CAST(sum(CAST(`log_events` AS DECIMAL(38, 18))) AS DOUBLE) ELSE CAST(raise_error('SparkReco ExactSum: a term or the total is not finite or not below 1e20 in magnitude (DECIMAL(38, 18))') AS DOUBLE) END / CAST(nullif(count(`log_events`), 0) AS DOUBLE) AS m0,
    CASE WHEN count(CAST(`log_events` * `log_events` AS DECIMAL(38, 18))) = count(`log_events` * `log_events`) AND (count(`log_events` * `log_events`) = 0 OR sum(CAST(`log_events` * `log_events` AS DECIMAL(38, 18))) IS NOT NULL) THEN CAST(sum(CAST(`log_events` * `log_events` AS DECIMAL(38, 18))) AS DOUBLE) ELSE CAST(raise_error('SparkReco ExactSum: a term or the total is not finite or not below 1e20 in magnitude (DECIMAL(38, 18))') AS DOUBLE) END / CAST(nullif(count(`log_events` * `log_events`), 0) AS DOUBLE) AS q0,
    CASE WHEN count(CAST(`ev00_log_count` AS DECIMAL(38, 18))) = count(`ev00_log_count`) AND (count(`ev00_log_count`) = 0 OR sum(CAST(`ev00_log_count` AS DECIMAL(38, 18))) IS NOT NULL) THEN CAST(sum(CAST(`ev00_log_count` AS DECIMAL(38, 18))) AS DOUBLE) ELSE CAST(raise_error('SparkReco ExactSum: a term or the total is not finite or not below 1e20 in magnitude (DECIMAL(38, 18))') AS DOUBLE) END / CAST(nullif(count(`ev00_log_count`), 0) AS DOUBLE) AS m1,
    CASE WHEN count(CAST(`ev00_log_count` * `ev00_log_count` AS DECIMAL(38, 18))) = count(`ev00_log_count` * `ev00_log_count`) AND (count(`ev00_log_count` * `ev00_log_count`) = 0 OR sum(CAST(`ev00_log_count` * `ev00_log_count` AS DECIMAL(38, 18))) IS NOT NULL) THEN CAST(sum(CAST(`ev00_log_count` * `ev00_log_count` AS DECIMAL(38, 18))) AS DOUBLE) ELSE CAST(raise_error('SparkReco ExactSum: a term or the total is not finite or not below 1e20 in magnitude (DECIMAL(38, 18))') AS DOUBLE) END / CAST(nullif(count(`ev00_log_count` * `ev00_log_count`), 0) AS DOUBLE) AS q1,
    CASE WHEN count(CAST(`ev00_log_decayed` AS DECIMAL(38, 18))) = count(`ev00_log_decayed`) AND (count(`ev00_log_decayed`) = 0 OR sum(CAST(`ev00_log_decayed` AS DECIMAL(38, 18))) IS NOT NULL) THEN CAST(sum(CAST(`ev00_log_decayed` AS DECIMAL(38, 18))) AS DOUBLE) ELSE CAST(raise_error('SparkReco ExactSum: a term or the total is not finite or not below 1e20 in magnitude (DECIMAL(38, 18))') AS DOUBLE) END / CAST(nullif(count(`ev00_log_decayed`), 0) AS DOUBLE) AS m2,
    CASE WHEN count(CAST(`ev00_log_decayed` * `ev00_log_decayed` AS DECIMAL(38, 18))) = count(`ev00_log_decayed` * `ev00_log_decayed`) AND (count(`ev00_log_decayed` * `ev00_log_decayed`) = 0 OR sum(CAST(`ev00_log_decayed` * `ev00_log_decayed` AS DECIMAL(38, 18))) IS NOT NULL) THEN CAST(sum(CAST(`ev00_log_decayed` * `ev00_log_decayed` AS DECIMAL(38, 18))) AS DOUBLE) ELSE CAST(raise_error('SparkReco ExactSum: a term or the total is not finite or not below 1e20 in magnitude (DECIMAL(38, 18))') AS DOUBLE) END / CAST(nullif(count(`ev00_log_decayed` * `ev00_log_decayed`), 0) AS DOUBLE) AS q2,
    CASE WHEN count(CAST(`ev00_share` AS DECIMAL(38, 18))) = count(`ev00_share`) AND (count(`ev00_share`) = 0 OR sum(CAST(`ev00_share` AS DECIMAL(38, 18))) IS NOT NULL) THEN CAST(sum(CAST(`ev00_share` AS DECIMAL(38, 18))) AS DOUBLE) ELSE CAST(raise_error('SparkReco ExactSum: a term or the total is not finite or not below 1e20 in magnitude (DECIMAL(38, 18))') AS DOUBLE) END / CAST(nullif(count(`ev00_share`), 0) AS DOUBLE) AS m3,
    CASE WHEN count(CAST(`ev00_share` * `ev00_share` AS DECIMAL(38, 18))) = count(`ev00_share` * `ev00_share`) AND (count(`ev00_share` * `ev00_share`) = 0 OR sum(CAST(`ev00_share` * `ev00_share` AS DECIMAL(38, 18))) IS NOT NULL) THEN CAST(sum(CAST(`ev00_share` * `ev00_share` AS DECIMAL(38, 18))) AS DOUBLE) ELSE CAST(raise_error('SparkReco ExactSum: a term or the total is not finite or not below 1e20 in magnitude (DECIMAL(38, 18))') AS DOUBLE) END / CAST(nullif(count(`ev00_share` * `ev00_share`), 0) AS DOUBLE) AS q3,
    CASE WHEN count(CAST(`ev01_log_count` AS DECIMAL(38, 18))) = count(`ev01_log_count`) AND (count(`ev01_log_count`) = 0 OR sum(CAST(`ev01_log_count` AS DECIMAL(38, 18))) IS NOT NULL) THEN CAST(sum(CAST(`ev01_log_count` AS DECIMAL(38, 18))) AS DOUBLE) ELSE CAST(raise_error('SparkReco ExactSum: a term or the total is not finite or not below 1e20 in magnitude (DECIMAL(38, 18))') AS DOUBLE) END / CAST(nullif(count(`ev01_log_count`), 0) AS DOUBLE) AS m4,
    CASE WHEN count(CAST(`ev01_log_count` * `ev01_log_count` AS DECIMAL(38, 18))) = count(`ev01_log_count` * `ev01_log_count`) AND (count(`ev01_log_count` * `ev01_log_count`) = 0 OR sum(CAST(`ev01_log_count` * `ev01_log_count` AS DECIMAL(38, 18))) IS NOT NULL) THEN CAST(sum(CAST(`ev01_log_count` * `ev01_log_count` AS DECIMAL(38, 18))) AS DOUBLE) ELSE CAST(raise_error('SparkReco ExactSum: a term or the total is not finite or not below 1e20 in magnitude (DECIMAL(38, 18))') AS DOUBLE) END / CAST(nullif(count(`ev01_log_count` * `ev01_log_count`), 0) AS DOUBLE) AS q4,
    CASE WHEN count(CAST(`ev01_log_decayed` AS DECIMAL(38, 18))) = count(`ev01_log_decayed`) AND (count(`ev01_log_decayed`) = 0 OR sum(CAST(`ev01_log_decayed` AS DECIMAL(38, 18))) IS NOT NULL) THEN CAST(sum(CAST(`ev01_log_decayed` AS DECIMAL(38, 18))) AS DOUBLE) ELSE CAST(raise_error('SparkReco ExactSum: a term or the total is not finite or not below 1e20 in magnitude (DECIMAL(38, 18))') AS DOUBLE) END / CAST(nullif(count(`ev01_log_decayed`), 0) AS DOUBLE) AS m5,
    CASE WHEN count(CAST(`ev01_log_decayed` * `ev01_log_decayed` AS DECIMAL(38, 18))) = count(`ev01_log_decayed` * `ev01_log_decayed`) AND (count(`ev01_log_decayed` * `ev01_log_decayed`) = 0 OR sum(CAST(`ev01_log_decayed` * `ev01_log_decayed` AS DECIMAL(38, 18))) IS NOT NULL) THEN CAST(sum(CAST(`ev01_log_decayed` * `ev01_log_decayed` AS DECIMAL(38, 18))) AS DOUBLE) ELSE CAST(raise_error('SparkReco ExactSum: a term or the total is not finite or not below 1e20 in magnitude (DECIMAL(38, 18))') AS DOUBLE) END / CAST(nullif(count(`ev01_log_decayed` * `ev01_log_decayed`), 0) AS DOUBLE) AS q5,
    CASE WHEN count(CAST(`ev01_share` AS DECIMAL(38, 18))) = count(`ev01_share`) AND (count(`ev01_share`) = 0 OR sum(CAST(`ev01_share` AS DECIMAL(38, 18))) IS NOT NULL) THEN CAST(sum(CAST(`ev01_share` AS DECIMAL(38, 18))) AS DOUBLE) ELSE CAST(raise_error('SparkReco ExactSum: a term or the total is not finite or not below 1e20 in magnitude (DECIMAL(38, 18))') AS DOUBLE) END / CAST(nullif(count(`ev01_share`), 0) AS DOUBLE) AS m6,
    CASE WHEN count(CAST(`ev01_share` * `ev01_share` AS DECIMAL(38, 18))) = count(`ev01_share` * `ev01_share`) AND (count(`ev01_share` * `ev01_share`) = 0 OR sum(CAST(`ev01_share` * `ev01_share` AS DECIMAL(38, 18))) IS NOT NULL) THEN CAST(sum(CAST(`ev01_share` * `ev01_share` AS DECIMAL(38, 18))) AS DOUBLE) ELSE CAST(raise_error('SparkReco ExactSum: a term or the total is not finite or not below 1e20 in magnitude (DECIMAL(38, 18))') AS DOUBLE) END / CAST(nullif(count(`ev01_share` * `ev01_share`), 0) AS DOUBLE) AS q6,
    CASE WHEN count(CAST(`ev02_log_count` AS DECIMAL(38, 18))) = count(`ev02_log_count`) AND (count(`ev02_log_count`) = 0 OR sum(CAST(`ev02_log_count` AS DECIMAL(38, 18))) IS NOT NULL) THEN CAST(sum(CAST(`ev02_log_count` AS DECIMAL(38, 18))) AS DOUBLE) ELSE CAST(raise_error('SparkReco ExactSum: a term or the total is not finite or not below 1e20 in magnitude (DECIMAL(38, 18))') AS DOUBLE) END / CAST(nullif(count(`ev02_log_count`), 0) AS DOUBLE) AS m7,
    CASE WHEN count(CAST(`ev02_log_count` * `ev02_log_count` AS DECIMAL(38, 18))) = count(`ev02_log_count` * `ev02_log_count`) AND (count(`ev02_log_count` * `ev02_log_count`) = 0 OR sum(CAST(`ev02_log_count` * `ev02_log_count` AS DECIMAL(38, 18))) IS NOT NULL) THEN CAST(sum(CAST(`ev02_log_count` * `ev02_log_count` AS DECIMAL(38, 18))) AS DOUBLE) ELSE CAST(raise_error('SparkReco ExactSum: a term or the total is not finite or not below 1e20 in magnitude (DECIMAL(38, 18))') AS DOUBLE) END / CAST(nullif(count(`ev02_log_count` * `ev02_log_count`), 0) AS DOUBLE) AS q7,
    CASE WHEN count(CAST(`ev02_log_decayed` AS DECIMAL(38, 18))) = count(`ev02_log_decayed`) AND (count(`ev02_log_decayed`) = 0 OR sum(CAST(`ev02_log_decayed` AS DECIMAL(38, 18))) IS NOT NULL) THEN CAST(sum(CAST(`ev02_log_decayed` AS DECIMAL(38, 18))) AS DOUBLE) ELSE CAST(raise_error('SparkReco ExactSum: a term or the total is not finite or not below 1e20 in magnitude (DECIMAL(38, 18))') AS DOUBLE) END / CAST(nullif(count(`ev02_log_decayed`), 0) AS DOUBLE) AS m8,
    CASE WHEN count(CAST(`ev02_log_decayed` * `ev02_log_decayed` AS DECIMAL(38, 18))) = count(`ev02_log_decayed` * `ev02_log_decayed`) AND (count(`ev02_log_decayed` * `ev02_log_decayed`) = 0 OR sum(CAST(`ev02_log_decayed` * `ev02_log_decayed` AS DECIMAL(38, 18))) IS NOT NULL) THEN CAST(sum(CAST(`ev02_log_decayed` * `ev02_log_decayed` AS DECIMAL(38, 18))) AS DOUBLE) ELSE CAST(raise_error('SparkReco ExactSum: a term or the total is not finite or not below 1e20 in magnitude (DECIMAL(38, 18))') AS DOUBLE) END / CAST(nullif(count(`ev02_log_decayed` * `ev02_log_decayed`), 0) AS DOUBLE) AS q8,
    CASE WHEN count(CAST(`ev02_share` AS DECIMAL(38, 18))) = count(`ev02_share`) AND (count(`ev02_share`) = 0 OR sum(CAST(`ev02_share` AS DECIMAL(38, 18))) IS NOT NULL) THEN CAST(sum(CAST(`ev02_share` AS DECIMAL(38, 18))) AS DOUBLE) ELSE CAST(raise_error('SparkReco ExactSum: a term or the total is not finite or not below 1e20 in magnitude (DECIMAL(38, 18))') AS DOUBLE) END / CAST(nullif(count(`ev02_share`), 0) AS DOUBLE) AS m9,
    CASE WHEN count(CAST(`ev02_share` * `ev02_share` AS DECIMAL(38, 18))) = count(`ev02_share` * `ev02_share`) AND (count(`ev02_share` * `ev02_share`) = 0 OR sum(CAST(`ev02_share` * `ev02_share` AS DECIMAL(38, 18))) IS NOT NULL) THEN CAST(sum(CAST(`ev02_share` * `ev02_share` AS DECIMAL(38, 18))) AS DOUBLE) ELSE CAST(raise_error('SparkReco ExactSum: a term or the total is not finite or not below 1e20 in magnitude (DECIMAL(38, 18))') AS DOUBLE) END / CAST(nullif(count(`ev02_share` * `ev02_share`), 0) AS DOUBLE) AS q9,
    CASE WHEN count(CAST(`ev03_log_count` AS DECIMAL(38, 18))) = count(`ev03_log_count`) AND (count(`ev03_log_count`) = 0 OR sum(CAST(`ev03_log_count` AS DECIMAL(38, 18))) IS NOT NULL) THEN CAST(sum(CAST(`ev03_log_count` AS DECIMAL(38, 18))) AS DOUBLE) ELSE CAST(raise_error('SparkReco ExactSum: a term or the total is not finite or not below 1e20 in magnitude (DECIMAL(38, 18))') AS DOUBLE) END / CAST(nullif(count(`ev03_log_count`), 0) AS DOUBLE) AS m10,
    CASE WHEN count(CAST(`ev03_log_count` * `ev03_log_count` AS DECIMAL(38, 18))) = count(`ev03_log_count` * `ev03_log_count`) AND (count(`ev03_log_count` * `ev03_log_count`) = 0 OR sum(CAST(`ev03_log_count` * `ev03_log_count` AS DECIMAL(38, 18))) IS NOT NULL) THEN CAST(sum(CAST(`ev03_log_count` * `ev03_log_count` AS DECIMAL(38, 18))) AS DOUBLE) ELSE CAST(raise_error('SparkReco ExactSum: a term or the total is not finite or not below 1e20 in magnitude (DECIMAL(38, 18))') AS DOUBLE) END / CAST(nullif(count(`ev03_log_count` * `ev03_log_count`), 0) AS DOUBLE) AS q10,
    CASE WHEN count(CAST(`ev03_log_decayed` AS DECIMAL(38, 18))) = count(`ev03_log_decayed`) AND (count(`ev03_log_decayed`) = 0 OR sum(CAST(`ev03_log_decayed` AS DECIMAL(38, 18))) IS NOT NULL) THEN CAST(sum(CAST(`ev03_log_decayed` AS DECIMAL(38, 18))) AS DOUBLE) ELSE CAST(raise_error('SparkReco ExactSum: a term or the total is not finite or not below 1e20 in magnitude (DECIMAL(38, 18))') AS DOUBLE) END / CAST(nullif(count(`ev03_log_decayed`), 0) AS DOUBLE) AS m11,
    CASE WHEN count(CAST(`ev03_log_decayed` * `ev03_log_decayed` AS DECIMAL(38, 18))) = count(`ev03_log_decayed` * `ev03_log_decayed`) AND (count(`ev03_log_decayed` * `ev03_log_decayed`) = 0 OR sum(CAST(`ev03_log_decayed` * `ev03_log_decayed` AS DECIMAL(38, 18))) IS NOT NULL) THEN CAST(sum(CAST(`ev03_log_decayed` * `ev03_log_decayed` AS DECIMAL(38, 18))) AS DOUBLE) ELSE CAST(raise_error('SparkReco ExactSum: a term or the total is not finite or not below 1e20 in magnitude (DECIMAL(38, 18))') AS DOUBLE) END / CAST(nullif(count(`ev03_log_decayed` * `ev03_log_decayed`), 0) AS DOUBLE) AS q11,
    CASE WHEN count(CAST(`ev03_share` AS DECIMAL(38, 18))) = count(`ev03_share`) AND (count(`ev03_share`) = 0 OR sum(CAST(`ev03_share` AS DECIMAL(38, 18))) IS NOT NULL) THEN CAST(sum(CAST(`ev03_share` AS DECIMAL(38, 18))) AS DOUBLE) ELSE CAST(raise_error('SparkReco ExactSum: a term or the total is not finite or not below 1e20 in magnitude (DECIMAL(38, 18))') AS DOUBLE) END / CAST(nullif(count(`ev03_share`), 0) AS DOUBLE) AS m12,
    CASE WHEN count(CAST(`ev03_share` * `ev03_share` AS DECIMAL(38, 18))) = count(`ev03_share` * `ev03_share`) AND (count(`ev03_share` * `ev03_share`) = 0 OR sum(CAST(`ev03_share` * `ev03_share` AS DECIMAL(38, 18))) IS NOT NULL) THEN CAST(sum(CAST(`ev03_share` * `ev03_share` AS DECIMAL(38, 18))) AS DOUBLE) ELSE CAST(raise_error('SparkReco ExactSum: a term or the total is not finite or not below 1e20 in magnitude (DECIMAL(38, 18))') AS DOUBLE) END / CAST(nullif(count(`ev03_share` * `ev03_share`), 0) AS DOUBLE) AS q12,
    CASE WHEN count(CAST(`recency_days` AS DECIMAL(38, 18))) = count(`recency_days`) AND (count(`recency_days`) = 0 OR sum(CAST(`recency_days` AS DECIMAL(38, 18))) IS NOT NULL) THEN CAST(sum(CAST(`recency_days` AS DECIMAL(38, 18))) AS DOUBLE) ELSE CAST(raise_error('SparkReco ExactSum: a term or the total is not finite or not below 1e20 in magnitude (DECIMAL(38, 18))') AS DOUBLE) END / CAST(nullif(count(`recency_days`), 0) AS DOUBLE) AS m13,
    CASE WHEN count(CAST(`recency_days` * `recency_days` AS DECIMAL(38, 18))) = count(`recency_days` * `recency_days`) AND (count(`recency_days` * `recency_days`) = 0 OR sum(CAST(`recency_days` * `recency_days` AS DECIMAL(38, 18))) IS NOT NULL) THEN CAST(sum(CAST(`recency_days` * `recency_days` AS DECIMAL(38, 18))) AS DOUBLE) ELSE CAST(raise_error('SparkReco ExactSum: a term or the total is not finite or not below 1e20 in magnitude (DECIMAL(38, 18))') AS DOUBLE) END / CAST(nullif(count(`recency_days` * `recency_days`), 0) AS DOUBLE) AS q13,
    CASE WHEN count(CAST(`log_active_days` AS DECIMAL(38, 18))) = count(`log_active_days`) AND (count(`log_active_days`) = 0 OR sum(CAST(`log_active_days` AS DECIMAL(38, 18))) IS NOT NULL) THEN CAST(sum(CAST(`log_active_days` AS DECIMAL(38, 18))) AS DOUBLE) ELSE CAST(raise_error('SparkReco ExactSum: a term or the total is not finite or not below 1e20 in magnitude (DECIMAL(38, 18))') AS DOUBLE) END / CAST(nullif(count(`log_active_days`), 0) AS DOUBLE) AS m14,
    CASE WHEN count(CAST(`log_active_days` * `log_active_days` AS DECIMAL(38, 18))) = count(`log_active_days` * `log_active_days`) AND (count(`log_active_days` * `log_active_days`) = 0 OR sum(CAST(`log_active_days` * `log_active_days` AS DECIMAL(38, 18))) IS NOT NULL) THEN CAST(sum(CAST(`log_active_days` * `log_active_days` AS DECIMAL(38, 18))) AS DOUBLE) ELSE CAST(raise_error('SparkReco ExactSum: a term or the total is not finite or not below 1e20 in magnitude (DECIMAL(38, 18))') AS DOUBLE) END / CAST(nullif(count(`log_active_days` * `log_active_days`), 0) AS DOUBLE) AS q14,
    CASE WHEN count(CAST(`evening_share` AS DECIMAL(38, 18))) = count(`evening_share`) AND (count(`evening_share`) = 0 OR sum(CAST(`evening_share` AS DECIMAL(38, 18))) IS NOT NULL) THEN CAST(sum(CAST(`evening_share` AS DECIMAL(38, 18))) AS DOUBLE) ELSE CAST(raise_error('SparkReco ExactSum: a term or the total is not finite or not below 1e20 in magnitude (DECIMAL(38, 18))') AS DOUBLE) END / CAST(nullif(count(`evening_share`), 0) AS DOUBLE) AS m15,
    CASE WHEN count(CAST(`evening_share` * `evening_share` AS DECIMAL(38, 18))) = count(`evening_share` * `evening_share`) AND (count(`evening_share` * `evening_share`) = 0 OR sum(CAST(`evening_share` * `evening_share` AS DECIMAL(38, 18))) IS NOT NULL) THEN CAST(sum(CAST(`evening_share` * `evening_share` AS DECIMAL(38, 18))) AS DOUBLE) ELSE CAST(raise_error('SparkReco ExactSum: a term or the total is not finite or not below 1e20 in magnitude (DECIMAL(38, 18))') AS DOUBLE) END / CAST(nullif(count(`evening_share` * `evening_share`), 0) AS DOUBLE) AS q15,
    CASE WHEN count(CAST(`cat00_share` AS DECIMAL(38, 18))) = count(`cat00_share`) AND (count(`cat00_share`) = 0 OR sum(CAST(`cat00_share` AS DECIMAL(38, 18))) IS NOT NULL) THEN CAST(sum(CAST(`cat00_share` AS DECIMAL(38, 18))) AS DOUBLE) ELSE CAST(raise_error('SparkReco ExactSum: a term or the total is not finite or not below 1e20 in magnitude (DECIMAL(38, 18))') AS DOUBLE) END / CAST(nullif(count(`cat00_share`), 0) AS DOUBLE) AS m16,
    CASE WHEN count(CAST(`cat00_share` * `cat00_share` AS DECIMAL(38, 18))) = count(`cat00_share` * `cat00_share`) AND (count(`cat00_share` * `cat00_share`) = 0 OR sum(CAST(`cat00_share` * `cat00_share` AS DECIMAL(38, 18))) IS NOT NULL) THEN CAST(sum(CAST(`cat00_share` * `cat00_share` AS DECIMAL(38, 18))) AS DOUBLE) ELSE CAST(raise_error('SparkReco ExactSum: a term or the total is not finite or not below 1e20 in magnitude (DECIMAL(38, 18))') AS DOUBLE) END / CAST(nullif(count(`cat00_share` * `cat00_share`), 0) AS DOUBLE) AS q16,
    CASE WHEN count(CAST(`cat01_share` AS DECIMAL(38, 18))) = count(`cat01_share`) AND (count(`cat01_share`) = 0 OR sum(CAST(`cat01_share` AS DECIMAL(38, 18))) IS NOT NULL) THEN CAST(sum(CAST(`cat01_share` AS DECIMAL(38, 18))) AS DOUBLE) ELSE CAST(raise_error('SparkReco ExactSum: a term or the total is not finite or not below 1e20 in magnitude (DECIMAL(38, 18))') AS DOUBLE) END / CAST(nullif(count(`cat01_share`), 0) AS DOUBLE) AS m17,
    CASE WHEN count(CAST(`cat01_share` * `cat01_share` AS DECIMAL(38, 18))) = count(`cat01_share` * `cat01_share`) AND (count(`cat01_share` * `cat01_share`) = 0 OR sum(CAST(`cat01_share` * `cat01_share` AS DECIMAL(38, 18))) IS NOT NULL) THEN CAST(sum(CAST(`cat01_share` * `cat01_share` AS DECIMAL(38, 18))) AS DOUBLE) ELSE CAST(raise_error('SparkReco ExactSum: a term or the total is not finite or not below 1e20 in magnitude (DECIMAL(38, 18))') AS DOUBLE) END / CAST(nullif(count(`cat01_share` * `cat01_share`), 0) AS DOUBLE) AS q17,
    CASE WHEN count(CAST(`category_entropy` AS DECIMAL(38, 18))) = count(`category_entropy`) AND (count(`category_entropy`) = 0 OR sum(CAST(`category_entropy` AS DECIMAL(38, 18))) IS NOT NULL) THEN CAST(sum(CAST(`category_entropy` AS DECIMAL(38, 18))) AS DOUBLE) ELSE CAST(raise_error('SparkReco ExactSum: a term or the total is not finite or not below 1e20 in magnitude (DECIMAL(38, 18))') AS DOUBLE) END / CAST(nullif(count(`category_entropy`), 0) AS DOUBLE) AS m18,
    CASE WHEN count(CAST(`category_entropy` * `category_entropy` AS DECIMAL(38, 18))) = count(`category_entropy` * `category_entropy`) AND (count(`category_entropy` * `category_entropy`) = 0 OR sum(CAST(`category_entropy` * `category_entropy` AS DECIMAL(38, 18))) IS NOT NULL) THEN CAST(sum(CAST(`category_entropy` * `category_entropy` AS DECIMAL(38, 18))) AS DOUBLE) ELSE CAST(raise_error('SparkReco ExactSum: a term or the total is not finite or not below 1e20 in magnitude (DECIMAL(38, 18))') AS DOUBLE) END / CAST(nullif(count(`category_entropy` * `category_entropy`), 0) AS DOUBLE) AS q18,
    CASE WHEN count(CAST(`category_count` AS DECIMAL(38, 18))) = count(`category_count`) AND (count(`category_count`) = 0 OR sum(CAST(`category_count` AS DECIMAL(38, 18))) IS NOT NULL) THEN CAST(sum(CAST(`category_count` AS DECIMAL(38, 18))) AS DOUBLE) ELSE CAST(raise_error('SparkReco ExactSum: a term or the total is not finite or not below 1e20 in magnitude (DECIMAL(38, 18))') AS DOUBLE) END / CAST(nullif(count(`category_count`), 0) AS DOUBLE) AS m19,
    CASE WHEN count(CAST(`category_count` * `category_count` AS DECIMAL(38, 18))) = count(`category_count` * `category_count`) AND (count(`category_count` * `category_count`) = 0 OR sum(CAST(`category_count` * `category_count` AS DECIMAL(38, 18))) IS NOT NULL) THEN CAST(sum(CAST(`category_count` * `category_count` AS DECIMAL(38, 18))) AS DOUBLE) ELSE CAST(raise_error('SparkReco ExactSum: a term or the total is not finite or not below 1e20 in magnitude (DECIMAL(38, 18))') AS DOUBLE) END / CAST(nullif(count(`category_count` * `category_count`), 0) AS DOUBLE) AS q19,
    CASE WHEN count(CAST(`log_followers` AS DECIMAL(38, 18))) = count(`log_followers`) AND (count(`log_followers`) = 0 OR sum(CAST(`log_followers` AS DECIMAL(38, 18))) IS NOT NULL) THEN CAST(sum(CAST(`log_followers` AS DECIMAL(38, 18))) AS DOUBLE) ELSE CAST(raise_error('SparkReco ExactSum: a term or the total is not finite or not below 1e20 in magnitude (DECIMAL(38, 18))') AS DOUBLE) END / CAST(nullif(count(`log_followers`), 0) AS DOUBLE) AS m20,
    CASE WHEN count(CAST(`log_followers` * `log_followers` AS DECIMAL(38, 18))) = count(`log_followers` * `log_followers`) AND (count(`log_followers` * `log_followers`) = 0 OR sum(CAST(`log_followers` * `log_followers` AS DECIMAL(38, 18))) IS NOT NULL) THEN CAST(sum(CAST(`log_followers` * `log_followers` AS DECIMAL(38, 18))) AS DOUBLE) ELSE CAST(raise_error('SparkReco ExactSum: a term or the total is not finite or not below 1e20 in magnitude (DECIMAL(38, 18))') AS DOUBLE) END / CAST(nullif(count(`log_followers` * `log_followers`), 0) AS DOUBLE) AS q20,
    CASE WHEN count(CAST(`log_followees` AS DECIMAL(38, 18))) = count(`log_followees`) AND (count(`log_followees`) = 0 OR sum(CAST(`log_followees` AS DECIMAL(38, 18))) IS NOT NULL) THEN CAST(sum(CAST(`log_followees` AS DECIMAL(38, 18))) AS DOUBLE) ELSE CAST(raise_error('SparkReco ExactSum: a term or the total is not finite or not below 1e20 in magnitude (DECIMAL(38, 18))') AS DOUBLE) END / CAST(nullif(count(`log_followees`), 0) AS DOUBLE) AS m21,
    CASE WHEN count(CAST(`log_followees` * `log_followees` AS DECIMAL(38, 18))) = count(`log_followees` * `log_followees`) AND (count(`log_followees` * `log_followees`) = 0 OR sum(CAST(`log_followees` * `log_followees` AS DECIMAL(38, 18))) IS NOT NULL) THEN CAST(sum(CAST(`log_followees` * `log_followees` AS DECIMAL(38, 18))) AS DOUBLE) ELSE CAST(raise_error('SparkReco ExactSum: a term or the total is not finite or not below 1e20 in magnitude (DECIMAL(38, 18))') AS DOUBLE) END / CAST(nullif(count(`log_followees` * `log_followees`), 0) AS DOUBLE) AS q21
FROM `score_training_features`;
-- register driver-made table score_standardisation (m0 DOUBLE, m1 DOUBLE, m2 DOUBLE, m3 DOUBLE, m4 DOUBLE, m5 DOUBLE, m6 DOUBLE, m7 DOUBLE, m8 DOUBLE, m9 DOUBLE, m10 DOUBLE, m11 DOUBLE, m12 DOUBLE, m13 DOUBLE, m14 DOUBLE, m15 DOUBLE, m16 DOUBLE, m17 DOUBLE, m18 DOUBLE, m19 DOUBLE, m20 DOUBLE, m21 DOUBLE, s0 DOUBLE, s1 DOUBLE, s2 DOUBLE, s3 DOUBLE, s4 DOUBLE, s5 DOUBLE, s6 DOUBLE, s7 DOUBLE, s8 DOUBLE, s9 DOUBLE, s10 DOUBLE, s11 DOUBLE, s12 DOUBLE, s13 DOUBLE, s14 DOUBLE, s15 DOUBLE, s16 DOUBLE, s17 DOUBLE, s18 DOUBLE, s19 DOUBLE, s20 DOUBLE, s21 DOUBLE) as rows: one row: mean m{i} and standard deviation s{i} of each feature, z = (x - mean) / std;
-- training sample: labelled users with features at the cutoff, the first by md5(user_id); holdout_key splits off the hold-out
SELECT
    f.user_id,
    l.label,
    md5(concat_ws('', f.user_id, '|holdout')) AS holdout_key,
    (coalesce(f.`log_events`, st.m0) - st.m0) / st.s0 AS z0,
    (coalesce(f.`ev00_log_count`, st.m1) - st.m1) / st.s1 AS z1,
    (coalesce(f.`ev00_log_decayed`, st.m2) - st.m2) / st.s2 AS z2,
    (coalesce(f.`ev00_share`, st.m3) - st.m3) / st.s3 AS z3,
    (coalesce(f.`ev01_log_count`, st.m4) - st.m4) / st.s4 AS z4,
    (coalesce(f.`ev01_log_decayed`, st.m5) - st.m5) / st.s5 AS z5,
    (coalesce(f.`ev01_share`, st.m6) - st.m6) / st.s6 AS z6,
    (coalesce(f.`ev02_log_count`, st.m7) - st.m7) / st.s7 AS z7,
    (coalesce(f.`ev02_log_decayed`, st.m8) - st.m8) / st.s8 AS z8,
    (coalesce(f.`ev02_share`, st.m9) - st.m9) / st.s9 AS z9,
    (coalesce(f.`ev03_log_count`, st.m10) - st.m10) / st.s10 AS z10,
    (coalesce(f.`ev03_log_decayed`, st.m11) - st.m11) / st.s11 AS z11,
    (coalesce(f.`ev03_share`, st.m12) - st.m12) / st.s12 AS z12,
    (coalesce(f.`recency_days`, st.m13) - st.m13) / st.s13 AS z13,
    (coalesce(f.`log_active_days`, st.m14) - st.m14) / st.s14 AS z14,
    (coalesce(f.`evening_share`, st.m15) - st.m15) / st.s15 AS z15,
    (coalesce(f.`cat00_share`, st.m16) - st.m16) / st.s16 AS z16,
    (coalesce(f.`cat01_share`, st.m17) - st.m17) / st.s17 AS z17,
    (coalesce(f.`category_entropy`, st.m18) - st.m18) / st.s18 AS z18,
    (coalesce(f.`category_count`, st.m19) - st.m19) / st.s19 AS z19,
    (coalesce(f.`log_followers`, st.m20) - st.m20) / st.s20 AS z20,
    (coalesce(f.`log_followees`, st.m21) - st.m21) / st.s21 AS z21
FROM `score_training_features` AS f
JOIN `score_labels` AS l
    ON l.user_id = f.user_id
CROSS JOIN `score_standardisation` AS st
ORDER BY
    md5(f.user_id),
    f.user_id
LIMIT 20000;
-- on the driver: softmax regression (ML.NET L-BFGS maximum entropy) on the sample's training users; log-loss and accuracy on the hold-out;
-- register driver-made table score_weights (class_index BIGINT, class STRING, bias DOUBLE, w0 DOUBLE, w1 DOUBLE, w2 DOUBLE, w3 DOUBLE, w4 DOUBLE, w5 DOUBLE, w6 DOUBLE, w7 DOUBLE, w8 DOUBLE, w9 DOUBLE, w10 DOUBLE, w11 DOUBLE, w12 DOUBLE, w13 DOUBLE, w14 DOUBLE, w15 DOUBLE, w16 DOUBLE, w17 DOUBLE, w18 DOUBLE, w19 DOUBLE, w20 DOUBLE, w21 DOUBLE) as rows: one row per class: its index, name, bias and weight w{i} per standardised feature (none when the model was skipped);
CREATE OR REPLACE TEMPORARY VIEW `user_scores` AS
-- user_scores: one row per (user, class of score_weights); probability = softmax over the classes, rank 1 = most likely (ties by class).
WITH standardised AS (
    SELECT
        f.user_id,
        (coalesce(f.`log_events`, st.m0) - st.m0) / st.s0 AS z0,
        (coalesce(f.`ev00_log_count`, st.m1) - st.m1) / st.s1 AS z1,
        (coalesce(f.`ev00_log_decayed`, st.m2) - st.m2) / st.s2 AS z2,
        (coalesce(f.`ev00_share`, st.m3) - st.m3) / st.s3 AS z3,
        (coalesce(f.`ev01_log_count`, st.m4) - st.m4) / st.s4 AS z4,
        (coalesce(f.`ev01_log_decayed`, st.m5) - st.m5) / st.s5 AS z5,
        (coalesce(f.`ev01_share`, st.m6) - st.m6) / st.s6 AS z6,
        (coalesce(f.`ev02_log_count`, st.m7) - st.m7) / st.s7 AS z7,
        (coalesce(f.`ev02_log_decayed`, st.m8) - st.m8) / st.s8 AS z8,
        (coalesce(f.`ev02_share`, st.m9) - st.m9) / st.s9 AS z9,
        (coalesce(f.`ev03_log_count`, st.m10) - st.m10) / st.s10 AS z10,
        (coalesce(f.`ev03_log_decayed`, st.m11) - st.m11) / st.s11 AS z11,
        (coalesce(f.`ev03_share`, st.m12) - st.m12) / st.s12 AS z12,
        (coalesce(f.`recency_days`, st.m13) - st.m13) / st.s13 AS z13,
        (coalesce(f.`log_active_days`, st.m14) - st.m14) / st.s14 AS z14,
        (coalesce(f.`evening_share`, st.m15) - st.m15) / st.s15 AS z15,
        (coalesce(f.`cat00_share`, st.m16) - st.m16) / st.s16 AS z16,
        (coalesce(f.`cat01_share`, st.m17) - st.m17) / st.s17 AS z17,
        (coalesce(f.`category_entropy`, st.m18) - st.m18) / st.s18 AS z18,
        (coalesce(f.`category_count`, st.m19) - st.m19) / st.s19 AS z19,
        (coalesce(f.`log_followers`, st.m20) - st.m20) / st.s20 AS z20,
        (coalesce(f.`log_followees`, st.m21) - st.m21) / st.s21 AS z21
    FROM `user_features` AS f
    CROSS JOIN `score_standardisation` AS st
),
logits AS (
    SELECT
        s.user_id,
        w.class,
        w.bias
            + w.w0 * s.z0
            + w.w1 * s.z1
            + w.w2 * s.z2
            + w.w3 * s.z3
            + w.w4 * s.z4
            + w.w5 * s.z5
            + w.w6 * s.z6
            + w.w7 * s.z7
            + w.w8 * s.z8
            + w.w9 * s.z9
            + w.w10 * s.z10
            + w.w11 * s.z11
            + w.w12 * s.z12
            + w.w13 * s.z13
            + w.w14 * s.z14
            + w.w15 * s.z15
            + w.w16 * s.z16
            + w.w17 * s.z17
            + w.w18 * s.z18
            + w.w19 * s.z19
            + w.w20 * s.z20
            + w.w21 * s.z21 AS logit
    FROM standardised AS s
    CROSS JOIN `score_weights` AS w
),
maxima AS (
    SELECT
        user_id,
        max(logit) AS l_max
    FROM logits
    GROUP BY
        user_id
),
shifted AS (
    SELECT
        l.user_id,
        l.class,
        exp(l.logit - m.l_max) AS e
    FROM logits AS l
    JOIN maxima AS m
        ON m.user_id = l.user_id
),
totals AS (
    SELECT
        user_id,
        CASE WHEN count(CAST(e AS DECIMAL(38, 18))) = count(e) AND (count(e) = 0 OR sum(CAST(e AS DECIMAL(38, 18))) IS NOT NULL) THEN CAST(sum(CAST(e AS DECIMAL(38, 18))) AS DOUBLE) ELSE CAST(raise_error('SparkReco ExactSum: a term or the total is not finite or not below 1e20 in magnitude (DECIMAL(38, 18))') AS DOUBLE) END AS total
    FROM shifted
    GROUP BY
        user_id
),
probabilities AS (
    SELECT
        x.user_id,
        x.class,
        x.e / t.total AS probability
    FROM shifted AS x
    JOIN totals AS t
        ON t.user_id = x.user_id
)
SELECT
    user_id,
    class,
    probability,
    CAST(row_number() OVER (PARTITION BY user_id ORDER BY probability DESC, class) AS BIGINT) AS `rank`
FROM probabilities;
CACHE TABLE `user_scores` OPTIONS ('storageLevel' 'MEMORY_AND_DISK');
-- user_scores self-check: the first users by md5(user_id) with their standardised features, for ML.NET's own probabilities
SELECT
    f.user_id,
    (coalesce(f.`log_events`, st.m0) - st.m0) / st.s0 AS z0,
    (coalesce(f.`ev00_log_count`, st.m1) - st.m1) / st.s1 AS z1,
    (coalesce(f.`ev00_log_decayed`, st.m2) - st.m2) / st.s2 AS z2,
    (coalesce(f.`ev00_share`, st.m3) - st.m3) / st.s3 AS z3,
    (coalesce(f.`ev01_log_count`, st.m4) - st.m4) / st.s4 AS z4,
    (coalesce(f.`ev01_log_decayed`, st.m5) - st.m5) / st.s5 AS z5,
    (coalesce(f.`ev01_share`, st.m6) - st.m6) / st.s6 AS z6,
    (coalesce(f.`ev02_log_count`, st.m7) - st.m7) / st.s7 AS z7,
    (coalesce(f.`ev02_log_decayed`, st.m8) - st.m8) / st.s8 AS z8,
    (coalesce(f.`ev02_share`, st.m9) - st.m9) / st.s9 AS z9,
    (coalesce(f.`ev03_log_count`, st.m10) - st.m10) / st.s10 AS z10,
    (coalesce(f.`ev03_log_decayed`, st.m11) - st.m11) / st.s11 AS z11,
    (coalesce(f.`ev03_share`, st.m12) - st.m12) / st.s12 AS z12,
    (coalesce(f.`recency_days`, st.m13) - st.m13) / st.s13 AS z13,
    (coalesce(f.`log_active_days`, st.m14) - st.m14) / st.s14 AS z14,
    (coalesce(f.`evening_share`, st.m15) - st.m15) / st.s15 AS z15,
    (coalesce(f.`cat00_share`, st.m16) - st.m16) / st.s16 AS z16,
    (coalesce(f.`cat01_share`, st.m17) - st.m17) / st.s17 AS z17,
    (coalesce(f.`category_entropy`, st.m18) - st.m18) / st.s18 AS z18,
    (coalesce(f.`category_count`, st.m19) - st.m19) / st.s19 AS z19,
    (coalesce(f.`log_followers`, st.m20) - st.m20) / st.s20 AS z20,
    (coalesce(f.`log_followees`, st.m21) - st.m21) / st.s21 AS z21
FROM `user_features` AS f
CROSS JOIN `score_standardisation` AS st
ORDER BY
    md5(f.user_id),
    f.user_id
LIMIT 200;
-- user_scores self-check: the engine's probabilities of the same users
SELECT
    s.user_id,
    s.class,
    s.probability
FROM `user_scores` AS s
JOIN (
    SELECT user_id
    FROM `user_features`
    ORDER BY
        md5(user_id),
        user_id
    LIMIT 200
) AS checked
    ON checked.user_id = s.user_id;

-- ===== publish: each published table is written as Parquet into the run's staging folder, then moved into place
-- write affinity as Parquet, rows ordered by user_id, item_id;
-- write item_similarity as Parquet, rows ordered by item_id, rank;
-- write user_neighbors as Parquet, rows ordered by user_id, rank;
-- write recommendations as Parquet, rows ordered by user_id, rank;
-- write segments as Parquet, rows ordered by user_id;
-- write segment_profiles as Parquet, rows ordered by segment;
-- write segment_feature_means as Parquet, rows ordered by segment, position;
-- write user_scores as Parquet, rows ordered by user_id, rank;

-- ===== report.html: the aggregates its sections read
-- report: recommendation rows by source
SELECT
    source,
    count(*) AS n
FROM `recommendations`
GROUP BY
    source
ORDER BY
    source;
-- report: the published segment profiles
SELECT *
FROM `segment_profiles`
ORDER BY segment;
-- report: users per most likely class
SELECT
    class,
    count(*) AS users,
    avg(probability) AS mean_probability
FROM `user_scores`
WHERE `rank` = 1
GROUP BY class
ORDER BY users DESC, class;
-- report: histogram of the top class's probability
SELECT
    CAST(floor(probability * CAST(10 AS DOUBLE)) AS BIGINT) AS bin,
    count(*) AS users
FROM `user_scores`
WHERE `rank` = 1
GROUP BY CAST(floor(probability * CAST(10 AS DOUBLE)) AS BIGINT)
ORDER BY bin;

-- not run with these settings and inputs: cf_item_ease, eval_train_cf_item_ease
