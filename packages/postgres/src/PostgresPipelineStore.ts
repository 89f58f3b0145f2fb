/**
 * Online-learning pipelines and their sample side in PostgreSQL. Every sample write locks the
 * pipeline's counters row first (SELECT ... FOR UPDATE), then deduplicates against the remembered
 * ids, appends, and trims the buffer, the ids and the progressive window in the same transaction,
 * so samples from many instances reach one buffer with no duplicate and no lost count. A batch is
 * written with a few set-based statements (jsonb_array_elements, unnest), whatever its size.
 */
import {
  decodeLiveState,
  encodeLiveState,
  LearnerState,
  Pipeline,
  PipelineConflictError,
  PipelineStore,
  StaleRevisionError,
  storedRecord
} from "@org/ml-core"
import { Effect, Layer } from "effect"
import type { TransactionSql } from "postgres"
import { PostgresClient, type PostgresClientShape } from "./PostgresClient.js"

const pipelines = storedRecord(Pipeline)
const samples = storedRecord(PipelineStore.StoredSample)
const jsonStates = storedRecord(LearnerState)
const updates = storedRecord(PipelineStore.UpdateRecord)
const progressiveEntries = storedRecord(PipelineStore.ProgressiveEntry)

interface ListSizes {
  readonly buffered: number
  readonly seen: number
  readonly progressive: number
}

/** Takes the pipeline's sample lock, creating its counters row on first use; answers the list sizes. */
const lockSamples = async (tx: TransactionSql, id: string): Promise<ListSizes> => {
  await tx`INSERT INTO ml_pipeline_counters (pipeline_id) VALUES (${id}) ON CONFLICT (pipeline_id) DO NOTHING`
  const [row] = await tx<Array<{ buffered: string; seen: string; progressive: string }>>`
    SELECT buffered, seen, progressive FROM ml_pipeline_counters WHERE pipeline_id = ${id} FOR UPDATE`
  return { buffered: Number(row!.buffered), seen: Number(row!.seen), progressive: Number(row!.progressive) }
}

/** Deletes the oldest `count` rows of one pipeline in `table` (its size is known: no counting). */
const deleteOldest = async (tx: TransactionSql, table: string, id: string, count: number): Promise<void> => {
  if (count <= 0) return
  await tx`DELETE FROM ${tx(table)} WHERE seq IN (
    SELECT seq FROM ${tx(table)} WHERE pipeline_id = ${id} ORDER BY seq LIMIT ${count})`
}

/** Deletes all but the newest `keep` rows of one pipeline in `table`. */
const keepNewest = async (tx: TransactionSql, table: string, id: string, keep: number): Promise<void> => {
  await tx`DELETE FROM ${tx(table)} WHERE pipeline_id = ${id} AND seq <= (
    SELECT seq FROM ${tx(table)} WHERE pipeline_id = ${id} ORDER BY seq DESC OFFSET ${keep} LIMIT 1)`
}

const decodeSamples = (rows: ReadonlyArray<{ seq: string; record: unknown }>, table: string) =>
  rows.map((row) => samples.orThrow(row.record, `${table} row ${row.seq}`))

