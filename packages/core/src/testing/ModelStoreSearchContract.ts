/**
 * The search part of the ModelStore contract (run by `modelStoreContract` on every adapter): a set
 * of generated models with awkward values (case, quotes, LIKE wildcards, astral and private-use
 * characters, missing fields, mixed parameter types, ties) is searched with generated and fixed
 * queries, and every adapter's answer must equal that of a naive evaluator written here, apart
 * from the core's, so adapters agree with each other and with the language's definition. Paging
 * through cursors must give the same sequence, and injection attempts must be plain values.
 */
import { Effect, type Layer } from "effect"
import { describe, expect, it } from "vitest"
import type { Model } from "../registry/Model.js"
import { parseFilter, parseOrderBy, type SearchCondition, type SearchOrder } from "../registry/ModelSearch.js"
import { decodeSearchCursor, encodeSearchCursor } from "../registry/ModelSearchEvaluation.js"
import { ModelStore } from "../registry/ModelStore.js"
import { sampleEvent, sampleModel } from "./fixtures.js"

/** A small seeded generator, so a failing query can be reproduced. */
const seeded = (seed: number) => () => {
  seed = (seed + 0x6d2b79f5) | 0
  let t = Math.imul(seed ^ (seed >>> 15), 1 | seed)
  t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t
  return ((t ^ (t >>> 14)) >>> 0) / 4294967296
}

const strings = ["risk", "Risk", "RISK", "ris%k", "a_b", "axb", "o'neil", "é", "😀", "\uE000", "", "z"]
const statuses = ["draft", "testing", "staging", "production", "archived"] as const

const generateModels = (prefix: string, count: number, random: () => number): Array<Model> => {
  const pick = <A>(items: ReadonlyArray<A>): A => items[Math.floor(random() * items.length)]!
  const maybe = <A>(value: () => A): A | undefined => (random() < 0.7 ? value() : undefined)
  return Array.from({ length: count }, (_, i) => {
    const auc = maybe(() => pick([0.5, 0.75, 0.9, 0.91, 1, -0.25, 1e-7]))
    const f1 = maybe(() => pick([0.1, 0.9]))
    const team = maybe(() => pick(strings))
    const env = maybe(() => pick(["prod", "dev", "PROD"]))
    const depth = maybe(() => pick<string | number>([6, 12, "6", "deep"]))
    return sampleModel({
      name: `${prefix}${pick(["churn", "Churn", "fraud", "rank_v2", "rankxv2"])}`,
      version: `v${i}`,
      status: pick(statuses),
      algorithm: pick(["xgboost", "XGBoost", "logistic_regression", "rf"]),
      framework: pick(["sklearn", "torch", "xgboost"]),
      metrics: { ...(auc !== undefined ? { auc } : {}), ...(f1 !== undefined ? { f1 } : {}) },
      parameters: { penalty: pick(["l1", "l2"]), ...(depth !== undefined ? { depth } : {}), flag: random() < 0.5 },
      tags: random() < 0.5 ? ["gpu"] : random() < 0.5 ? ["gpu", "old"] : [],
      ...(random() < 0.85
        ? {
          keyValueTags: {
            ...(team !== undefined ? { team } : {}),
            ...(env !== undefined ? { env } : {}),
            ...(random() < 0.2 ? { "odd key": "x'y" } : {})
          }
        }
        : {}),
      createdAt: new Date(Date.UTC(2026, 0, 1 + Math.floor(random() * 5))).toISOString()
    })
  })
}

const quote = (text: string) => `'${text.replace(/'/g, "''")}'`

