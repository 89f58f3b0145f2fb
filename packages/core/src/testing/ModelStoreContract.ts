/**
 * Contract of the ModelStore port, written once and run against every adapter (memory, fs,
 * redis). An adapter passes when it behaves exactly like the reference memory layer.
 */
import { Effect, Exit, type Layer } from "effect"
import { describe, expect, it } from "vitest"
import { MAX_EVENTS_PER_READ, ModelStore, type ModelStoreShape } from "../registry/ModelStore.js"
import { sampleEvent, sampleModel, sampleRegisteredModel } from "./fixtures.js"
import { modelStoreSearchContract } from "./ModelStoreSearchContract.js"

export const modelStoreContract = (adapter: string, makeLayer: () => Layer.Layer<ModelStore, unknown>) => {
  const run = <A, E>(program: Effect.Effect<A, E, ModelStore>): Promise<A> =>
    Effect.runPromise(Effect.provide(program, makeLayer()) as Effect.Effect<A, E>)
  const runExit = <A, E>(program: Effect.Effect<A, E, ModelStore>) =>
    Effect.runPromise(Effect.exit(Effect.provide(program, makeLayer()) as Effect.Effect<A, E>))
  const unique = () => `m${Math.random().toString(36).slice(2, 10)}`
  /** The newest outbox sequence (0: none), paging through what the store holds. */
  const headOf = (store: ModelStoreShape) =>
    Effect.gen(function*() {
      let head = 0
      for (;;) {
        const page = yield* store.eventsAfter(head, MAX_EVENTS_PER_READ)
        if (page.length === 0) return head
        head = page[page.length - 1]!.sequence
      }
    })

  describe(`ModelStore contract: ${adapter}`, () => {
    it("returns an inserted model by id and by (name, version)", async () => {
      const model = sampleModel({ name: unique() })
      const [byId, byNameVersion, missing] = await run(Effect.gen(function*() {
        const store = yield* ModelStore
        yield* store.insert(model, sampleEvent(model))
        return [
          yield* store.get(model.id),
          yield* store.findByNameVersion(model.name, model.version),
          yield* store.get(sampleModel().id)
        ]
      }))
      expect(byId).toEqual(model)
      expect(byNameVersion).toEqual(model)
      expect(missing).toBeUndefined()
    })

    it("rejects a second registration of the same (name, version) and keeps the first", async () => {
      const first = sampleModel({ name: unique(), description: "first" })
      const second = sampleModel({ name: first.name, version: first.version, description: "second" })
      const [exit, stored, history] = await run(Effect.gen(function*() {
        const store = yield* ModelStore
        yield* store.insert(first, sampleEvent(first))
        const exit = yield* Effect.exit(store.insert(second, sampleEvent(second)))
        return [exit, yield* store.get(first.id), yield* store.historyOfName(first.name)] as const
      }))
      expect(Exit.isFailure(exit)).toBe(true)
      if (Exit.isFailure(exit)) expect(JSON.stringify(exit.cause)).toContain("ModelConflictError")
      expect(stored?.description).toBe("first")
      expect(history).toHaveLength(1)
      expect(await run(ModelStore.use((s) => s.get(second.id)))).toBeUndefined()
    })

    it("lets exactly one of many concurrent registrations of one (name, version) win", async () => {
      const name = unique()
      const candidates = Array.from({ length: 10 }, () => sampleModel({ name, version: "1.0.0" }))
      const [exits, listed] = await run(Effect.gen(function*() {
        const store = yield* ModelStore
        const exits = yield* Effect.all(candidates.map((m) => Effect.exit(store.insert(m, sampleEvent(m)))), {
          concurrency: "unbounded"
        })
        return [exits, yield* store.list({ name, limit: 100 })] as const
      }))
      expect(exits.filter(Exit.isSuccess)).toHaveLength(1)
      expect(listed).toHaveLength(1)
    })

    it("lists in id order with filters, a cursor and a limit", async () => {
      const name = unique()
      const models = [
        sampleModel({ name, framework: "sklearn", tags: ["a"] }),
        sampleModel({ name, framework: "torch", tags: ["b"], status: "testing" }),
        sampleModel({ name, framework: "sklearn", tags: ["a", "b"] })
      ]
      const child = sampleModel({ name: `${name}-child`, parentModelId: models[0]!.id })
      const pages = await run(Effect.gen(function*() {
        const store = yield* ModelStore
        for (const m of [...models].reverse()) yield* store.insert(m, sampleEvent(m))
        yield* store.insert(child, sampleEvent(child))
        return {
          byPrefix: yield* store.list({ namePrefix: name, limit: 10 }),
          childPrefix: yield* store.list({ namePrefix: `${name}-c`, limit: 10 }),
          children: yield* store.list({ parentModelId: models[0]!.id, limit: 10 }),
          all: yield* store.list({ name, limit: 10 }),
          firstTwo: yield* store.list({ name, limit: 2 }),
          afterFirst: yield* store.list({ name, limit: 10, cursor: models[0]!.id }),
          torch: yield* store.list({ name, framework: "torch", limit: 10 }),
          tagA: yield* store.list({ name, tag: "a", limit: 10 }),
          testing: yield* store.list({ name, status: "testing", limit: 10 }),
          otherName: yield* store.list({ name: unique(), limit: 10 })
        }
      }))
      const ids = (ms: ReadonlyArray<{ id: string }>) => ms.map((m) => m.id)
      expect(ids(pages.all)).toEqual(ids(models))
      expect(ids(pages.firstTwo)).toEqual(ids(models.slice(0, 2)))
      expect(ids(pages.afterFirst)).toEqual(ids(models.slice(1)))
      expect(ids(pages.torch)).toEqual([models[1]!.id])
      expect(ids(pages.tagA)).toEqual([models[0]!.id, models[2]!.id])
      expect(ids(pages.testing)).toEqual([models[1]!.id])
      expect(pages.otherName).toEqual([])
      expect(ids(pages.byPrefix)).toEqual([...ids(models), child.id])
      expect(ids(pages.childPrefix)).toEqual([child.id])
      expect(ids(pages.children)).toEqual([child.id])
    })

    it("commits models and events together when revisions match, and nothing when one is stale", async () => {
      const model = sampleModel({ name: unique() })
      const result = await run(Effect.gen(function*() {
        const store = yield* ModelStore
        yield* store.insert(model, sampleEvent(model))
        const v2 = { ...model, description: "v2", revision: 2 }
        yield* store.commit({
          expected: [{ id: model.id, revision: 1 }],
          put: [v2],
          events: [sampleEvent(v2, { action: "updated" })]
        })
        const stale = { ...model, description: "stale", revision: 2 }
        const staleExit = yield* Effect.exit(
          store.commit({
            expected: [{ id: model.id, revision: 1 }],
            put: [stale],
            events: [sampleEvent(stale, { action: "updated" })]
          })
        )
        return { staleExit, stored: yield* store.get(model.id), history: yield* store.historyOf(model.id) }
      }))
      expect(Exit.isFailure(result.staleExit)).toBe(true)
      if (Exit.isFailure(result.staleExit)) {
        expect(JSON.stringify(result.staleExit.cause)).toContain("StaleRevisionError")
      }
      expect(result.stored?.description).toBe("v2")
      expect(result.stored?.revision).toBe(2)
      expect(result.history.map((e) => e.action)).toEqual(["registered", "updated"])
    })

    it("tracks the production version per name and guards it with compare-and-set", async () => {
      const name = unique()
      const a = sampleModel({ name, status: "staging" })
      const b = sampleModel({ name, status: "staging" })
      const result = await run(Effect.gen(function*() {
        const store = yield* ModelStore
        yield* store.insert(a, sampleEvent(a))
        yield* store.insert(b, sampleEvent(b))
        const aProd = { ...a, status: "production" as const, revision: 2 }
        yield* store.commit({
          expected: [{ id: a.id, revision: 1 }],
          production: { name, expectedId: null },
          put: [aProd],
          events: []
        })
        const afterA = yield* store.productionOf(name)
        const bProd = { ...b, status: "production" as const, revision: 2 }
        const raced = yield* Effect.exit(
          store.commit({
            expected: [{ id: b.id, revision: 1 }],
            production: { name, expectedId: null },
            put: [bProd],
            events: []
          })
        )
        const aArchived = { ...aProd, status: "archived" as const, revision: 3 }
        yield* store.commit({
          expected: [{ id: b.id, revision: 1 }, { id: a.id, revision: 2 }],
          production: { name, expectedId: a.id },
          put: [bProd, aArchived],
          events: []
        })
        const afterB = yield* store.productionOf(name)
        const bArchived = { ...bProd, status: "archived" as const, revision: 3 }
        yield* store.commit({
          expected: [{ id: b.id, revision: 2 }],
          production: { name, expectedId: b.id },
          put: [bArchived],
          events: []
        })
        return {
          afterA,
          raced,
          afterB,
          afterArchive: yield* store.productionOf(name),
          counts: yield* store.countByStatus()
        }
      }))
      expect(result.afterA?.id).toBe(a.id)
      expect(Exit.isFailure(result.raced)).toBe(true)
      expect(result.afterB?.id).toBe(b.id)
      expect(result.afterArchive).toBeUndefined()
      expect(result.counts.archived).toBeGreaterThanOrEqual(2)
    })

    it("counts models by status", async () => {
      const before = await run(ModelStore.use((s) => s.countByStatus()))
      const name = unique()
      const models = [
        sampleModel({ name }),
        sampleModel({ name, status: "testing" }),
        sampleModel({ name, status: "testing" })
      ]
      const after = await run(Effect.gen(function*() {
        const store = yield* ModelStore
        for (const m of models) yield* store.insert(m, sampleEvent(m))
        return yield* store.countByStatus()
      }))
      expect(after.draft - before.draft).toBe(1)
      expect(after.testing - before.testing).toBe(2)
      expect(Object.keys(after).sort()).toEqual(["archived", "draft", "production", "staging", "testing"])
    })

    it("keeps audit events per model and per name in append order", async () => {
      const name = unique()
      const a = sampleModel({ name })
      const b = sampleModel({ name })
      const { ofA, ofName } = await run(Effect.gen(function*() {
        const store = yield* ModelStore
        yield* store.insert(a, sampleEvent(a))
        yield* store.insert(b, sampleEvent(b))
        const a2 = { ...a, status: "testing" as const, revision: 2 }
        yield* store.commit({
          expected: [{ id: a.id, revision: 1 }],
          put: [a2],
          events: [sampleEvent(a2, { action: "promoted", from: "draft", to: "testing", reason: "looks good" })]
        })
        return { ofA: yield* store.historyOf(a.id), ofName: yield* store.historyOfName(name) }
      }))
      expect(ofA.map((e) => [e.action, e.from, e.to, e.reason])).toEqual([["registered", null, "draft", null], [
        "promoted",
        "draft",
        "testing",
        "looks good"
      ]])
      expect(ofName.map((e) => e.modelId)).toEqual([a.id, b.id, a.id])
    })

    it("numbers every event in the outbox in commit order and reads them after a sequence, in pages", async () => {
      const name = unique()
      const a = sampleModel({ name, status: "staging" })
      const b = sampleModel({ name, status: "staging" })
      const result = await run(Effect.gen(function*() {
        const store = yield* ModelStore
        const head = yield* headOf(store)
        yield* store.insert(a, sampleEvent(a))
        yield* store.insert(b, sampleEvent(b))
        const aProd = { ...a, status: "production" as const, revision: 2 }
        yield* store.commit({
          expected: [{ id: a.id, revision: 1 }],
          production: { name, expectedId: null },
          put: [aProd],
          events: [sampleEvent(aProd, { action: "promoted", from: "staging", to: "production" })]
        })
        const bProd = { ...b, status: "production" as const, revision: 2 }
        const aArchived = { ...aProd, status: "archived" as const, revision: 3 }
        // One commit, two events: both get their own sequence, in the order given.
        yield* store.commit({
          expected: [{ id: b.id, revision: 1 }, { id: a.id, revision: 2 }],
          production: { name, expectedId: a.id },
          put: [bProd, aArchived],
          events: [
            sampleEvent(bProd, { action: "promoted", from: "staging", to: "production" }),
            sampleEvent(aArchived, { action: "demoted", from: "production", to: "archived" })
          ]
        })
        const all = yield* store.eventsAfter(head, 100)
        const first = yield* store.eventsAfter(head, 2)
        const second = yield* store.eventsAfter(first[1]!.sequence, 2)
        const rest = yield* store.eventsAfter(second[1]!.sequence, 2)
        return { head, all, first, second, rest, newHead: yield* headOf(store) }
      }))
      expect(result.all.map((r) => [r.event.modelId, r.event.action])).toEqual([
        [a.id, "registered"],
        [b.id, "registered"],
        [a.id, "promoted"],
        [b.id, "promoted"],
        [a.id, "demoted"]
      ])
      const sequences = result.all.map((r) => r.sequence)
      expect(sequences[0]).toBeGreaterThan(result.head)
      for (let i = 1; i < sequences.length; i++) expect(sequences[i]).toBeGreaterThan(sequences[i - 1]!)
      expect(Number.isSafeInteger(sequences[0])).toBe(true)
      expect([...result.first, ...result.second]).toEqual(result.all.slice(0, 4))
      expect(result.rest).toEqual(result.all.slice(4))
      expect(result.newHead).toBe(sequences[sequences.length - 1])
    })

    it("writes no outbox event for a stale commit or a refused registration", async () => {
      const model = sampleModel({ name: unique() })
      const result = await run(Effect.gen(function*() {
        const store = yield* ModelStore
        yield* store.insert(model, sampleEvent(model))
        const head = yield* headOf(store)
        const stale = { ...model, description: "stale", revision: 2 }
        const staleExit = yield* Effect.exit(store.commit({
          expected: [{ id: model.id, revision: 7 }],
          put: [stale],
          events: [sampleEvent(stale, { action: "updated" })]
        }))
        const racedProduction = yield* Effect.exit(store.commit({
          expected: [{ id: model.id, revision: 1 }],
          production: { name: model.name, expectedId: "someone-else" },
          put: [{ ...model, status: "production" as const, revision: 2 }],
          events: [sampleEvent(model, { action: "promoted", from: "draft", to: "production" })]
        }))
        const twin = sampleModel({ name: model.name, version: model.version })
        const conflictExit = yield* Effect.exit(store.insert(twin, sampleEvent(twin)))
        return { staleExit, racedProduction, conflictExit, after: yield* store.eventsAfter(head, 100) }
      }))
      expect(Exit.isFailure(result.staleExit)).toBe(true)
      expect(Exit.isFailure(result.racedProduction)).toBe(true)
      expect(Exit.isFailure(result.conflictExit)).toBe(true)
      expect(result.after).toEqual([])
    })

    it("keeps each consumer's cursor, which only moves forward", async () => {
      const [one, other] = [unique(), unique()]
      const result = await run(Effect.gen(function*() {
        const store = yield* ModelStore
        const before = yield* store.eventCursor(one)
        yield* store.advanceEventCursor(one, 5)
        yield* store.advanceEventCursor(one, 3)
        const afterBack = yield* store.eventCursor(one)
        yield* store.advanceEventCursor(one, 9)
        return { before, afterBack, moved: yield* store.eventCursor(one), other: yield* store.eventCursor(other) }
      }))
      expect(result).toEqual({ before: 0, afterBack: 5, moved: 9, other: 0 })
    })

    it("creates a registered model only when none is stored, and lists them by name, prefix and cursor", async () => {
      const prefix = unique()
      const names = [`${prefix}-b`, `${prefix}-a`, `${prefix}-c`]
      const result = await run(Effect.gen(function*() {
        const store = yield* ModelStore
        for (const name of names) {
          yield* store.commit({
            expected: [],
            put: [],
            events: [],
            registered: { expectedRevision: null, put: sampleRegisteredModel({ name, description: "first" }) }
          })
        }
        const again = yield* Effect.exit(store.commit({
          expected: [],
          put: [],
          events: [],
          registered: { expectedRevision: null, put: sampleRegisteredModel({ name: names[0]!, description: "again" }) }
        }))
        return {
          again,
          stored: yield* store.getRegistered(names[0]!),
          missing: yield* store.getRegistered(unique()),
          all: yield* store.listRegistered({ namePrefix: prefix, limit: 10 }),
          firstTwo: yield* store.listRegistered({ namePrefix: prefix, limit: 2 }),
          afterA: yield* store.listRegistered({ namePrefix: prefix, cursor: `${prefix}-a`, limit: 10 }),
          otherPrefix: yield* store.listRegistered({ namePrefix: unique(), limit: 10 })
        }
      }))
      expect(Exit.isFailure(result.again)).toBe(true)
      if (Exit.isFailure(result.again)) expect(JSON.stringify(result.again.cause)).toContain("StaleRevisionError")
      expect(result.stored).toEqual(sampleRegisteredModel({ name: names[0]!, description: "first" }))
      expect(result.missing).toBeUndefined()
      expect(result.all.map((r) => r.name)).toEqual([`${prefix}-a`, `${prefix}-b`, `${prefix}-c`])
      expect(result.firstTwo.map((r) => r.name)).toEqual([`${prefix}-a`, `${prefix}-b`])
      expect(result.afterA.map((r) => r.name)).toEqual([`${prefix}-b`, `${prefix}-c`])
      expect(result.otherPrefix).toEqual([])
    })

    it("moves an alias and appends its event in one compare-and-set, and writes nothing when stale", async () => {
      const name = unique()
      const v1 = sampleModel({ name })
      const v2 = sampleModel({ name })
      const created = sampleRegisteredModel({ name })
      const result = await run(Effect.gen(function*() {
        const store = yield* ModelStore
        yield* store.insert(v1, sampleEvent(v1))
        yield* store.insert(v2, sampleEvent(v2))
        yield* store.commit({ expected: [], put: [], events: [], registered: { expectedRevision: null, put: created } })
        const toV1 = { ...created, aliases: { champion: v1.id }, revision: 2 }
        yield* store.commit({
          expected: [],
          put: [],
          events: [sampleEvent(v1, { action: "alias_set", alias: "champion", to: null })],
          registered: { expectedRevision: 1, put: toV1 }
        })
        // A second writer that read revision 1 loses: neither its pointer nor its event is kept.
        const stale = yield* Effect.exit(store.commit({
          expected: [],
          put: [],
          events: [sampleEvent(v2, { action: "alias_set", alias: "champion", to: null })],
          registered: { expectedRevision: 1, put: { ...created, aliases: { champion: v2.id }, revision: 2 } }
        }))
        // A stale model revision in the same commit leaves the registered model untouched too.
        const staleModel = yield* Effect.exit(store.commit({
          expected: [{ id: v2.id, revision: 7 }],
          put: [],
          events: [sampleEvent(v2, { action: "alias_set", alias: "champion", to: null })],
          registered: { expectedRevision: 2, put: { ...toV1, aliases: { champion: v2.id }, revision: 3 } }
        }))
        return {
          stale,
          staleModel,
          stored: yield* store.getRegistered(name),
          history: yield* store.historyOfName(name),
          ofV1: yield* store.historyOf(v1.id)
        }
      }))
      expect(Exit.isFailure(result.stale)).toBe(true)
      expect(Exit.isFailure(result.staleModel)).toBe(true)
      expect(result.stored?.aliases).toEqual({ champion: v1.id })
      expect(result.stored?.revision).toBe(2)
      expect(result.history.map((e) => [e.action, e.modelId, e.alias])).toEqual([
        ["registered", v1.id, undefined],
        ["registered", v2.id, undefined],
        ["alias_set", v1.id, "champion"]
      ])
      expect(result.ofV1.at(-1)?.alias).toBe("champion")
    })

    it("answers ping", async () => {
      const exit = await runExit(ModelStore.use((s) => s.ping()))
      expect(Exit.isSuccess(exit)).toBe(true)
    })
  })
  modelStoreSearchContract(adapter, makeLayer)
}
