/**
 * Experiments, sticky assignments and their counters in PostgreSQL. A commit is one UPDATE
 * conditioned on the revision (compare-and-set). An assignment is INSERT ... ON CONFLICT DO
 * NOTHING: the first writer's row wins and every other writer, on any instance, reads that
 * winner. Exposures are added in the UPDATE itself (count = count + n), and a metric summary is
 * merged under the row's lock (SELECT ... FOR UPDATE), so concurrent writers lose no update (its
 * paired summaries, CUPED covariates and ratio denominators, in the same row and step). The
 * running minimum of an always-valid p-value is one upsert with LEAST, exact under concurrent looks.
 * When an experiment completes, its assignments get an expiry (the experiment's
 * assignmentRetentionSeconds, else the store's), in the same transaction as the commit; an expired
 * assignment counts as absent, and expired rows are deleted at later commits. Dimension
 * breakdowns: the value kept for a (dimension, value) is decided under a transaction-scoped
 * advisory lock of the (experiment, dimension), taken in dimension order, so concurrent writers
 * agree on the capped values; summaries merge under the row lock like the overall ones.
 * Each insert and winning commit also writes its definition history row (ml_experiment_definitions,
 * the newest MAX_DEFINITION_HISTORY kept) in the same transaction.
 */
import {
  Assignment,
  DefinitionRevision,
  definitionRevisionOf,
  DimensionSlice,
  Experiment,
  ExperimentConflictError,
  ExperimentStore,
  MAX_DEFINITION_HISTORY,
  mergePairedSummaries,
  mergeSummaries,
  StaleRevisionError,
  storedRecord
} from "@org/ml-core"
import { Effect, Layer, Schema } from "effect"
import type { Sql, TransactionSql } from "postgres"
import { PostgresClient, type PostgresClientShape } from "./PostgresClient.js"

const experiments = storedRecord(Experiment)
const assignments = storedRecord(Assignment)
const summaries = storedRecord(ExperimentStore.SummaryRecord)
const pairedSummaries = storedRecord(ExperimentStore.PairedSummaryRecord)

/** The column of each kind of paired summary in ml_experiment_metrics. */
const pairColumn = { covariatePairs: "covariate_pairs", denominatorPairs: "denominator_pairs" } as const

/** A paired summary as its column's JSON, or SQL null. */
const pairedJson = (tx: Pick<Sql, "json">, pairs: ExperimentStore.PairedSummaryRecord | undefined) =>
  pairs === undefined ? null : tx.json(pairs as never)
const sequentialRows = storedRecord(ExperimentStore.SequentialPValue)
const dimensionSlices = storedRecord(Schema.Array(DimensionSlice))

const byText = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0)

/**
 * The value kept for each (dimension, value) of a write, registering new ones while their
 * dimension has room (ExperimentStore.MAX_DIMENSION_VALUES; DIMENSION_OTHER takes none). Keys of
 * the answer: "<dimension>\u0000<value>".
 */
const keptValues = async (
  tx: TransactionSql,
  experimentId: string,
  pairs: ReadonlyArray<{ readonly dimension: string; readonly value: string }>
): Promise<Map<string, string>> => {
  const kept = new Map<string, string>()
  const dimensions = [...new Set(pairs.map((p) => p.dimension))].sort(byText)
  for (const dimension of dimensions) {
    const lock = `ml-dimension\u001f${experimentId}\u001f${dimension}`
    await tx`SELECT pg_advisory_xact_lock(hashtextextended(${lock}, 0))`
    const rows = await tx<Array<{ value: string }>>`
      SELECT value FROM ml_experiment_dimension_values
      WHERE experiment_id = ${experimentId} AND dimension = ${dimension}`
    const known = new Set(rows.map((r) => r.value))
    let counted = known.size - (known.has(ExperimentStore.DIMENSION_OTHER) ? 1 : 0)
    for (const { value } of pairs.filter((p) => p.dimension === dimension)) {
      let keep = value
      if (!known.has(value)) {
        if (value === ExperimentStore.DIMENSION_OTHER || counted >= ExperimentStore.MAX_DIMENSION_VALUES) {
          keep = ExperimentStore.DIMENSION_OTHER
        } else counted += 1
        if (!known.has(keep)) {
          await tx`INSERT INTO ml_experiment_dimension_values (experiment_id, dimension, value)
                   VALUES (${experimentId}, ${dimension}, ${keep}) ON CONFLICT DO NOTHING`
          known.add(keep)
        }
      }
      kept.set(`${dimension}\u0000${value}`, keep)
    }
  }
  return kept
}