/** Random single conditions over every field kind and operator, in the language's text form. */
const generateConditions = (random: () => number, count: number): Array<string> => {
  const pick = <A>(items: ReadonlyArray<A>): A => items[Math.floor(random() * items.length)]!
  const comparison = () => pick(["=", "!=", "<", "<=", ">", ">="])
  const stringOp = () => pick(["=", "!=", "<", "<=", ">", ">=", "LIKE", "ILIKE", "IN"])
  const pattern = () => pick(["%", "r%", "%K", "ris\\%k", "a\\_b", "a_b", "_", "%é%", "😀", "%isk", "R_SK"])
  const stringRhs = (op: string, values: ReadonlyArray<string>) =>
    op === "LIKE" || op === "ILIKE"
      ? quote(pattern())
      : op === "IN"
      ? `(${[pick(values), pick(values)].map(quote).join(", ")})`
      : quote(pick(values))
  const generators: Array<() => string> = [
    () => {
      const op = stringOp()
      return `tags.team ${op} ${stringRhs(op, strings)}`
    },
    () => {
      const op = stringOp()
      return `tags.env ${op} ${stringRhs(op, ["prod", "PROD", "dev", "p"])}`
    },
    () => `tags.\`odd key\` ${pick(["=", "!="])} 'x''y'`,
    () => `metrics.auc ${comparison()} ${pick(["0.9", "0.91", "1", "-0.25", "1e-7", "0"])}`,
    () => `metrics.f1 ${pick(["IN (0.1, 0.5)", "= 0.9", "!= 0.9"])}`,
    () => `params.depth ${comparison()} ${pick(["6", "'6'", "'deep'", "12", "7"])}`,
    () => `params.depth IN (6, 'deep')`,
    () => `params.penalty ${pick(["= 'l1'", "LIKE 'l%'", "ILIKE 'L2'", "> 'l1'"])}`,
    () => `params.flag = 'true'`,
    () => `status ${pick(["= 'production'", "!= 'draft'", "IN ('staging', 'production')", "< 'staging'"])}`,
    () => `algorithm ${pick(["ILIKE 'xgb%'", "LIKE 'XG%'", "= 'rf'", ">= 'logistic'"])}`,
    () => `framework ${pick(["= 'torch'", "IN ('sklearn', 'xgboost')", "!= 'sklearn'"])}`,
    () => `name ${pick(["LIKE '%churn'", "ILIKE '%CHURN'", "LIKE '%rank\\_v2'", "LIKE '%rank_v2'"])}`,
    () => `version ${pick(["= 'v3'", "> 'v2'", "IN ('v1', 'v10')"])}`,
    () =>
      `created_at ${comparison()} ${pick(["'2026-01-03'", "'2026-01-02T00:00:00Z'", String(Date.UTC(2026, 0, 4))])}`,
    () => `labels ${pick(["= 'gpu'", "!= 'old'", "IN ('old', 'none')"])}`
  ]
  return Array.from({ length: count }, () => {
    const size = 1 + Math.floor(random() * 3)
    return Array.from({ length: size }, () => pick(generators)()).join(" AND ")
  })
}

const orders = [
  "",
  "metrics.auc DESC",
  "metrics.auc",
  "tags.team",
  "tags.team DESC",
  "name DESC",
  "created_at DESC",
  "algorithm",
  "status ASC",
  "version"
]

// ---------------------------------------------------------------------------------------------
// The naive evaluator: the language's definition, written independently of ModelSearchEvaluation.

const codePoints = (text: string) => Array.from(text, (c) => c.codePointAt(0)!)
const compareCodePoints = (a: string, b: string) => {
  const x = codePoints(a)
  const y = codePoints(b)
  for (let i = 0; i < Math.min(x.length, y.length); i++) if (x[i] !== y[i]) return x[i]! < y[i]! ? -1 : 1
  return x.length === y.length ? 0 : x.length < y.length ? -1 : 1
}
const naiveCompare = (a: string | number, b: string | number) =>
  typeof a === "number" ? (a < (b as number) ? -1 : a > (b as number) ? 1 : 0) : compareCodePoints(a, b as string)