export const make = ({ query, sql }: PostgresClientShape): PipelineStore.PipelineStoreShape => ({
  insert: (pipeline) =>
    query("pipeline insert", () =>
      sql`INSERT INTO ml_pipelines (id, revision, record)
          VALUES (${pipeline.id}, ${pipeline.revision}, ${sql.json(pipeline as never)})
          ON CONFLICT (id) DO NOTHING RETURNING id`).pipe(
        Effect.flatMap((rows) =>
          rows.length === 1 ? Effect.void : Effect.fail(
            new PipelineConflictError({ pipelineId: pipeline.id, message: `Pipeline ${pipeline.id} already exists` })
          )
        )
      ),

  get: (id) =>
    query("pipeline read", async () => {
      const [row] = await sql<Array<{ record: unknown }>>`SELECT record FROM ml_pipelines WHERE id = ${id}`
      return row === undefined ? undefined : pipelines.orThrow(row.record, `ml_pipelines row ${id}`)
    }),

  // The record leaves PostgreSQL only when its revision is not the caller's: an unchanged one is a
  // primary-key lookup answering one integer (predictions check their cached pipeline this way).
  getIfChanged: (id, knownRevision) =>
    query("pipeline revision check", async () => {
      const [row] = await sql<Array<{ record: unknown }>>`
        SELECT CASE WHEN revision = ${knownRevision} THEN NULL ELSE record END AS record
        FROM ml_pipelines WHERE id = ${id}`
      if (row === undefined) return undefined
      return row.record === null ? "unchanged" : pipelines.orThrow(row.record, `ml_pipelines row ${id}`)
    }),

  list: () =>
    query(
      "pipeline list",
      async () =>
        (await sql<Array<{ id: string; record: unknown }>>`SELECT id, record FROM ml_pipelines ORDER BY seq`)
          .map((row) => pipelines.orThrow(row.record, `ml_pipelines row ${row.id}`))
    ),

  commit: (pipeline, expectedRevision) =>
    query(
      "pipeline commit",
      () =>
        sql`UPDATE ml_pipelines SET revision = ${pipeline.revision}, record = ${sql.json(pipeline as never)}
          WHERE id = ${pipeline.id} AND revision = ${expectedRevision} RETURNING id`
    ).pipe(
      Effect.flatMap((rows) =>
        rows.length === 1
          ? Effect.void
          : Effect.fail(new StaleRevisionError({ message: `Pipeline ${pipeline.id} changed since it was read` }))
      )
    ),

  addSamples: (id, batch, { dedupWindow, maxBufferSize, progressiveWindow }, predictions, expectedRevision) =>
    query("sample ingestion", () =>
      sql.begin(async (tx): Promise<PipelineStore.SamplesAdded | undefined> => {
        const sizes = await lockSamples(tx, id)
        if (expectedRevision !== undefined) {
          // FOR SHARE: a commit of the pipeline waits until this batch is in, so none slips between.
          const [row] = await tx<Array<{ revision: number }>>`
            SELECT revision FROM ml_pipelines WHERE id = ${id} FOR SHARE`
          if (row === undefined || Number(row.revision) !== expectedRevision) return undefined
        }
        // Remembering the ids is the deduplication: the ids not remembered yet come back, in batch
        // order (a repeat within the batch conflicts with its first occurrence and is skipped).
        const remembered = batch.length === 0 ? [] : await tx<Array<{ sample_id: string }>>`
          INSERT INTO ml_pipeline_seen (pipeline_id, sample_id)
          SELECT ${id}, s.id FROM unnest(${tx.array(batch.map((s) => s.sampleId), 25)}::text[])
          WITH ORDINALITY AS s(id, n) ORDER BY s.n
          ON CONFLICT (pipeline_id, sample_id) DO NOTHING
          RETURNING sample_id`
        const isNew = new Set(remembered.map((row) => row.sample_id))
        const fresh: Array<PipelineStore.StoredSample> = []
        const scored: Array<PipelineStore.ProgressiveEntry> = []
        batch.forEach((sample, i) => {
          if (!isNew.delete(sample.sampleId)) return
          fresh.push(sample)
          if (predictions) scored.push({ prediction: predictions[i]!, label: sample.label })
        })
        if (fresh.length > 0) {
          await tx`INSERT INTO ml_pipeline_samples (pipeline_id, sample_id, record)
                   SELECT ${id}, s.value ->> 'sampleId', s.value
                   FROM jsonb_array_elements(${tx.json(fresh as never)}) WITH ORDINALITY AS s(value, n) ORDER BY s.n`
        }
        if (scored.length > 0) {
          await tx`INSERT INTO ml_pipeline_progressive (pipeline_id, prediction, label)
                   SELECT ${id}, p.prediction, p.label
                   FROM unnest(${tx.array(scored.map((e) => e.prediction), 701)}::float8[],
                               ${tx.array(scored.map((e) => e.label), 701)}::float8[])
                   WITH ORDINALITY AS p(prediction, label, n) ORDER BY p.n`
        }
        const buffered = sizes.buffered + fresh.length
        const dropped = Math.max(0, buffered - maxBufferSize)
        const seen = sizes.seen + fresh.length
        const progressive = sizes.progressive + scored.length
        await deleteOldest(tx, "ml_pipeline_samples", id, dropped)
        await deleteOldest(tx, "ml_pipeline_seen", id, seen - dedupWindow)
        await deleteOldest(tx, "ml_pipeline_progressive", id, progressive - progressiveWindow)
        const duplicates = batch.length - fresh.length
        await tx`UPDATE ml_pipeline_counters
                 SET received = received + ${batch.length}, duplicates = duplicates + ${duplicates},
                     dropped = dropped + ${dropped}, buffered = ${buffered - dropped},
                     seen = ${Math.min(seen, dedupWindow)}, progressive = ${Math.min(progressive, progressiveWindow)}
                 WHERE pipeline_id = ${id}`
        return { added: fresh.length, duplicates, dropped, buffered: buffered - dropped }
      })).pipe(
        Effect.flatMap((added) =>
          added === undefined
            ? Effect.fail(new StaleRevisionError({ message: `Pipeline ${id} changed since it was read` }))
            : Effect.succeed(added)
        )
      ),

  buffer: (id) =>
    query("buffer read", async () =>
      decodeSamples(
        await sql`SELECT seq, record FROM ml_pipeline_samples WHERE pipeline_id = ${id} ORDER BY seq`,
        "ml_pipeline_samples"
      )),

  bufferSize: (id) =>
    query("buffer size", async () => {
      const [row] = await sql<Array<{ buffered: string }>>`
        SELECT buffered FROM ml_pipeline_counters WHERE pipeline_id = ${id}`
      return Number(row?.buffered ?? 0)
    }),

  removeSamples: (id, sampleIds) =>
    query("sample removal", () =>
      sql.begin(async (tx) => {
        if (sampleIds.length === 0) return
        await lockSamples(tx, id)
        const removed = await tx`DELETE FROM ml_pipeline_samples
                 WHERE pipeline_id = ${id} AND sample_id = ANY (${tx.array([...sampleIds], 25)}::text[])`
        await tx`UPDATE ml_pipeline_counters SET buffered = buffered - ${removed.count} WHERE pipeline_id = ${id}`
      })),

  counters: (id) =>
    query("counters", async () => {
      const [row] = await sql<Array<{ received: string; duplicates: string; dropped: string; processed: string }>>`
        SELECT received, duplicates, dropped, processed FROM ml_pipeline_counters WHERE pipeline_id = ${id}`
      return {
        received: Number(row?.received ?? 0),
        duplicates: Number(row?.duplicates ?? 0),
        dropped: Number(row?.dropped ?? 0),
        processed: Number(row?.processed ?? 0)
      }
    }),

  addProcessed: (id, count) =>
    query(
      "processed count",
      () =>
        sql`INSERT INTO ml_pipeline_counters (pipeline_id, processed) VALUES (${id}, ${count})
          ON CONFLICT (pipeline_id) DO UPDATE SET processed = ml_pipeline_counters.processed + excluded.processed`
    )
      .pipe(Effect.asVoid),

  liveState: (id) =>
    query("learner state read", async () => {
      const [row] = await sql<Array<{ state: unknown; encoded: Uint8Array | null }>>`
        SELECT state, encoded FROM ml_pipeline_states WHERE pipeline_id = ${id}`
      if (row === undefined) return undefined
      const where = `ml_pipeline_states row ${id}`
      // Format-2 bytes since schema version 10; format-1 JSON in rows written before.
      return row.encoded === null ? jsonStates.orThrow(row.state, where) : decodeLiveState(row.encoded, where)
    }),

  setLiveState: (id, state) =>
    query("learner state write", () => {
      const bytes = encodeLiveState(state)
      const encoded = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength)
      return sql`INSERT INTO ml_pipeline_states (pipeline_id, state, encoded) VALUES (${id}, NULL, ${encoded})
          ON CONFLICT (pipeline_id) DO UPDATE SET state = NULL, encoded = excluded.encoded`
    }).pipe(Effect.asVoid),

  progressive: (id) =>
    query("progressive window read", async () =>
      (await sql<Array<{ seq: string; prediction: number; label: number }>>`
        SELECT seq, prediction, label FROM ml_pipeline_progressive WHERE pipeline_id = ${id} ORDER BY seq`)
        .map((row) =>
          progressiveEntries.orThrow(
            { prediction: row.prediction, label: row.label },
            `ml_pipeline_progressive row ${row.seq}`
          )
        )),

  addValidation: (id, batch, max) =>
    query("validation append", () =>
      sql.begin(async (tx) => {
        await lockSamples(tx, id)
        if (batch.length > 0) {
          await tx`INSERT INTO ml_pipeline_validation (pipeline_id, record)
                   SELECT ${id}, s.value
                   FROM jsonb_array_elements(${tx.json(batch as never)}) WITH ORDINALITY AS s(value, n) ORDER BY s.n`
        }
        await keepNewest(tx, "ml_pipeline_validation", id, max)
      })),

  validation: (id) =>
    query("validation read", async () =>
      decodeSamples(
        await sql`SELECT seq, record FROM ml_pipeline_validation WHERE pipeline_id = ${id} ORDER BY seq`,
        "ml_pipeline_validation"
      )),

  appendUpdate: (record) =>
    query("update record append", () =>
      sql`INSERT INTO ml_pipeline_updates (pipeline_id, record)
          VALUES (${record.pipelineId}, ${sql.json(record as never)})`).pipe(Effect.asVoid),

  updates: (id) =>
    query("update records read", async () =>
      (await sql<Array<{ seq: string; record: unknown }>>`
        SELECT seq, record FROM ml_pipeline_updates WHERE pipeline_id = ${id} ORDER BY seq`)
        .map((row) => updates.orThrow(row.record, `ml_pipeline_updates row ${row.seq}`))),

  ...sampleTransfer({ query, sql })
})