const definitionRevisions = storedRecord(DefinitionRevision)

/** Appends a definition to its experiment's history and drops what falls beyond the kept newest ones. */
const appendDefinition = async (tx: TransactionSql, experiment: Experiment) => {
  await tx`INSERT INTO ml_experiment_definitions (experiment_id, revision, record)
           VALUES (${experiment.id}, ${experiment.revision}, ${tx.json(definitionRevisionOf(experiment) as never)})
           ON CONFLICT (experiment_id, revision) DO UPDATE SET record = excluded.record`
  await tx`DELETE FROM ml_experiment_definitions
           WHERE experiment_id = ${experiment.id} AND revision < (
             SELECT revision FROM ml_experiment_definitions WHERE experiment_id = ${experiment.id}
             ORDER BY revision DESC OFFSET ${MAX_DEFINITION_HISTORY - 1} LIMIT 1)`
}

const decodeExperiment = (row: { id: string; record: unknown }) =>
  experiments.orThrow(row.record, `ml_experiments row ${row.id}`)

/** Variant indexes and counts of the non-zero entries, in variant order (the order rows are locked in). */
const nonZero = (counts: ReadonlyArray<number>) => {
  const variants: Array<number> = []
  const values: Array<number> = []
  counts.forEach((count, variant) => {
    if (count !== 0) {
      variants.push(variant)
      values.push(count)
    }
  })
  return { variants, values }
}

export interface ExperimentStoreOptions {
  /** Seconds the sticky assignments of a completed experiment are kept (default 30 days). */
  readonly assignmentRetentionSeconds?: number | undefined
}

export const defaultAssignmentRetentionSeconds = 30 * 86_400

/** Assignments that have not expired (expiry is judged by the database clock). */
const live = (sql: Sql) => sql`(expires_at IS NULL OR expires_at > clock_timestamp())`