const likeRegex = (pattern: string, insensitive: boolean) => {
  let source = ""
  const chars = Array.from(pattern)
  for (let i = 0; i < chars.length; i++) {
    const c = chars[i]!
    if (c === "\\") source += chars[++i]!.replace(/[.*+?^${}()|[\]\\/-]/g, "\\$&")
    else if (c === "%") source += "[\\s\\S]*"
    else if (c === "_") source += "[\\s\\S]"
    else {source += insensitive && /[a-z]/i.test(c)
        ? `[${c.toLowerCase()}${c.toUpperCase()}]`
        : c.replace(/[.*+?^${}()|[\]\\/-]/g, "\\$&")}
  }
  return new RegExp(`^${source}$`, "u")
}

const raw = (model: Model, condition: SearchCondition): unknown => {
  const field = condition.field
  if (field.kind === "attribute") return field.name === "created_at" ? model.createdAt : model[field.name]
  const bag: Record<string, unknown> | undefined = field.kind === "metric"
    ? model.metrics
    : field.kind === "param"
    ? model.parameters
    : field.kind === "tag"
    ? model.keyValueTags
    : undefined
  return bag !== undefined && field.kind !== "labels" && Object.prototype.hasOwnProperty.call(bag, field.key)
    ? bag[field.key]
    : undefined
}

const naiveHolds = (model: Model, condition: SearchCondition): boolean => {
  if (condition.field.kind === "labels") {
    if (condition.op === "IN") return condition.values.some((v) => model.tags.includes(v as string))
    const has = model.tags.includes(condition.value as string)
    return condition.op === "=" ? has : !has
  }
  const actual = raw(model, condition)
  if (typeof actual !== "string" && typeof actual !== "number") return false
  if (condition.op === "IN") {
    return condition.values.some((v) => typeof v === typeof actual && naiveCompare(actual, v) === 0)
  }
  if (condition.op === "LIKE" || condition.op === "ILIKE") {
    return typeof actual === "string" && likeRegex(condition.value, condition.op === "ILIKE").test(actual)
  }
  if (typeof condition.value !== typeof actual) return false
  const c = naiveCompare(actual, condition.value)
  return { "=": c === 0, "!=": c !== 0, "<": c < 0, "<=": c <= 0, ">": c > 0, ">=": c >= 0 }[condition.op]
}

const naiveSearch = (models: ReadonlyArray<Model>, filter: ReadonlyArray<SearchCondition>, order?: SearchOrder) => {
  const matching = models.filter((m) => filter.every((c) => naiveHolds(m, c)))
  const key = (m: Model): string | number | undefined => {
    if (order === undefined) return undefined
    const v = raw(m, { field: order.field, op: "=", value: "" })
    return order.field.kind === "metric"
      ? (typeof v === "number" ? v : undefined)
      : typeof v === "string"
      ? v
      : undefined
  }
  return matching.sort((a, b) => {
    const x = key(a)
    const y = key(b)
    if (x !== undefined && y !== undefined) {
      const c = naiveCompare(x, y) * (order?.direction === "DESC" ? -1 : 1)
      if (c !== 0) return c
    } else if (x !== undefined || y !== undefined) return x === undefined ? 1 : -1
    return compareCodePoints(a.id, b.id)
  }).map((m) => m.id)
}

