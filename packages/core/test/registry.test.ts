// The registry's pure parts, tested directly: lifecycle checks, the records each operation
// writes, the audit diff, and the id sequence (time from the Clock, digits from Random).
import { Effect, Layer, Random } from "effect"
import { TestClock } from "effect/testing"
import { describe, expect, it } from "vitest"
import {
  artifactRefusal,
  auditEvent,
  makeUlidGenerator,
  makeUlidSequence,
  metadataChanges,
  ModelRegistry,
  newModel,
  promotion,
  transitionRefusal,
  ulidPattern
} from "../src/index.js"
import { sampleModel } from "../src/testing/fixtures.js"

const at = "2030-01-01T00:00:00.000Z"
const artifact = { sha256: "a".repeat(64), sizeBytes: 3, uploadedAt: at }
const timeOf = (id: string) =>
  [...id.slice(0, 10)].reduce((t, ch) => t * 32 + "0123456789ABCDEFGHJKMNPQRSTVWXYZ".indexOf(ch), 0)

describe("lifecycle checks", () => {
  it("refuses skips and repeats, and leaving draft without an artifact, but allows archiving a bare draft", () => {
    const draft = sampleModel()
    expect(transitionRefusal(draft, "testing")?._tag).toBe("ArtifactStateError")
    expect(transitionRefusal(draft, "archived")).toBeUndefined()
    expect(transitionRefusal({ ...draft, artifact }, "testing")).toBeUndefined()
    const staging = sampleModel({ status: "staging", artifact })
    expect(transitionRefusal(staging, "staging")).toMatchObject({
      _tag: "InvalidTransitionError",
      message: `Model ${staging.id} is already staging`
    })
    expect(transitionRefusal(sampleModel({ status: "testing", artifact }), "production")).toMatchObject({
      _tag: "InvalidTransitionError",
      from: "testing",
      to: "production"
    })
  })

  it("accepts an artifact only on a draft that has none", () => {
    expect(artifactRefusal(sampleModel())).toBeUndefined()
    expect(artifactRefusal(sampleModel({ artifact }))?.message).toMatch(/already has an artifact/)
    expect(artifactRefusal(sampleModel({ status: "archived" }))?.message).toMatch(/is archived/)
  })
})

describe("empty artifacts", () => {
  const empty = {
    sha256: "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
    sizeBytes: 0,
    uploadedAt: at
  }

  it("treats an empty artifact stored without allowEmpty as absent: replaceable, never promotable", () => {
    expect(artifactRefusal(sampleModel({ artifact: empty }))).toBeUndefined()
    expect(transitionRefusal(sampleModel({ artifact: empty }), "testing")?.message).toMatch(/empty/)
    expect(transitionRefusal(sampleModel({ status: "staging", artifact: empty }), "production")?._tag).toBe(
      "ArtifactStateError"
    )
    expect(transitionRefusal(sampleModel({ status: "staging", artifact: empty }), "archived")).toBeUndefined()
  })

  it("keeps an empty artifact uploaded with allowEmpty, which may be promoted", () => {
    const allowed = { ...empty, allowEmpty: true as const }
    expect(artifactRefusal(sampleModel({ artifact: allowed }))?.message).toMatch(/already has an artifact/)
    expect(transitionRefusal(sampleModel({ status: "staging", artifact: allowed }), "production")).toBeUndefined()
  })
})