export const make = (
  { ping, query, sql }: PostgresClientShape,
  options: ExperimentStoreOptions = {}
): ExperimentStore.ExperimentStoreShape => ({
  insert: (experiment) =>
    query("experiment insert", () =>
      sql.begin(async (tx) => {
        const rows = await tx`INSERT INTO ml_experiments (id, created_at, revision, record)
          VALUES (${experiment.id}, ${experiment.createdAt}, ${experiment.revision}, ${tx.json(experiment as never)})
          ON CONFLICT (id) DO NOTHING RETURNING id`
        if (rows.length === 1) await appendDefinition(tx, experiment)
        return rows.length === 1
      })).pipe(
        Effect.flatMap((inserted) =>
          inserted ? Effect.void : Effect.fail(
            new ExperimentConflictError({
              experimentId: experiment.id,
              message: `Experiment ${experiment.id} already exists`
            })
          )
        )
      ),

  get: (id) =>
    query("experiment read", async () => {
      const [row] = await sql<Array<{ id: string; record: unknown }>>`
        SELECT id, record FROM ml_experiments WHERE id = ${id}`
      return row === undefined ? undefined : decodeExperiment(row)
    }),

  // Every insert adds a row and every commit raises one revision by one: the pair moves with each
  // change, read from two integer columns instead of every definition.
  definitionsToken: () =>
    query("experiment definitions token", async () => {
      const [row] = await sql<Array<{ rows: string; revisions: string }>>`
        SELECT count(*)::text AS rows, coalesce(sum(revision), 0)::text AS revisions FROM ml_experiments`
      return `${row!.rows}:${row!.revisions}`
    }),

  list: () =>
    query("experiment list", async () =>
      (await sql<Array<{ id: string; record: unknown }>>`
        SELECT id, record FROM ml_experiments ORDER BY created_at, id`).map(decodeExperiment)),

  commit: (experiment, expectedRevision) =>
    query("experiment commit", () =>
      sql.begin(async (tx) => {
        const updated = await tx`
          UPDATE ml_experiments
          SET revision = ${experiment.revision}, created_at = ${experiment.createdAt},
              record = ${tx.json(experiment as never)}
          WHERE id = ${experiment.id} AND revision = ${expectedRevision}
          RETURNING id`
        if (updated.length === 0) return false
        await appendDefinition(tx, experiment)
        // Swept first, so an expired assignment stays gone rather than getting a new expiry.
        await tx`DELETE FROM ml_assignments WHERE expires_at <= clock_timestamp()`
        if (experiment.status === "completed") {
          const seconds = experiment.assignmentRetentionSeconds ?? options.assignmentRetentionSeconds ??
            defaultAssignmentRetentionSeconds
          await tx`UPDATE ml_assignments SET expires_at = clock_timestamp() + ${seconds} * interval '1 second'
                   WHERE experiment_id = ${experiment.id}`
        }
        return true
      })).pipe(
        Effect.flatMap((stored) =>
          stored
            ? Effect.void
            : Effect.fail(new StaleRevisionError({ message: `Experiment ${experiment.id} changed since it was read` }))
        )
      ),

  definitionHistory: (experimentId) =>
    query("experiment definition history", async () =>
      (await sql<Array<{ revision: number; record: unknown }>>`
        SELECT revision, record FROM ml_experiment_definitions
        WHERE experiment_id = ${experimentId} ORDER BY revision`).map((row) =>
        definitionRevisions.orThrow(row.record, `ml_experiment_definitions row (${experimentId}, ${row.revision})`)
      )),

  importDefinitionHistory: (experimentId, entries) =>
    query("experiment definition history import", () =>
      sql.begin(async (tx) => {
        // Under the experiment's row lock, so no commit appends between the delete and the inserts.
        const [found] = await tx`SELECT id FROM ml_experiments WHERE id = ${experimentId} FOR UPDATE`
        if (found === undefined) return
        await tx`DELETE FROM ml_experiment_definitions WHERE experiment_id = ${experimentId}`
        for (const entry of entries.slice(-MAX_DEFINITION_HISTORY)) {
          await tx`INSERT INTO ml_experiment_definitions (experiment_id, revision, record)
                   VALUES (${experimentId}, ${entry.revision}, ${tx.json(entry as never)})
                   ON CONFLICT (experiment_id, revision) DO UPDATE SET record = excluded.record`
        }
      })),

  assignIfAbsent: (assignment) =>
    query("assignment", async () => {
      const where = `ml_assignments row (${assignment.experimentId}, ${assignment.userId})`
      // A second round only when the winner expired and was swept between our two statements.
      for (let attempt = 0; attempt < 3; attempt++) {
        // An expired assignment counts as absent: it is replaced, as Redis's expired key would be.
        const inserted = await sql`
          INSERT INTO ml_assignments AS a (experiment_id, user_id, record)
          VALUES (${assignment.experimentId}, ${assignment.userId}, ${sql.json(assignment as never)})
          ON CONFLICT (experiment_id, user_id) DO UPDATE SET record = excluded.record, expires_at = NULL
          WHERE a.expires_at <= clock_timestamp()
          RETURNING user_id`
        if (inserted.length === 1) return { assignment, created: true }
        // The conflicting row is committed (the insert waited for it), so this read sees the winner.
        const [row] = await sql<Array<{ record: unknown }>>`
          SELECT record FROM ml_assignments
          WHERE experiment_id = ${assignment.experimentId} AND user_id = ${assignment.userId}`
        if (row !== undefined) return { assignment: assignments.orThrow(row.record, where), created: false }
      }
      throw new Error(`${where} kept vanishing after conflicting inserts`)
    }),

  getAssignment: (experimentId, userId) =>
    query("assignment read", async () => {
      const [row] = await sql<Array<{ record: unknown }>>`
        SELECT record FROM ml_assignments
        WHERE experiment_id = ${experimentId} AND user_id = ${userId} AND ${live(sql)}`
      return row === undefined
        ? undefined
        : assignments.orThrow(row.record, `ml_assignments row (${experimentId}, ${userId})`)
    }),

  addExposures: (experimentId, counts, day) =>
    query("exposures", async () => {
      const { values, variants } = nonZero(counts)
      if (variants.length === 0) return
      await sql.begin(async (tx) => {
        await tx`INSERT INTO ml_experiment_exposures (experiment_id, variant, count)
                 SELECT ${experimentId}, v, n FROM unnest(${tx.array(variants, 23)}::int[], ${
          tx.array(values, 20)
        }::bigint[]) AS u(v, n)
                 ON CONFLICT (experiment_id, variant)
                 DO UPDATE SET count = ml_experiment_exposures.count + excluded.count`
        if (day === undefined) return
        await tx`INSERT INTO ml_experiment_daily_exposures (experiment_id, day, variant, count)
                 SELECT ${experimentId}, ${day}, v, n FROM unnest(${tx.array(variants, 23)}::int[], ${
          tx.array(values, 20)
        }::bigint[]) AS u(v, n)
                 ON CONFLICT (experiment_id, day, variant)
                 DO UPDATE SET count = ml_experiment_daily_exposures.count + excluded.count`
        // Only the newest MAX_EXPOSURE_DAYS days stay; the totals keep everything.
        await tx`DELETE FROM ml_experiment_daily_exposures
                 WHERE experiment_id = ${experimentId} AND day < (
                   SELECT day FROM (
                     SELECT DISTINCT day FROM ml_experiment_daily_exposures WHERE experiment_id = ${experimentId}
                   ) days ORDER BY day DESC OFFSET ${ExperimentStore.MAX_EXPOSURE_DAYS - 1} LIMIT 1)`
      })
    }),

  exposuresByDay: (experimentId, variantCount) =>
    query("daily exposures", async () => {
      const rows = await sql<Array<{ day: string; variant: number; count: string }>>`
        SELECT day, variant, count FROM ml_experiment_daily_exposures
        WHERE experiment_id = ${experimentId} ORDER BY day, variant`
      const days: Array<{ day: string; counts: Array<number> }> = []
      for (const row of rows) {
        if (days.at(-1)?.day !== row.day) days.push({ day: row.day, counts: Array(variantCount).fill(0) })
        if (row.variant < variantCount) days.at(-1)!.counts[row.variant] = Number(row.count)
      }
      return days
    }),

  mergeMetrics: (experimentId, updates) =>
    query("metric merge", async () => {
      if (updates.length === 0) return
      // Locked in one order by every writer, so two merges of overlapping metrics cannot deadlock.
      const ordered = [...updates].sort((a, b) =>
        a.variant - b.variant || (a.metric < b.metric ? -1 : a.metric > b.metric ? 1 : 0)
      )
      await sql.begin(async (tx) => {
        for (const update of ordered) {
          const { metric, summary, variant } = update
          const inserted = await tx`
            INSERT INTO ml_experiment_metrics
              (experiment_id, variant, metric, summary, covariate_pairs, denominator_pairs)
            VALUES (${experimentId}, ${variant}, ${metric}, ${tx.json(summary as never)},
              ${pairedJson(tx, update.covariatePairs)}, ${pairedJson(tx, update.denominatorPairs)})
            ON CONFLICT (experiment_id, variant, metric) DO NOTHING RETURNING variant`
          if (inserted.length === 1) continue
          const [row] = await tx<Array<{ summary: unknown; covariate_pairs: unknown; denominator_pairs: unknown }>>`
            SELECT summary, covariate_pairs, denominator_pairs FROM ml_experiment_metrics
            WHERE experiment_id = ${experimentId} AND variant = ${variant} AND metric = ${metric} FOR UPDATE`
          const where = `ml_experiment_metrics row (${experimentId}, ${variant}, ${metric})`
          if (row === undefined) throw new Error(`${where} vanished after a conflicting insert`)
          const merged = mergeSummaries(summaries.orThrow(row.summary, where), summary)
          const pairs = ExperimentStore.pairKinds.map((kind) => {
            const stored = row[pairColumn[kind]]
            const incoming = update[kind]
            if (incoming === undefined || stored === null) return incoming ?? stored
            return mergePairedSummaries(pairedSummaries.orThrow(stored, `${where} ${pairColumn[kind]}`), incoming)
          }) as Array<ExperimentStore.PairedSummaryRecord | undefined>
          await tx`UPDATE ml_experiment_metrics SET summary = ${tx.json(merged as never)},
                     covariate_pairs = ${pairedJson(tx, pairs[0] ?? undefined)},
                     denominator_pairs = ${pairedJson(tx, pairs[1] ?? undefined)}
                   WHERE experiment_id = ${experimentId} AND variant = ${variant} AND metric = ${metric}`
        }
      })
    }),

  lowerSequentialPValues: (experimentId, looks) =>
    query("sequential p-values", async () => {
      if (looks.length === 0) return []
      // One row per key (an upsert may not touch a row twice), in the order every writer locks in.
      const lowest = new Map<string, ExperimentStore.SequentialPValue>()
      for (const look of looks) {
        const key = `${look.variant}\u0000${look.metric}`
        const kept = lowest.get(key)
        if (kept === undefined || look.pValue < kept.pValue) lowest.set(key, look)
      }
      const rows = ExperimentStore.sortSequentialPValues([...lowest.values()])
      const stored = await sql<Array<{ variant: number; metric: string; p_value: number }>>`
        INSERT INTO ml_experiment_sequential AS s (experiment_id, variant, metric, p_value)
        SELECT ${experimentId}, v, m, p FROM unnest(
          ${sql.array(rows.map((r) => r.variant), 23)}::int[],
          ${sql.array(rows.map((r) => r.metric), 25)}::text[],
          ${sql.array(rows.map((r) => r.pValue), 701)}::float8[]
        ) AS u(v, m, p)
        ON CONFLICT (experiment_id, variant, metric) DO UPDATE SET p_value = LEAST(s.p_value, excluded.p_value)
        RETURNING variant, metric, p_value`
      const byKey = new Map(stored.map((row) => [`${row.variant}\u0000${row.metric}`, row.p_value]))
      return looks.map((look) =>
        sequentialRows.orThrow(
          { ...look, pValue: byKey.get(`${look.variant}\u0000${look.metric}`) },
          `ml_experiment_sequential row (${experimentId}, ${look.variant}, ${look.metric})`
        )
      )
    }),

  sequentialPValues: (experimentId) =>
    query("sequential p-values", async () => {
      const rows = await sql<Array<{ variant: number; metric: string; p_value: number }>>`
        SELECT variant, metric, p_value FROM ml_experiment_sequential
        WHERE experiment_id = ${experimentId} ORDER BY variant, metric`
      return rows.map((row) =>
        sequentialRows.orThrow(
          { variant: row.variant, metric: row.metric, pValue: row.p_value },
          `ml_experiment_sequential row (${experimentId}, ${row.variant}, ${row.metric})`
        )
      )
    }),

  counters: (experimentId, variantCount) =>
    query("counters", async () => {
      const [exposures, metrics] = await Promise.all([
        sql<Array<{ variant: number; count: string }>>`
          SELECT variant, count FROM ml_experiment_exposures WHERE experiment_id = ${experimentId}`,
        sql<
          Array<
            { variant: number; metric: string; summary: unknown; covariate_pairs: unknown; denominator_pairs: unknown }
          >
        >`
          SELECT variant, metric, summary, covariate_pairs, denominator_pairs
          FROM ml_experiment_metrics WHERE experiment_id = ${experimentId}`
      ])
      const pairs = ExperimentStore.pairedCounters(
        metrics.flatMap((row) =>
          ExperimentStore.pairKinds.flatMap((kind) => {
            const stored = row[pairColumn[kind]]
            if (stored === null) return []
            const where = `ml_experiment_metrics row (${experimentId}, ${row.variant}, ${row.metric}) ${
              pairColumn[kind]
            }`
            return [{ kind, variant: row.variant, metric: row.metric, summary: pairedSummaries.orThrow(stored, where) }]
          })
        ),
        variantCount
      )
      const variants = Array.from(
        { length: variantCount },
        (_, v) => ({ ...pairs[v], exposures: 0, metrics: {} as Record<string, ExperimentStore.SummaryRecord> })
      )
      for (const row of exposures) if (row.variant < variantCount) variants[row.variant]!.exposures = Number(row.count)
      for (const row of metrics) {
        if (row.variant >= variantCount) continue
        variants[row.variant]!.metrics[row.metric] = summaries.orThrow(
          row.summary,
          `ml_experiment_metrics row (${experimentId}, ${row.variant}, ${row.metric})`
        )
      }
      return { variants }
    }),

  ...assignmentTransfer({ query, sql }),
  mergeDimensionMetrics: (experimentId, updates) =>
    query("dimension metric merge", async () => {
      if (updates.length === 0) return
      await sql.begin(async (tx) => {
        const kept = await keptValues(tx, experimentId, updates)
        // Capped values can meet: merged here first, then each row merged once, in one lock order.
        const merged = new Map<
          string,
          { dimension: string; value: string; variant: number; metric: string; summary: ExperimentStore.SummaryRecord }
        >()
        for (const u of updates) {
          const value = kept.get(`${u.dimension}\u0000${u.value}`)!
          const key = [u.dimension, value, String(u.variant).padStart(4, "0"), u.metric].join("\u0000")
          const before = merged.get(key)
          merged.set(key, { ...u, value, summary: before ? mergeSummaries(before.summary, u.summary) : u.summary })
        }
        for (const key of [...merged.keys()].sort(byText)) {
          const { dimension, metric, summary, value, variant } = merged.get(key)!
          const inserted = await tx`
            INSERT INTO ml_experiment_dimension_metrics (experiment_id, dimension, value, variant, metric, summary)
            VALUES (${experimentId}, ${dimension}, ${value}, ${variant}, ${metric}, ${tx.json(summary as never)})
            ON CONFLICT DO NOTHING RETURNING variant`
          if (inserted.length === 1) continue
          const [row] = await tx<Array<{ summary: unknown }>>`
            SELECT summary FROM ml_experiment_dimension_metrics
            WHERE experiment_id = ${experimentId} AND dimension = ${dimension} AND value = ${value}
              AND variant = ${variant} AND metric = ${metric} FOR UPDATE`
          const where =
            `ml_experiment_dimension_metrics row (${experimentId}, ${dimension}, ${value}, ${variant}, ${metric})`
          if (row === undefined) throw new Error(`${where} vanished after a conflicting insert`)
          const next = mergeSummaries(summaries.orThrow(row.summary, where), summary)
          await tx`UPDATE ml_experiment_dimension_metrics SET summary = ${tx.json(next as never)}
                   WHERE experiment_id = ${experimentId} AND dimension = ${dimension} AND value = ${value}
                     AND variant = ${variant} AND metric = ${metric}`
        }
      })
    }),
  addDimensionExposures: (experimentId, updates) =>
    query("dimension exposures", async () => {
      if (updates.length === 0) return
      await sql.begin(async (tx) => {
        const kept = await keptValues(tx, experimentId, updates)
        const counts = new Map<string, { dimension: string; value: string; variant: number; count: number }>()
        for (const u of updates) {
          const value = kept.get(`${u.dimension}\u0000${u.value}`)!
          const key = [u.dimension, value, String(u.variant).padStart(4, "0")].join("\u0000")
          counts.set(key, { ...u, value, count: (counts.get(key)?.count ?? 0) + u.count })
        }
        for (const key of [...counts.keys()].sort(byText)) {
          const { count, dimension, value, variant } = counts.get(key)!
          await tx`
            INSERT INTO ml_experiment_dimension_exposures (experiment_id, dimension, value, variant, count)
            VALUES (${experimentId}, ${dimension}, ${value}, ${variant}, ${count})
            ON CONFLICT (experiment_id, dimension, value, variant)
            DO UPDATE SET count = ml_experiment_dimension_exposures.count + EXCLUDED.count`
        }
      })
    }),
  dimensionCounters: (experimentId, dimension, variantCount) =>
    query("dimension counters", async () => {
      const [values, metrics, exposures] = await Promise.all([
        sql<Array<{ value: string }>>`SELECT value FROM ml_experiment_dimension_values
          WHERE experiment_id = ${experimentId} AND dimension = ${dimension} ORDER BY value`,
        sql<Array<{ value: string; variant: number; metric: string; summary: unknown }>>`
          SELECT value, variant, metric, summary FROM ml_experiment_dimension_metrics
          WHERE experiment_id = ${experimentId} AND dimension = ${dimension}`,
        sql<Array<{ value: string; variant: number; count: string }>>`
          SELECT value, variant, count FROM ml_experiment_dimension_exposures
          WHERE experiment_id = ${experimentId} AND dimension = ${dimension}`
      ])
      const slices = values.map(({ value }) => ({
        value,
        variants: Array.from({ length: variantCount }, (_, variant) => ({
          exposures: Number(exposures.find((e) => e.value === value && e.variant === variant)?.count ?? 0),
          metrics: Object.fromEntries(
            metrics.filter((m) => m.value === value && m.variant === variant).map((m) => [m.metric, m.summary])
          )
        }))
      }))
      return dimensionSlices.orThrow(slices, `ml_experiment_dimension_metrics rows of ${experimentId}, ${dimension}`)
    }),
  dimensionNames: (experimentId) =>
    query(
      "dimension names",
      async () =>
        (await sql<Array<{ dimension: string }>>`SELECT DISTINCT dimension FROM ml_experiment_dimension_values
        WHERE experiment_id = ${experimentId} ORDER BY dimension`).map((r) => r.dimension)
    ),
  ping: () => ping()
})