export const modelStoreSearchContract = (adapter: string, makeLayer: () => Layer.Layer<ModelStore, unknown>) => {
  const run = <A, E>(program: Effect.Effect<A, E, ModelStore>): Promise<A> =>
    Effect.runPromise(Effect.provide(program, makeLayer()) as Effect.Effect<A, E>)
  const unique = () => `s${Math.random().toString(36).slice(2, 10)}`

  describe(`ModelStore search contract: ${adapter}`, () => {
    it("answers generated queries exactly as the naive evaluator, in every order, also page by page", async () => {
      const random = seeded(19)
      const prefix = unique()
      const models = generateModels(prefix, 40, random)
      const scope = parseFilter(`name LIKE '${prefix}%'`)
      const queries = [
        "",
        "name = 'churn' AND tags.team = 'risk' AND metrics.auc > 0.9 AND status IN ('staging', 'production')",
        ...generateConditions(random, 60)
      ]
      const results = await run(Effect.gen(function*() {
        const store = yield* ModelStore
        for (const m of models) yield* store.insert(m, sampleEvent(m))
        const answers: Array<{ query: string; order: string; expected: Array<string>; actual: Array<string> }> = []
        for (const [i, query] of queries.entries()) {
          const order = parseOrderBy(orders[i % orders.length]!)
          const filter = [...scope, ...parseFilter(query)]
          const found = yield* store.search({ filter, order, limit: 1000 })
          answers.push({
            query,
            order: orders[i % orders.length]!,
            expected: naiveSearch(models, filter, order),
            actual: found.map((m) => m.id)
          })
        }
        return answers
      }))
      const matched = results.filter((r) => r.expected.length > 0).length
      // The generated queries must exercise something: most match some models, some match none.
      expect(matched).toBeGreaterThan(results.length / 3)
      expect(matched).toBeLessThan(results.length)
      for (const r of results) {
        expect({ query: r.query, order: r.order, ids: r.actual }).toEqual({
          query: r.query,
          order: r.order,
          ids: r.expected
        })
      }

      // Paging: each order, pages of 3 chained by cursors, gives the whole answer once, in order.
      const paged = await run(Effect.gen(function*() {
        const store = yield* ModelStore
        const out: Array<{ order: string; expected: Array<string>; pages: Array<string> }> = []
        for (const text of orders) {
          const order = parseOrderBy(text)
          const filter = [...scope, ...parseFilter("labels != 'old'")]
          const pages: Array<string> = []
          let after = undefined
          for (let guard = 0; guard < 50; guard++) {
            const page: ReadonlyArray<Model> = yield* store.search({ filter, order, after, limit: 3 })
            pages.push(...page.map((m) => m.id))
            if (page.length < 3) break
            const cursor = decodeSearchCursor(encodeSearchCursor(page[2]!, order), order)
            if (typeof cursor === "string") throw new Error(cursor)
            after = cursor
          }
          out.push({ order: text, expected: naiveSearch(models, filter, order), pages })
        }
        return out
      }))
      for (const p of paged) expect({ order: p.order, ids: p.pages }).toEqual({ order: p.order, ids: p.expected })
    })

    it("treats injection attempts as plain values and keeps every model", async () => {
      const prefix = unique()
      const hostile = "x'); DROP TABLE ml_models; --"
      const model = sampleModel({
        name: `${prefix}a`,
        keyValueTags: { [hostile]: hostile, "a'b": "c\"d", "team": "risk" }
      })
      const other = sampleModel({ name: `${prefix}b` })
      const answers = await run(Effect.gen(function*() {
        const store = yield* ModelStore
        yield* store.insert(model, sampleEvent(model))
        yield* store.insert(other, sampleEvent(other))
        const search = (text: string) =>
          store.search({ filter: [...parseFilter(`name LIKE '${prefix}%'`), ...parseFilter(text)], limit: 10 })
        return {
          byKey: yield* search(`tags.${"`x'); DROP TABLE ml_models; --`"} = ${quote(hostile)}`),
          quoted: yield* search(`tags.\`a'b\` = 'c"d'`),
          orTrue: yield* search(`tags.team = 'x'' OR ''1''=''1'`),
          comment: yield* search(`name = '${prefix}a''--'`),
          likeAll: yield* search(`tags.team LIKE '%'' OR 1=1 --'`),
          metricKey: yield* search("metrics.`auc') OR true OR ('` > 0"),
          all: yield* search(""),
          stored: yield* store.get(model.id)
        }
      }))
      expect(answers.byKey.map((m) => m.id)).toEqual([model.id])
      expect(answers.quoted.map((m) => m.id)).toEqual([model.id])
      expect(answers.orTrue).toEqual([])
      expect(answers.comment).toEqual([])
      expect(answers.likeAll).toEqual([])
      expect(answers.metricKey).toEqual([])
      expect(answers.all.map((m) => m.id)).toEqual([model.id, other.id])
      expect(answers.stored?.keyValueTags).toEqual(model.keyValueTags)
    })
  })
}