describe("what registry operations write", () => {
  it("registers a draft with defaults, unique tags and the training duration", () => {
    const model = newModel(
      {
        name: "n",
        version: "1",
        algorithm: "a",
        framework: "f",
        tags: ["x", "x", "y"],
        training: { startedAt: "2030-01-01T00:00:00Z", finishedAt: "2030-01-01T00:00:30Z" }
      },
      "01ARZ3NDEKTSV4RRFFQ69G5FAV",
      at,
      { actor: "bob" }
    )
    expect(model).toMatchObject({
      status: "draft",
      description: "",
      tags: ["x", "y"],
      createdBy: "bob",
      parentModelId: null,
      revision: 1,
      training: { durationSeconds: 30 }
    })
  })

  it("diffs a metadata update: only real changes, metrics merged, nothing when nothing changes", () => {
    const model = sampleModel({ description: "old", tags: ["a"], metrics: { auc: 0.9 } })
    const update = metadataChanges(model, { description: "new", tags: ["a", "a"], metrics: { f1: 0.5 } })
    expect(update?.changes).toEqual({
      description: { from: "old", to: "new" },
      metrics: { from: { auc: 0.9 }, to: { auc: 0.9, f1: 0.5 } }
    })
    expect(update?.next.metrics).toEqual({ auc: 0.9, f1: 0.5 })
    expect(metadataChanges(model, { description: "old", tags: ["a"], metrics: { auc: 0.9 } })).toBeUndefined()
  })

  it("promotes into production guarding the pointer and demoting the current version in one commit", () => {
    const next = sampleModel({ name: "n", status: "staging", artifact })
    const current = sampleModel({ name: "n", status: "production", artifact, revision: 4 })
    const { commit, moves, promoted } = promotion(next, "production", current, {
      at,
      actor: "ci",
      demoteTo: "staging"
    })
    expect(promoted).toMatchObject({ status: "production", revision: 2, updatedAt: at })
    expect(commit.production).toEqual({ name: "n", expectedId: current.id })
    expect(commit.expected).toEqual([{ id: next.id, revision: 1 }, { id: current.id, revision: 4 }])
    expect(commit.put.map((m) => m.status)).toEqual(["production", "staging"])
    expect(commit.events.map((e) => [e.action, e.from, e.to, e.actor])).toEqual([
      ["promoted", "staging", "production", "ci"],
      ["demoted", "production", "staging", "ci"]
    ])
    expect(moves).toEqual([["staging", "production"], ["production", "staging"]])
  })

  it("guards the pointer when leaving production, and not for other moves", () => {
    const live = sampleModel({ status: "production", artifact })
    expect(promotion(live, "archived", undefined, { at, demoteTo: "archived" }).commit.production).toEqual({
      name: live.name,
      expectedId: live.id
    })
    const draft = sampleModel({ artifact })
    const { commit } = promotion(draft, "testing", undefined, { at, demoteTo: "archived" })
    expect(commit.production).toBeUndefined()
    expect(commit.events[0]).toMatchObject({ action: "promoted", actor: "system", reason: null })
  })

  it("writes audit events with null for absent fields", () => {
    const model = sampleModel()
    expect(auditEvent(model, at, "archived")).toEqual({
      at,
      modelId: model.id,
      name: model.name,
      version: model.version,
      action: "archived",
      actor: "system",
      from: null,
      to: null,
      reason: null
    })
  })
})

describe("ids", () => {
  it("stay monotonic within a millisecond and when the clock steps back", () => {
    const next = makeUlidSequence()
    let digit = 0
    const ids = [5000, 5000, 4000, 3000, 5001].map((t) => next(t, () => digit++ % 32))
    for (const id of ids) expect(id).toMatch(ulidPattern)
    expect([...ids].sort()).toEqual(ids)
    expect(new Set(ids).size).toBe(ids.length)
    expect(ids.map(timeOf)).toEqual([5000, 5000, 5000, 5000, 5001])
  })

  it("borrow the next millisecond when the random part overflows", () => {
    const next = makeUlidSequence()
    const first = next(7, () => 31)
    const second = next(7, () => 0)
    expect(first.slice(10)).toBe("Z".repeat(16))
    expect(timeOf(second)).toBe(8)
    expect(second > first).toBe(true)
  })

  it("come from the Clock and Random services: a seeded run repeats, a clock stepping back keeps order", async () => {
    const program = Effect.gen(function*() {
      const registry = yield* ModelRegistry.ModelRegistry
      const register = (version: string) =>
        registry.registerModel({ name: "ids", version, algorithm: "a", framework: "f" }).pipe(Effect.map((m) => m.id))
      yield* TestClock.setTime(Date.UTC(2030, 0, 1, 12))
      const first = yield* register("1")
      yield* TestClock.setTime(Date.UTC(2030, 0, 1, 11)) // the clock steps back an hour
      const second = yield* register("2")
      return [first, second]
    }).pipe(
      Random.withSeed("registry"),
      Effect.provide(Layer.merge(ModelRegistry.layerMemory(), TestClock.layer()))
    )
    const run = await Effect.runPromise(program)
    expect(await Effect.runPromise(program)).toEqual(run)
    expect(run[1]! > run[0]!).toBe(true)
    expect(timeOf(run[1]!)).toBe(Date.UTC(2030, 0, 1, 12))
  })

  it("each generator has its own sequence", async () => {
    const ids = await Effect.runPromise(Effect.gen(function*() {
      const a = yield* makeUlidGenerator
      const b = yield* makeUlidGenerator
      return [yield* a(2000), yield* b(1000)]
    }))
    expect(ids.map(timeOf)).toEqual([2000, 1000])
  })
})