/**
 * Copying a pipeline's sample side (ml-server migrate): read table by table in sequence order; an
 * import holds the pipeline's sample lock, replaces every row and sets the counters and list sizes
 * in one transaction.
 */
const sampleTransfer = (
  { query, sql }: Pick<PostgresClientShape, "query" | "sql">
): Pick<PipelineStore.PipelineStoreShape, "exportSampleData" | "importSampleData"> => ({
  exportSampleData: (id) =>
    query("sample data export", () =>
      sql.begin("isolation level repeatable read", async (tx) => {
        const counters = await tx<Array<{ received: string; duplicates: string; dropped: string; processed: string }>>`
          SELECT received, duplicates, dropped, processed FROM ml_pipeline_counters WHERE pipeline_id = ${id}`
        const seen = await tx<Array<{ sample_id: string }>>`
          SELECT sample_id FROM ml_pipeline_seen WHERE pipeline_id = ${id} ORDER BY seq`
        const progressive = await tx<Array<{ seq: string; prediction: number; label: number }>>`
          SELECT seq, prediction, label FROM ml_pipeline_progressive WHERE pipeline_id = ${id} ORDER BY seq`
        const row = counters[0]
        return {
          buffer: decodeSamples(
            await tx`SELECT seq, record FROM ml_pipeline_samples WHERE pipeline_id = ${id} ORDER BY seq`,
            "ml_pipeline_samples"
          ),
          seen: seen.map((r) => r.sample_id),
          counters: {
            received: Number(row?.received ?? 0),
            duplicates: Number(row?.duplicates ?? 0),
            dropped: Number(row?.dropped ?? 0),
            processed: Number(row?.processed ?? 0)
          },
          progressive: progressive.map((r) =>
            progressiveEntries.orThrow(
              { prediction: r.prediction, label: r.label },
              `ml_pipeline_progressive row ${r.seq}`
            )
          ),
          validation: decodeSamples(
            await tx`SELECT seq, record FROM ml_pipeline_validation WHERE pipeline_id = ${id} ORDER BY seq`,
            "ml_pipeline_validation"
          )
        }
      })),

  importSampleData: (id, data) =>
    query("sample data import", () =>
      sql.begin(async (tx) => {
        await lockSamples(tx, id)
        for (
          const table of [
            "ml_pipeline_samples",
            "ml_pipeline_seen",
            "ml_pipeline_progressive",
            "ml_pipeline_validation"
          ]
        ) {
          await tx`DELETE FROM ${tx(table)} WHERE pipeline_id = ${id}`
        }
        if (data.buffer.length > 0) {
          await tx`INSERT INTO ml_pipeline_samples (pipeline_id, sample_id, record)
                   SELECT ${id}, s.value ->> 'sampleId', s.value
                   FROM jsonb_array_elements(${
            tx.json(data.buffer as never)
          }) WITH ORDINALITY AS s(value, n) ORDER BY s.n`
        }
        if (data.seen.length > 0) {
          await tx`INSERT INTO ml_pipeline_seen (pipeline_id, sample_id)
                   SELECT ${id}, s.id FROM unnest(${tx.array([...data.seen], 25)}::text[]) WITH ORDINALITY AS s(id, n)
                   ORDER BY s.n`
        }
        if (data.progressive.length > 0) {
          await tx`INSERT INTO ml_pipeline_progressive (pipeline_id, prediction, label)
                   SELECT ${id}, p.prediction, p.label
                   FROM unnest(${tx.array(data.progressive.map((e) => e.prediction), 701)}::float8[],
                               ${tx.array(data.progressive.map((e) => e.label), 701)}::float8[])
                   WITH ORDINALITY AS p(prediction, label, n) ORDER BY p.n`
        }
        if (data.validation.length > 0) {
          await tx`INSERT INTO ml_pipeline_validation (pipeline_id, record)
                   SELECT ${id}, s.value
                   FROM jsonb_array_elements(${tx.json(data.validation as never)}) WITH ORDINALITY AS s(value, n)
                   ORDER BY s.n`
        }
        const { dropped, duplicates, processed, received } = data.counters
        await tx`UPDATE ml_pipeline_counters
                 SET received = ${received}, duplicates = ${duplicates}, dropped = ${dropped},
                     processed = ${processed}, buffered = ${data.buffer.length}, seen = ${data.seen.length},
                     progressive = ${data.progressive.length}
                 WHERE pipeline_id = ${id}`
      }))
})

export const layer: Layer.Layer<PipelineStore.PipelineStore, never, PostgresClient> = Layer.effect(
  PipelineStore.PipelineStore,
  PostgresClient.useSync((client) => make(client))
)
