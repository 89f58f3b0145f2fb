/**
 * Contract of the ExperimentStore port, run against every adapter: set-if-absent assignment
 * under concurrency, compare-and-set commits, atomic exposure and summary merges (no lost
 * updates when many writers record at once), per-day exposure counters kept for a bounded number
 * of days, running minima of always-valid p-values lowered atomically, paired summaries (CUPED
 * covariates, ratio denominators) merged and copied like the plain ones, dimension breakdowns
 * merged atomically with their distinct values capped, the definition history appended by each
 * insert and winning commit (never by a refused one) and bounded, and records that read back in
 * their schema's shape.
 */
import { Context, Effect, Exit, Layer, Result, Schema } from "effect"
import { describe, expect, it } from "vitest"
import { DefinitionRevision, definitionRevisionOf, MAX_DEFINITION_HISTORY } from "../experiments/DefinitionHistory.js"
import { DimensionSlice } from "../experiments/Dimensions.js"
import { Assignment, Experiment } from "../experiments/Experiment.js"
import {
  type AssignmentPlan,
  DIMENSION_OTHER,
  ExperimentCounters,
  ExperimentStore,
  type ExperimentStoreShape,
  exportCounters,
  ExposureDay,
  exposureDayOf,
  importCounters,
  MAX_DIMENSION_VALUES,
  MAX_EXPOSURE_DAYS,
  SequentialPValue
} from "../experiments/ExperimentStore.js"
import { makeUlid } from "../shared/Ulid.js"
import { covariance, meanX, meanY, type PairedSummary, summarizePairs } from "../stats/PairedSummary.js"
import { summarize } from "../stats/Summary.js"

export const sampleExperiment = (overrides: Partial<Experiment> = {}): Experiment => {
  const at = new Date().toISOString()
  return {
    id: `exp-${Math.random().toString(36).slice(2, 10)}`,
    name: "ranker v2 vs v1",
    description: "",
    targetMetric: "ctr",
    metricGoals: { ctr: { direction: "maximize" } },
    // Drawn only when not given: a suite declaring a fixed experiment at a module's top level
    // then draws no random values (workerd refuses them while a module is evaluated).
    variants: overrides.variants ?? [
      { modelId: makeUlid(Date.now()), isControl: true, trafficPct: 50 },
      { modelId: makeUlid(Date.now()), isControl: false, trafficPct: 50 }
    ],
    stickyAssignment: true,
    coverage: 1,
    minSamplesPerVariant: 100,
    alpha: 0.05,
    seed: "seed",
    mode: "ab",
    sequential: false,
    status: "running",
    createdAt: at,
    updatedAt: at,
    startedAt: at,
    completedAt: null,
    decision: null,
    trafficHistory: [],
    banditHistory: [],
    revision: 1,
    ...overrides
  }
}