/**
 * Copying a store's sticky assignments (ml-server migrate): pages in user order from the last
 * user of the previous page (keyset, so each page is one index range), expired ones left out as
 * for any reader; an import inserts a batch in one statement, keeping any assignment already there.
 */
const assignmentTransfer = (
  { query, sql }: Pick<PostgresClientShape, "query" | "sql">
): Pick<ExperimentStore.ExperimentStoreShape, "exportAssignments" | "importAssignments"> => ({
  exportAssignments: (experimentId, cursor, limit) =>
    query("assignment export", async () => {
      const rows = await sql<Array<{ user_id: string; record: unknown }>>`
        SELECT user_id, record FROM ml_assignments
        WHERE experiment_id = ${experimentId} AND ${live(sql)}
          ${cursor === undefined ? sql`` : sql`AND user_id > ${cursor}`}
        ORDER BY user_id LIMIT ${limit}`
      return {
        assignments: rows.map((row) =>
          assignments.orThrow(row.record, `ml_assignments row (${experimentId}, ${row.user_id})`)
        ),
        next: rows.length === limit ? rows.at(-1)!.user_id : undefined
      }
    }),
  importAssignments: (batch) =>
    query("assignment import", async () => {
      if (batch.length === 0) return 0
      const inserted = await sql`
        INSERT INTO ml_assignments (experiment_id, user_id, record)
        SELECT a.value ->> 'experimentId', a.value ->> 'userId', a.value
        FROM jsonb_array_elements(${sql.json(batch as never)}) AS a(value)
        ON CONFLICT (experiment_id, user_id) DO NOTHING`
      return inserted.count
    })
})

export const layerWith = (
  options: ExperimentStoreOptions
): Layer.Layer<ExperimentStore.ExperimentStore, never, PostgresClient> =>
  Layer.effect(ExperimentStore.ExperimentStore, PostgresClient.useSync((client) => make(client, options)))

export const layer: Layer.Layer<ExperimentStore.ExperimentStore, never, PostgresClient> = layerWith({})
