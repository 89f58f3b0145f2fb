import { Effect, Exit } from "effect"
import { describe, expect, it } from "vitest"
import {
  type AuditEvent,
  canTransition,
  decodeInput,
  makeUlid,
  modelStatuses,
  productionAt,
  RegisterModelInput,
  transitions,
  ulidPattern
} from "../src/index.js"

const decodeRegister = decodeInput(RegisterModelInput, "model metadata")
const failure = (input: unknown) => {
  const exit = Effect.runSyncExit(decodeRegister(input))
  if (Exit.isSuccess(exit)) throw new Error("expected a validation failure")
  return (exit.cause.reasons[0] as any).error
}

describe("model metadata validation", () => {
  const valid = { name: "churn", version: "1.2.0", algorithm: "xgboost", framework: "xgboost" }

  it("accepts valid metadata", () => {
    expect(
      Effect.runSync(
        decodeRegister({ ...valid, metrics: { auc: 0.9 }, parameters: { depth: 6, loss: "logloss", gpu: false } })
      )
    ).toMatchObject(valid)
  })

  it("names every offending field", () => {
    const error = failure({ ...valid, name: "../etc", version: 3, metrics: { auc: "high" }, staus: "draft" })
    expect(error._tag).toBe("ValidationError")
    const paths = error.issues.map((i: { path: Array<string> }) => i.path.join("."))
    expect(paths).toEqual(expect.arrayContaining(["name", "version", "metrics.auc", "staus"]))
    expect(error.message).toContain("name:")
  })

  it("rejects names that could escape a directory or be empty", () => {
    for (const name of ["../x", "a/b", "", ".hidden", "a\\b", "x".repeat(129)]) {
      expect(failure({ ...valid, name }).issues[0].path).toEqual(["name"])
    }
  })

  it("rejects non-finite metric values", () => {
    expect(failure({ ...valid, metrics: { auc: Number.NaN } }).issues[0].path).toEqual(["metrics", "auc"])
  })
})

describe("lifecycle", () => {
  it("allows only single forward steps and archiving, with archived final", () => {
    const allowed = modelStatuses.flatMap((from) =>
      modelStatuses.filter((to) => canTransition(from, to)).map((to) => `${from}->${to}`)
    )
    expect(allowed.sort()).toEqual([
      "draft->archived",
      "draft->testing",
      "production->archived",
      "staging->archived",
      "staging->production",
      "testing->archived",
      "testing->staging"
    ])
    expect(transitions.archived).toEqual([])
  })
})

describe("production at a point in time", () => {
  const event = (at: string, modelId: string, from: AuditEvent["from"], to: AuditEvent["to"]): AuditEvent => ({
    at,
    modelId,
    name: "n",
    version: modelId,
    action: "promoted",
    actor: "a",
    from,
    to,
    reason: null
  })
  const a = "01ARZ3NDEKTSV4RRFFQ69G5FAA"
  const b = "01ARZ3NDEKTSV4RRFFQ69G5FAB"
  const events = [
    event("2026-01-01T00:00:00.000Z", a, "staging", "production"),
    event("2026-02-01T00:00:00.000Z", b, "staging", "production"),
    event("2026-02-01T00:00:00.000Z", a, "production", "archived"),
    event("2026-03-01T00:00:00.000Z", b, "production", "archived")
  ]
  it("replays promotions and demotions up to the instant", () => {
    expect(productionAt(events, "2025-12-31T00:00:00Z")).toBeNull()
    expect(productionAt(events, "2026-01-15T00:00:00Z")).toBe(a)
    expect(productionAt(events, "2026-02-01T00:00:00Z")).toBe(b)
    expect(productionAt(events, "2026-03-02T00:00:00Z")).toBeNull()
  })
})

describe("model ids", () => {
  it("are ULIDs that sort by creation time, also within one millisecond", () => {
    const ids = [makeUlid(1000), makeUlid(1000), makeUlid(1000), makeUlid(1001), makeUlid(5_000_000_000_000)]
    for (const id of ids) expect(id).toMatch(ulidPattern)
    expect([...ids].sort()).toEqual(ids)
    expect(new Set(ids).size).toBe(ids.length)
  })
})