export const experimentStoreContract = (
  adapter: string,
  makeLayer: () => Layer.Layer<ExperimentStore, unknown>,
  /** The adapter provides ExperimentStore.planned (one checked storage step per hot write): its cases run. */
  options: { readonly plannedWrites?: boolean } = {}
) => {
  const run = <A, E>(program: Effect.Effect<A, E, ExperimentStore>): Promise<A> =>
    Effect.runPromise(Effect.provide(program, makeLayer()) as Effect.Effect<A, E>)

  describe(`ExperimentStore contract: ${adapter}`, () => {
    it("exports every sticky assignment page by page and imports them set-if-absent", async () => {
      const [source, copy] = [sampleExperiment(), sampleExperiment()]
      const assignment = (experiment: Experiment, i: number): Assignment => ({
        experimentId: experiment.id,
        userId: `user-${i}`,
        variant: i % 2,
        modelId: experiment.variants[i % 2]!.modelId,
        at: "2030-01-01T00:00:00.000Z"
      })
      const written = Array.from({ length: 45 }, (_, i) => assignment(source, i))
      const r = await run(Effect.gen(function*() {
        const store = yield* ExperimentStore
        yield* store.insert(source)
        yield* Effect.forEach(written, (a) => store.assignIfAbsent(a), { concurrency: 8 })
        const exportAll = Effect.fnUntraced(function*(id: string) {
          const all: Array<Assignment> = []
          let cursor: string | undefined
          let pages = 0
          do {
            const page = yield* store.exportAssignments(id, cursor, 10)
            expect(page.assignments.length).toBeLessThanOrEqual(10)
            all.push(...page.assignments)
            cursor = page.next
            pages++
          } while (cursor !== undefined)
          return { all, pages }
        })
        const exported = yield* exportAll(source.id)
        yield* store.insert(copy)
        // One user of the copy is already assigned, to the other variant: the import keeps that one.
        const kept = { ...assignment(copy, 0), variant: 1, modelId: copy.variants[1]!.modelId }
        yield* store.assignIfAbsent(kept)
        const created = yield* store.importAssignments(exported.all.map((a) => ({ ...a, experimentId: copy.id })))
        const again = yield* store.importAssignments(exported.all.map((a) => ({ ...a, experimentId: copy.id })))
        return {
          exported,
          created,
          again,
          copied: (yield* exportAll(copy.id)).all,
          user7: yield* store.getAssignment(copy.id, "user-7"),
          user0: yield* store.getAssignment(copy.id, "user-0"),
          empty: yield* store.exportAssignments(sampleExperiment().id, undefined, 10)
        }
      }))
      const byUser = (list: ReadonlyArray<Assignment>) => [...list].sort((a, b) => a.userId.localeCompare(b.userId))
      expect(byUser(r.exported.all)).toEqual(byUser(written))
      expect(r.exported.pages).toBeGreaterThanOrEqual(5)
      expect(r.created).toBe(44)
      expect(r.again).toBe(0)
      expect(byUser(r.copied)).toEqual(
        byUser([
          { ...assignment(copy, 0), variant: 1, modelId: copy.variants[1]!.modelId },
          ...written.slice(1).map((a) => ({ ...a, experimentId: copy.id }))
        ])
      )
      expect(r.user7).toEqual({ ...written[7], experimentId: copy.id })
      expect(r.user0).toMatchObject({ variant: 1 })
      expect(r.empty.assignments).toEqual([])
    })

    it("rebuilds counters, days and summaries exactly from their export (importCounters)", async () => {
      const [source, copy] = [sampleExperiment(), sampleExperiment()]
      const r = await run(Effect.gen(function*() {
        const store = yield* ExperimentStore
        yield* store.insert(source)
        yield* store.addExposures(source.id, [5, 2])
        yield* store.addExposures(source.id, [3, 1], "2030-01-01")
        yield* store.addExposures(source.id, [0, 4], "2030-01-02")
        yield* store.mergeMetrics(source.id, [
          { variant: 0, metric: "ctr", summary: summarize([0.1, 0.2, 0.30000000000000004]) },
          { variant: 1, metric: "ctr", summary: summarize([1 / 3, 2 / 3]) }
        ])
        yield* store.mergeMetrics(source.id, [{ variant: 0, metric: "ctr", summary: summarize([Math.PI, 1e-9]) }])
        yield* store.lowerSequentialPValues(source.id, [
          { variant: 1, metric: "ctr", pValue: 0.1 + 0.2 },
          { variant: 1, metric: "latency:p99", pValue: 1e-300 }
        ])
        const writes = yield* exportCounters(store, source)
        yield* store.insert(copy)
        yield* importCounters(store, copy.id, writes)
        const state = (id: string) =>
          Effect.all([store.counters(id, 2), store.exposuresByDay(id, 2), store.sequentialPValues(id)])
        return { writes, source: yield* state(source.id), copy: yield* state(copy.id) }
      }))
      expect(r.writes.undated).toEqual([5, 2])
      expect(r.writes.sequential).toHaveLength(2)
      expect(r.writes.days.map((d) => d.day)).toEqual(["2030-01-01", "2030-01-02"])
      expect(r.copy).toEqual(r.source)
    })

    it("keeps the running minimum of each always-valid p-value, exact under concurrent looks", async () => {
      const experiment = sampleExperiment({ sequential: true })
      // Values whose 17 significant digits matter: they must come back bit for bit.
      const looks = [0.8, 1 / 3, 0.30000000000000004, 0.5, 2 ** -40 * 3, 0.9, 0.25, 1, 0.7, 0.1 + 0.2]
      const r = await run(Effect.gen(function*() {
        const store = yield* ExperimentStore
        yield* store.insert(experiment)
        const first = yield* store.lowerSequentialPValues(experiment.id, [
          { variant: 1, metric: "ctr", pValue: 0.5 },
          { variant: 1, metric: "m:with:colons", pValue: 0.04 }
        ])
        const higher = yield* store.lowerSequentialPValues(experiment.id, [{ variant: 1, metric: "ctr", pValue: 0.6 }])
        // Many instances looking at once: each look lowers, none is lost.
        const concurrent = yield* Effect.forEach(
          looks,
          (pValue, i) => store.lowerSequentialPValues(experiment.id, [{ variant: i % 2, metric: "revenue", pValue }]),
          { concurrency: 10 }
        )
        return {
          first,
          higher,
          concurrent: concurrent.flat(),
          all: yield* store.sequentialPValues(experiment.id),
          other: yield* store.sequentialPValues(sampleExperiment().id)
        }
      }))
      expect(r.first).toEqual([
        { variant: 1, metric: "ctr", pValue: 0.5 },
        { variant: 1, metric: "m:with:colons", pValue: 0.04 }
      ])
      expect(r.higher).toEqual([{ variant: 1, metric: "ctr", pValue: 0.5 }])
      // Each answer is the minimum after that look, never above the look's own value.
      r.concurrent.forEach((answer, i) => expect(answer.pValue).toBeLessThanOrEqual(looks[i]!))
      const minimumOf = (parity: number) => Math.min(...looks.filter((_, i) => i % 2 === parity))
      expect(r.all).toEqual([
        { variant: 0, metric: "revenue", pValue: minimumOf(0) },
        { variant: 1, metric: "ctr", pValue: 0.5 },
        { variant: 1, metric: "m:with:colons", pValue: 0.04 },
        { variant: 1, metric: "revenue", pValue: minimumOf(1) }
      ])
      for (const stored of r.all) expect(Schema.is(SequentialPValue)(stored)).toBe(true)
      expect(r.other).toEqual([])
    })

    it("inserts once, reads back, and rejects a second insert of the id", async () => {
      const experiment = sampleExperiment()
      const { stored, again } = await run(Effect.gen(function*() {
        const store = yield* ExperimentStore
        yield* store.insert(experiment)
        return { stored: yield* store.get(experiment.id), again: yield* Effect.exit(store.insert(experiment)) }
      }))
      expect(stored).toEqual(experiment)
      expect(Exit.isFailure(again)).toBe(true)
    })

    it("commits only at the expected revision", async () => {
      const experiment = sampleExperiment()
      const { stale, stored } = await run(Effect.gen(function*() {
        const store = yield* ExperimentStore
        yield* store.insert(experiment)
        yield* store.commit({ ...experiment, name: "renamed", revision: 2 }, 1)
        const stale = yield* Effect.exit(store.commit({ ...experiment, name: "lost", revision: 2 }, 1))
        return { stale, stored: yield* store.get(experiment.id) }
      }))
      expect(Exit.isFailure(stale)).toBe(true)
      expect(stored).toMatchObject({ name: "renamed", revision: 2 })
    })

    it("appends the definition history with each insert and winning commit, never a refused one", async () => {
      const experiment = sampleExperiment({ status: "draft", startedAt: null })
      const at = (minute: number) => new Date(Date.parse(experiment.createdAt) + minute * 60_000).toISOString()
      const started: typeof experiment = { ...experiment, status: "running", updatedAt: at(1), revision: 2 }
      const resplit = {
        ...started,
        variants: [{ ...started.variants[0]!, trafficPct: 80 }, { ...started.variants[1]!, trafficPct: 20 }],
        updatedAt: at(2),
        revision: 3
      }
      const completed = {
        ...resplit,
        status: "completed" as const,
        decision: { outcome: "winner" as const, winnerModelId: resplit.variants[1]!.modelId, reason: "better" },
        updatedAt: at(3),
        revision: 4
      }
      const r = await run(Effect.gen(function*() {
        const store = yield* ExperimentStore
        yield* store.insert(experiment)
        yield* store.commit(started, 1)
        // Two instances commit on revision 2 at once: exactly one wins and appends.
        const racing = yield* Effect.all([
          Effect.exit(store.commit(resplit, 2)),
          Effect.exit(store.commit({ ...resplit, coverage: 0.5 }, 2))
        ], { concurrency: 2 })
        const refusedAgain = yield* Effect.exit(store.commit({ ...started, revision: 3 }, 1))
        const stored = (yield* store.get(experiment.id))!
        yield* store.commit({ ...completed, coverage: stored.coverage }, 3)
        const duplicate = yield* Effect.exit(store.insert({ ...experiment, name: "again" }))
        return {
          racing,
          refusedAgain,
          duplicate,
          history: yield* store.definitionHistory(experiment.id),
          unknown: yield* store.definitionHistory("no-such-experiment"),
          final: (yield* store.get(experiment.id))!
        }
      }))
      expect(r.racing.filter(Exit.isSuccess)).toHaveLength(1)
      expect(Exit.isFailure(r.refusedAgain)).toBe(true)
      expect(Exit.isFailure(r.duplicate)).toBe(true)
      expect(r.unknown).toEqual([])
      expect(r.history.map((e) => [e.revision, e.at, e.status])).toEqual([
        [1, experiment.createdAt, "draft"],
        [2, at(1), "running"],
        [3, at(2), "running"],
        [4, at(3), "completed"]
      ])
      expect(r.history[0]!.weights).toEqual([0.5, 0.5])
      expect(r.history[2]!.weights).toEqual([0.8, 0.2])
      expect(r.history[2]!.coverage).toBe(r.final.coverage)
      expect(r.history[3]).toEqual(definitionRevisionOf(r.final))
      expect(r.history[3]!.winnerModelId).toBe(resplit.variants[1]!.modelId)
      for (const entry of r.history) expect(Schema.is(DefinitionRevision)(entry)).toBe(true)
    })

    it(`keeps the newest ${MAX_DEFINITION_HISTORY} definitions, and a copy replaces the history`, async () => {
      const experiment = sampleExperiment({ mode: "bandit" })
      const commits = MAX_DEFINITION_HISTORY + 5
      const r = await run(Effect.gen(function*() {
        const store = yield* ExperimentStore
        yield* store.insert(experiment)
        let current = experiment
        for (let i = 1; i <= commits; i++) {
          const w = (i % 100) / 100
          const next = {
            ...current,
            banditHistory: [{ at: current.updatedAt, weights: [w, 1 - w] }],
            updatedAt: new Date(Date.parse(experiment.updatedAt) + i * 1000).toISOString(),
            revision: current.revision + 1
          }
          yield* store.commit(next, current.revision)
          current = next
        }
        const kept = yield* store.definitionHistory(experiment.id)
        const copy = sampleExperiment()
        yield* store.insert(copy)
        yield* store.importDefinitionHistory(copy.id, kept.slice(0, 3))
        yield* store.importDefinitionHistory("no-such-experiment", kept.slice(0, 3))
        return {
          kept,
          copied: yield* store.definitionHistory(copy.id),
          unknown: yield* store.definitionHistory("no-such-experiment")
        }
      }))
      expect(r.kept).toHaveLength(MAX_DEFINITION_HISTORY)
      expect(r.kept[0]!.revision).toBe(commits + 1 - MAX_DEFINITION_HISTORY + 1)
      expect(r.kept[r.kept.length - 1]!.revision).toBe(commits + 1)
      expect(r.kept[r.kept.length - 1]!.weights).toEqual([commits % 100 / 100, 1 - (commits % 100) / 100])
      expect(r.copied).toEqual(r.kept.slice(0, 3))
      expect(r.unknown).toEqual([])
    }, 120_000)

    it("moves its definitions token (where it has one) with each insert and commit, and nothing else", async () => {
      const experiment = sampleExperiment()
      const tokens = await run(Effect.gen(function*() {
        const store = yield* ExperimentStore
        const token = store.definitionsToken
        if (token === undefined) return undefined
        const initial = yield* token()
        yield* store.insert(experiment)
        const inserted = yield* token()
        yield* store.commit({ ...experiment, name: "renamed", revision: 2 }, 1)
        const committed = yield* token()
        // A refused commit, an assignment and exposures change no definition.
        yield* Effect.exit(store.commit({ ...experiment, name: "lost", revision: 2 }, 1))
        yield* store.assignIfAbsent({ experimentId: experiment.id, userId: "u", variant: 0, modelId: "m", at: "t" })
        yield* store.addExposures(experiment.id, [1, 0])
        return { initial, inserted, committed, unchanged: yield* token() }
      }))
      if (tokens === undefined) return
      expect(new Set([tokens.initial, tokens.inserted, tokens.committed]).size).toBe(3)
      expect(tokens.unchanged).toBe(tokens.committed)
    })

    it("lets exactly one of 50 concurrent first assignments of a user win, and all see it", async () => {
      const experiment = sampleExperiment()
      const results = await run(Effect.gen(function*() {
        const store = yield* ExperimentStore
        yield* store.insert(experiment)
        return yield* Effect.all(
          Array.from({ length: 50 }, (_, i) =>
            store.assignIfAbsent({
              experimentId: experiment.id,
              userId: "user-1",
              variant: i % 2,
              modelId: experiment.variants[i % 2]!.modelId,
              at: new Date().toISOString()
            })),
          { concurrency: "unbounded" }
        )
      }))
      expect(results.filter((r) => r.created)).toHaveLength(1)
      expect(new Set(results.map((r) => r.assignment.variant)).size).toBe(1)
    })

    it("adds exposures and merges metric summaries from concurrent writers without losing any", async () => {
      const experiment = sampleExperiment()
      const batches = Array.from({ length: 40 }, (_, i) => [i, i + 0.5, 1e9 + i])
      const counters = await run(Effect.gen(function*() {
        const store = yield* ExperimentStore
        yield* store.insert(experiment)
        yield* Effect.all(
          batches.map((values, i) =>
            Effect.all([
              store.addExposures(experiment.id, [1, i % 2]),
              store.mergeMetrics(experiment.id, [{ variant: i % 2, metric: "latency", summary: summarize(values) }])
            ])
          ),
          { concurrency: "unbounded" }
        )
        return yield* store.counters(experiment.id, 2)
      }))
      expect(counters.variants.map((v) => v.exposures)).toEqual([40, 20])
      const expected = [0, 1].map((v) => summarize(batches.filter((_, i) => i % 2 === v).flat()))
      counters.variants.forEach((v, i) => {
        expect(v.metrics.latency!.count).toBe(expected[i]!.count)
        expect(v.metrics.latency!.mean).toBeCloseTo(expected[i]!.mean, 3)
        expect(v.metrics.latency!.min).toBe(expected[i]!.min)
        expect(v.metrics.latency!.max).toBe(expected[i]!.max)
        expect(Math.abs(v.metrics.latency!.m2 - expected[i]!.m2) / expected[i]!.m2).toBeLessThan(1e-9)
      })
    })

    it("merges paired summaries (covariates, denominators) from concurrent writers and copies them", async () => {
      const [experiment, copy] = [sampleExperiment(), sampleExperiment()]
      // Pairs near 1e9 whose deviations matter, and plain ones: 30 batches on two variants.
      const batches = Array.from({ length: 30 }, (_, i) => ({
        x: [1e9 + i / 8, 1e9 - i / 16, 1e9 + 0.5],
        y: [i, 2 * i + 1, Math.PI * i],
        denominators: [i % 4, 1 + (i % 3), 2]
      }))
      const r = await run(Effect.gen(function*() {
        const store = yield* ExperimentStore
        yield* store.insert(experiment)
        yield* Effect.all(
          batches.map((b, i) =>
            store.mergeMetrics(experiment.id, [
              {
                variant: i % 2,
                metric: "revenue",
                summary: summarize(b.y),
                covariatePairs: summarizePairs(b.x, b.y),
                denominatorPairs: summarizePairs(b.denominators, b.y)
              },
              { variant: i % 2, metric: "ctr", summary: summarize(b.y) }
            ])
          ),
          { concurrency: "unbounded" }
        )
        const writes = yield* exportCounters(store, experiment)
        yield* store.insert(copy)
        yield* importCounters(store, copy.id, writes)
        return { source: yield* store.counters(experiment.id, 2), copy: yield* store.counters(copy.id, 2) }
      }))
      const close = (actual: number, expected: number) =>
        expect(Math.abs(actual - expected)).toBeLessThanOrEqual(1e-9 * Math.max(1, Math.abs(expected)))
      const same = (actual: PairedSummary | undefined, expected: PairedSummary) => {
        expect(actual?.count).toBe(expected.count)
        close(meanX(actual!) - 1e9, meanX(expected) - 1e9)
        close(meanY(actual!), meanY(expected))
        close(actual!.m2X, expected.m2X)
        close(actual!.m2Y, expected.m2Y)
        close(covariance(actual!), covariance(expected))
      }
      ;[0, 1].forEach((v) => {
        const mine = batches.filter((_, i) => i % 2 === v)
        const ys = mine.flatMap((b) => b.y)
        same(r.source.variants[v]!.covariatePairs?.revenue, summarizePairs(mine.flatMap((b) => b.x), ys))
        const ratio = r.source.variants[v]!.denominatorPairs?.revenue
        const expected = summarizePairs(mine.flatMap((b) => b.denominators), ys)
        expect(ratio?.count).toBe(expected.count)
        close(meanX(ratio!), meanX(expected))
        close(covariance(ratio!), covariance(expected))
        // Metrics recorded without pairs have none.
        expect(Object.keys(r.source.variants[v]!.covariatePairs ?? {})).toEqual(["revenue"])
      })
      expect(r.copy).toEqual(r.source)
      Schema.decodeUnknownSync(ExperimentCounters)(r.source, { onExcessProperty: "error" })
    })

    it("merges dimension summaries and exposures per value from concurrent writers, capping values", async () => {
      const experiment = sampleExperiment()
      const countries = ["de", "fr", "us"]
      const batches = Array.from({ length: 30 }, (_, i) => [i, i + 0.25, 100 + i])
      const { capped, names, slices } = await run(Effect.gen(function*() {
        const store = yield* ExperimentStore
        yield* store.insert(experiment)
        yield* Effect.all(
          batches.map((values, i) =>
            Effect.all([
              store.mergeDimensionMetrics(experiment.id, [
                {
                  dimension: "country",
                  value: countries[i % 3]!,
                  variant: i % 2,
                  metric: "ctr",
                  summary: summarize(values)
                }
              ]),
              store.addDimensionExposures(experiment.id, [
                { dimension: "country", value: countries[i % 3]!, variant: i % 2, count: 2 }
              ])
            ])
          ),
          { concurrency: "unbounded" }
        )
        // Concurrent new values of one dimension: exactly MAX_DIMENSION_VALUES are kept, the rest share _other.
        yield* Effect.all(
          Array.from(
            { length: MAX_DIMENSION_VALUES + 20 },
            (_, i) =>
              store.addDimensionExposures(experiment.id, [{ dimension: "page", value: `p${i}`, variant: 0, count: 1 }])
          ),
          { concurrency: "unbounded" }
        )
        return {
          slices: yield* store.dimensionCounters(experiment.id, "country", 2),
          capped: yield* store.dimensionCounters(experiment.id, "page", 2),
          names: yield* store.dimensionNames(experiment.id)
        }
      }))
      expect(names).toEqual(["country", "page"])
      expect(Schema.decodeUnknownSync(Schema.Array(DimensionSlice))(slices)).toEqual(slices)
      expect(slices.map((s) => s.value)).toEqual(countries)
      countries.forEach((country, c) => {
        const slice = slices[c]!
        for (const variant of [0, 1]) {
          const mine = batches.filter((_, i) => i % 3 === c && i % 2 === variant)
          const expected = summarize(mine.flat())
          expect(slice.variants[variant]!.exposures).toBe(2 * mine.length)
          expect(slice.variants[variant]!.metrics.ctr!.count).toBe(expected.count)
          expect(slice.variants[variant]!.metrics.ctr!.mean).toBeCloseTo(expected.mean, 9)
          expect(Math.abs(slice.variants[variant]!.metrics.ctr!.m2 - expected.m2) / expected.m2).toBeLessThan(1e-9)
        }
      })
      expect(capped).toHaveLength(MAX_DIMENSION_VALUES + 1)
      expect(capped.find((s) => s.value === DIMENSION_OTHER)!.variants[0]!.exposures).toBe(20)
      expect(capped.reduce((sum, s) => sum + s.variants[0]!.exposures, 0)).toBe(MAX_DIMENSION_VALUES + 20)
    })

    it("reads back experiments, assignments and counters with exactly their schema's shape", async () => {
      const experiment = sampleExperiment({
        metricGoals: { ctr: { direction: "maximize" }, latency: { direction: "minimize", guardrail: true } },
        trafficHistory: [{ at: new Date().toISOString(), actor: "ops", trafficPct: [50, 50] }],
        banditHistory: [{ at: new Date().toISOString(), weights: [0.25, 0.75] }],
        metricCaps: { ctr: { upper: 1 }, latency: { upper: 2000.5, lower: -0.25 } }
      })
      const assignment = {
        experimentId: experiment.id,
        userId: "user-1",
        variant: 1,
        modelId: experiment.variants[1]!.modelId,
        at: new Date().toISOString()
      }
      const read = await run(Effect.gen(function*() {
        const store = yield* ExperimentStore
        yield* store.insert(experiment)
        yield* store.assignIfAbsent(assignment)
        yield* store.addExposures(experiment.id, [2, 3])
        yield* store.mergeMetrics(experiment.id, [{
          variant: 1,
          metric: "ctr",
          summary: summarize([0, 1, 1]),
          covariatePairs: summarizePairs([1, 0], [0, 1]),
          denominatorPairs: summarizePairs([2], [1])
        }])
        return {
          experiment: yield* store.get(experiment.id),
          listed: (yield* store.list()).find((e) => e.id === experiment.id),
          assignment: yield* store.getAssignment(experiment.id, "user-1"),
          counters: yield* store.counters(experiment.id, 2)
        }
      }))
      const exactly = (schema: Schema.Decoder<unknown>, value: unknown) =>
        expect(Schema.decodeUnknownSync(schema as any)(value, { onExcessProperty: "error" })).toEqual(value)
      expect(read.experiment).toEqual(experiment)
      exactly(Experiment, read.experiment)
      exactly(Experiment, read.listed)
      expect(read.assignment).toEqual(assignment)
      exactly(Assignment, read.assignment)
      exactly(ExperimentCounters, read.counters)
      expect(read.counters.variants.map((v) => v.exposures)).toEqual([2, 3])
    })

    it("counts exposures per UTC day beside the totals, from concurrent writers, and reads them back", async () => {
      const experiment = sampleExperiment()
      const day = (offset: number) => exposureDayOf(Date.UTC(2026, 0, 30) + offset * 86_400_000)
      await run(Effect.gen(function*() {
        const store = yield* ExperimentStore
        yield* store.insert(experiment)
        yield* Effect.all(
          Array.from({ length: 30 }, (_, i) => store.addExposures(experiment.id, [1, i % 3], day(i % 2))),
          { concurrency: "unbounded" }
        )
        // Undated exposures count in the totals only (as before days were kept).
        yield* store.addExposures(experiment.id, [5, 5])
      }))
      // A second run opens the store again (the fs adapter replays its journal).
      const read = await run(Effect.gen(function*() {
        const store = yield* ExperimentStore
        return {
          days: yield* store.exposuresByDay(experiment.id, 2),
          counters: yield* store.counters(experiment.id, 2),
          none: yield* store.exposuresByDay("no-such-experiment", 2)
        }
      }))
      expect(read.days).toEqual([{ day: "2026-01-30", counts: [15, 15] }, { day: "2026-01-31", counts: [15, 15] }])
      expect(Schema.decodeUnknownSync(Schema.Array(ExposureDay))(read.days, { onExcessProperty: "error" })).toEqual(
        read.days
      )
      expect(read.counters.variants.map((v) => v.exposures)).toEqual([35, 35])
      expect(read.none).toEqual([])
    })

    it(`keeps the newest ${MAX_EXPOSURE_DAYS} days of exposures (the totals keep everything)`, async () => {
      const experiment = sampleExperiment()
      const days = MAX_EXPOSURE_DAYS + 3
      const start = Date.UTC(2025, 0, 1)
      const read = await run(Effect.gen(function*() {
        const store = yield* ExperimentStore
        yield* store.insert(experiment)
        for (let d = 0; d < days; d++) {
          yield* store.addExposures(experiment.id, [1, 2], exposureDayOf(start + d * 86_400_000))
        }
        return {
          days: yield* store.exposuresByDay(experiment.id, 2),
          counters: yield* store.counters(experiment.id, 2)
        }
      }))
      expect(read.days).toHaveLength(MAX_EXPOSURE_DAYS)
      expect(read.days[0]).toEqual({ day: exposureDayOf(start + 3 * 86_400_000), counts: [1, 2] })
      expect(read.days.at(-1)!.day).toBe(exposureDayOf(start + (days - 1) * 86_400_000))
      expect(read.counters.variants.map((v) => v.exposures)).toEqual([days, 2 * days])
    })

    if (options.plannedWrites) {
      describe("planned writes (adapters that check the definition in the same storage step)", () => {
        /** Two live stores on the same storage, as two server instances have. */
        const twoInstances = <A, E>(
          program: (a: ExperimentStoreShape, b: ExperimentStoreShape) => Effect.Effect<A, E>
        ): Promise<A> =>
          Effect.runPromise(
            Effect.scoped(Effect.gen(function*() {
              const a = Context.get(yield* Layer.build(makeLayer()), ExperimentStore)
              const b = Context.get(yield* Layer.build(makeLayer()), ExperimentStore)
              return yield* program(a, b)
            })) as Effect.Effect<A, E>
          )
        const day = "2026-02-01"
        /** Sticky while running: every user gets variant 1 (user "zero" variant 0); nothing otherwise. */
        const stickyPlan = (experiment: Experiment) => (userId: string): AssignmentPlan => {
          if (experiment.status !== "running") return { _tag: "Nothing" }
          const variant = userId === "zero" ? 0 : 1
          const modelId = experiment.variants[variant]!.modelId
          return { _tag: "Stick", assignment: { experimentId: experiment.id, userId, variant, modelId, at: day } }
        }
        const plannedOf = (store: ExperimentStoreShape) => {
          if (store.planned === undefined) throw new Error(`${adapter} was declared with plannedWrites but has none`)
          return store.planned
        }
        const notStarted = "experiment has not started"
        const metricPlan = (experiment: Experiment) =>
          experiment.status === "draft"
            ? Result.fail(notStarted)
            : Result.succeed([{
              variant: 1,
              metric: "ctr",
              summary: summarize([1, 0, 1]),
              covariatePairs: summarizePairs([0.5, 1], [1, 0]),
              denominatorPairs: summarizePairs([3], [1])
            }])

        it("assigns a batch in one step: set if absent, one exposure per new user, the winner read back", async () => {
          const experiment = sampleExperiment()
          const read = await twoInstances((store) =>
            Effect.gen(function*() {
              const planned = plannedOf(store)
              yield* store.insert(experiment)
              const first = yield* planned.assignPlanned(experiment.id, ["u1", "zero", "u1"], stickyPlan, day)
              const again = yield* planned.assignPlanned(experiment.id, ["u1"], stickyPlan, day)
              return {
                first,
                again,
                stored: yield* store.getAssignment(experiment.id, "u1"),
                counters: yield* store.counters(experiment.id, 2),
                days: yield* store.exposuresByDay(experiment.id, 2)
              }
            })
          )
          expect(read.first?.outcomes.map((o) => o.created)).toEqual([true, true, false])
          expect(read.first?.outcomes.map((o) => o.stored?.variant)).toEqual([1, 0, 1])
          expect(read.again?.outcomes[0]).toMatchObject({ created: false, stored: { userId: "u1", variant: 1 } })
          expect(read.stored).toMatchObject({ userId: "u1", variant: 1, modelId: experiment.variants[1]!.modelId })
          expect(read.counters.variants.map((v) => v.exposures)).toEqual([1, 1])
          expect(read.days).toEqual([{ day, counts: [1, 1] }])
        })

        it("reads a user's stored assignment for a Keep plan, writing and counting nothing", async () => {
          const experiment = sampleExperiment()
          const keepPlan = () => (userId: string): AssignmentPlan => ({ _tag: "Keep", userId })
          const read = await twoInstances((store) =>
            Effect.gen(function*() {
              const planned = plannedOf(store)
              yield* store.insert(experiment)
              yield* planned.assignPlanned(experiment.id, ["kept"], stickyPlan, day)
              const kept = yield* planned.assignPlanned(experiment.id, ["kept", "never", "kept"], keepPlan, day)
              return {
                kept,
                never: yield* store.getAssignment(experiment.id, "never"),
                counters: yield* store.counters(experiment.id, 2)
              }
            })
          )
          expect(read.kept?.outcomes.map((o) => [o.created, o.stored?.userId, o.stored?.variant])).toEqual([
            [false, "kept", 1],
            [false, undefined, undefined],
            [false, "kept", 1]
          ])
          expect(read.never).toBeUndefined()
          expect(read.counters.variants.map((v) => v.exposures)).toEqual([0, 1])
        })

        it("sees another instance's change in the very call that would write, and plans again", async () => {
          const experiment = sampleExperiment()
          const read = await twoInstances((a, b) =>
            Effect.gen(function*() {
              const planned = plannedOf(a)
              yield* a.insert(experiment)
              // Instance a now holds the running definition.
              yield* planned.assignPlanned(experiment.id, ["u1"], stickyPlan, day)
              yield* b.commit({ ...experiment, status: "completed", revision: 2 }, 1)
              const afterStop = yield* planned.assignPlanned(experiment.id, ["u2"], stickyPlan, day)
              return {
                afterStop,
                u2: yield* a.getAssignment(experiment.id, "u2"),
                counters: yield* a.counters(experiment.id, 2)
              }
            })
          )
          expect(read.afterStop?.experiment).toMatchObject({ status: "completed", revision: 2 })
          expect(read.afterStop?.outcomes.map((o) => o.plan._tag)).toEqual(["Nothing"])
          expect(read.u2).toBeUndefined()
          expect(read.counters.variants.map((v) => v.exposures)).toEqual([0, 1])
        })

        it("refuses metrics only when the definition that refuses them is the stored one", async () => {
          const experiment = sampleExperiment({ status: "draft", startedAt: null })
          const read = await twoInstances((a, b) =>
            Effect.gen(function*() {
              const planned = plannedOf(a)
              yield* a.insert(experiment)
              const whileDraft = yield* Effect.flip(planned.mergeMetricsPlanned(experiment.id, metricPlan))
              // Another instance starts it; a still holds the draft.
              yield* b.commit({ ...experiment, status: "running", revision: 2 }, 1)
              const merged = yield* planned.mergeMetricsPlanned(experiment.id, metricPlan)
              const exposed = yield* planned.addExposuresPlanned(
                experiment.id,
                () => Result.succeed([2, 3]),
                day
              )
              return { whileDraft, merged, exposed, counters: yield* a.counters(experiment.id, 2) }
            })
          )
          expect(read.whileDraft).toBe(notStarted)
          expect(read.merged).toMatchObject({ status: "running", revision: 2 })
          expect(read.exposed).toMatchObject({ revision: 2 })
          expect(read.counters.variants[1]!.metrics.ctr).toMatchObject({ count: 3, min: 0, max: 1 })
          // The paired summaries merge in the same checked step.
          expect(read.counters.variants[1]!.covariatePairs?.ctr).toEqual(summarizePairs([0.5, 1], [1, 0]))
          expect(read.counters.variants[1]!.denominatorPairs?.ctr).toEqual(summarizePairs([3], [1]))
          expect(read.counters.variants.map((v) => v.exposures)).toEqual([2, 3])
        })

        it("answers undefined for an experiment that does not exist, writing nothing", async () => {
          const read = await twoInstances((a) =>
            Effect.gen(function*() {
              const planned = plannedOf(a)
              return [
                yield* planned.assignPlanned("no-such-experiment", ["u1"], stickyPlan, day),
                yield* planned.mergeMetricsPlanned("no-such-experiment", metricPlan),
                yield* planned.addExposuresPlanned("no-such-experiment", () => Result.succeed([1, 1]), day),
                yield* a.getAssignment("no-such-experiment", "u1")
              ]
            })
          )
          expect(read).toEqual([undefined, undefined, undefined, undefined])
        })
      })
    }
  })
}
