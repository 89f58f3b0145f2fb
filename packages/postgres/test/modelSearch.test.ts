// What the ModelStore search contract cannot see on PostgreSQL: that the SQL it runs can use the GIN
// indexes of migration 17 (the planner, with sequential scans disabled, picks them, which it can
// only do for an indexable predicate), and that hostile keys and values leave the table intact.
import { parseFilter, parseOrderBy } from "@org/ml-core"
import type { Sql } from "postgres"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { PostgresClient } from "../src/index.js"
import { searchModels } from "../src/PostgresModelSearch.js"
import { freshDatabase } from "../src/Testing.js"

const database = await freshDatabase("model_search")
let sql: Sql
const rows = 20_000

beforeAll(async () => {
  sql = await PostgresClient.connect({ url: database.url, maxConnections: 2 })
  // Rows as the store writes them (the record is the model's JSON), generated in the database.
  await sql`
    INSERT INTO ml_models (id, name, version, status, framework, parent_model_id, tags, revision, record)
    SELECT lpad(i::text, 26, '0'), 'm' || (i % 50), 'v' || i, 'draft', 'sklearn', NULL,
           CASE WHEN i % 10 = 0 THEN ARRAY['gpu'] ELSE ARRAY[]::text[] END, 1,
           jsonb_build_object(
             'name', 'm' || (i % 50), 'algorithm', 'rf', 'createdAt', '2026-01-01T00:00:00.000Z',
             'metrics', CASE WHEN i % 7 = 0 THEN '{}'::jsonb ELSE jsonb_build_object('auc', (i % 1000) / 1000.0) END,
             'parameters', jsonb_build_object('depth', i % 12),
             'keyValueTags', jsonb_build_object('team', CASE WHEN i % 100 = 0 THEN 'risk' ELSE 'team' || (i % 37) END))
    FROM generate_series(1, ${rows}) AS i`
  await sql`ANALYZE ml_models`
})
afterAll(async () => {
  await sql.end()
  await database.drop()
})

const plan = async (filter: string, order = "") => {
  const query = searchModels(sql, { filter: parseFilter(filter), order: parseOrderBy(order), limit: 50 })
  return await sql.begin(async (tx) => {
    // Without sequential and plain index scans (ORDER BY id LIMIT could walk the primary key), only a
    // bitmap scan of an index that matches the predicate remains: GIN indexes are read that way.
    await tx`SET LOCAL enable_seqscan = off`
    await tx`SET LOCAL enable_indexscan = off`
    const lines = await tx<Array<{ "QUERY PLAN": string }>>`EXPLAIN ${query}`
    return lines.map((l) => l["QUERY PLAN"]).join("\n")
  })
}

describe("PostgreSQL search", () => {
  it("can answer tag equality, label and metric/parameter presence from the GIN indexes", async () => {
    expect(await plan("tags.team = 'risk'")).toContain("ml_models_key_value_tags")
    expect(await plan("labels = 'gpu'")).toContain("ml_models_labels")
    expect(await plan("metrics.auc > 0.9")).toContain("ml_models_metrics")
    expect(await plan("params.depth = 3")).toContain("ml_models_parameters")
  })

  it("finds the tagged rows among many, ordered, in one query", async () => {
    const started = performance.now()
    const found = await searchModels(sql, {
      filter: parseFilter("tags.team = 'risk' AND metrics.auc >= 0.5"),
      order: parseOrderBy("metrics.auc DESC"),
      limit: 500
    })
    const elapsed = performance.now() - started
    // i % 100 = 0 has auc (i % 1000) / 1000 in {0, 0.1, ..., 0.9}; >= 0.5 keeps 0.5..0.9, minus i % 7 = 0.
    const expected = Array.from({ length: rows }, (_, k) => k + 1)
      .filter((i) => i % 100 === 0 && i % 7 !== 0 && (i % 1000) / 1000 >= 0.5)
    expect(found.map((r) => Number(r.id)).sort((a, b) => a - b)).toEqual(expected)
    const aucs = found.map((r) => (r.record as { metrics: { auc: number } }).metrics.auc)
    expect(aucs).toEqual([...aucs].sort((a, b) => b - a))
    console.log(`search over ${rows} rows: ${found.length} found in ${elapsed.toFixed(1)} ms`)
  })

  it("keeps hostile keys and values as bound parameters", async () => {
    for (
      const filter of [
        "tags.`team'); DROP TABLE ml_models; --` = 'x'",
        "tags.team = 'x''; DELETE FROM ml_models; --'",
        "metrics.`auc'::float8; DROP TABLE ml_models; --` > 0",
        "name LIKE '%'' OR ''1''=''1'"
      ]
    ) {
      expect(await searchModels(sql, { filter: parseFilter(filter), limit: 10 })).toEqual([])
    }
    const [{ count }] = await sql<[{ count: string }]>`SELECT count(*) AS count FROM ml_models`
    expect(Number(count)).toBe(rows)
  })
})
