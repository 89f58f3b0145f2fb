/**
 * Behaviour of the ModelRegistry use case over real storage: the same suite runs with the
 * memory, fs and redis adapters, so lifecycle, audit and concurrency guarantees hold whatever
 * the storage is.
 */
import { Effect, Exit, type Layer } from "effect"
import { describe, expect, it } from "vitest"
import { sha256Hex } from "../registry/ArtifactStore.js"
import { productionAt } from "../registry/AuditEvent.js"
import type { RegisterModelInput } from "../registry/Model.js"
import { ModelRegistry, type RegistrySettings } from "../registry/ModelRegistry.js"
import { ulidPattern } from "../shared/Ulid.js"
import { randomBytes, readAll, streamOf } from "./fixtures.js"
import { exampleSignature } from "./SignatureContract.js"

export const modelRegistryContract = (
  adapter: string,
  makeLayer: (settings?: Partial<RegistrySettings>) => Layer.Layer<ModelRegistry, unknown>
) => {
  const run = <A, E>(program: Effect.Effect<A, E, ModelRegistry>, settings?: Partial<RegistrySettings>): Promise<A> =>
    Effect.runPromise(Effect.provide(program, makeLayer(settings)) as Effect.Effect<A, E>)
  const failureTag = (exit: Exit.Exit<unknown, unknown>) =>
    Exit.isFailure(exit) ? (exit.cause.reasons.find((r: any) => r._tag === "Fail") as any)?.error?._tag : "success"
  const input = (overrides: Partial<RegisterModelInput> = {}): RegisterModelInput => ({
    name: `model-${Math.random().toString(36).slice(2, 10)}`,
    version: "1.0.0",
    algorithm: "gradient_boosting",
    framework: "xgboost",
    metrics: { auc: 0.87 },
    tags: ["fraud"],
    createdBy: "alice",
    ...overrides
  })
  const withArtifact = (registry: ModelRegistry["Service"], overrides: Partial<RegisterModelInput> = {}) =>
    registry.registerModel(input(overrides), streamOf([randomBytes(2048)]))
  const toStaging = (registry: ModelRegistry["Service"], id: string) =>
    Effect.gen(function*() {
      yield* registry.promoteModel(id, "testing", { actor: "ci" })
      return yield* registry.promoteModel(id, "staging", { actor: "ci" })
    })

  /** Puts v1 then v2 of one new name into production, one after the other. */
  const replaceInProduction = (registry: ModelRegistry["Service"]) =>
    Effect.gen(function*() {
      const name = `swap-${Math.random().toString(36).slice(2)}`
      const v1 = yield* withArtifact(registry, { name, version: "1" })
      const v2 = yield* withArtifact(registry, { name, version: "2" })
      yield* toStaging(registry, v1.id)
      yield* toStaging(registry, v2.id)
      yield* registry.promoteModel(v1.id, "production")
      yield* registry.promoteModel(v2.id, "production")
      return {
        v1: yield* registry.getModel(v1.id),
        v2: yield* registry.getModel(v2.id),
        v1History: yield* registry.getHistory(v1.id)
      }
    })

  describe(`ModelRegistry on ${adapter}`, () => {
    it("registers a draft with a time-sortable id, an audit event and no artifact", async () => {
      const { model, history } = await run(Effect.gen(function*() {
        const registry = yield* ModelRegistry
        const model = yield* registry.registerModel(
          input({ training: { startedAt: "2026-01-01T00:00:00Z", finishedAt: "2026-01-01T00:01:30Z" } })
        )
        return { model, history: yield* registry.getHistory(model.id) }
      }))
      expect(model.id).toMatch(ulidPattern)
      expect(model.status).toBe("draft")
      expect(model.artifact).toBeNull()
      expect(model.training.durationSeconds).toBe(90)
      expect(history.map((e) => [e.action, e.to, e.actor])).toEqual([["registered", "draft", "alice"]])
    })

    it("keeps the signature a version was registered with", async () => {
      const { listed, model, read } = await run(Effect.gen(function*() {
        const registry = yield* ModelRegistry
        const model = yield* registry.registerModel(input({ signature: exampleSignature }))
        const read = yield* registry.getModel(model.id)
        const listed = yield* registry.listModels({ name: model.name })
        return { model, read, listed }
      }))
      expect(model.signature).toEqual(exampleSignature)
      expect(read).toEqual(model)
      expect(listed.items).toEqual([model])
    })

    it("rejects a duplicate (name, version) and overwrites nothing", async () => {
      const { exit, original } = await run(Effect.gen(function*() {
        const registry = yield* ModelRegistry
        const first = yield* registry.registerModel(
          input({ name: "dup-" + Math.random().toString(36).slice(2), description: "first" })
        )
        const exit = yield* Effect.exit(registry.registerModel(input({ name: first.name, description: "second" })))
        return { exit, original: yield* registry.getModel(first.id) }
      }))
      expect(failureTag(exit)).toBe("ModelConflictError")
      expect(original.description).toBe("first")
    })

    it("stores the artifact's size and SHA-256 and serves the same bytes", async () => {
      const bytes = randomBytes(100_000)
      const { model, served } = await run(Effect.gen(function*() {
        const registry = yield* ModelRegistry
        const model = yield* registry.registerModel(
          input(),
          streamOf([bytes.subarray(0, 50_000), bytes.subarray(50_000)])
        )
        const { stream } = yield* registry.readArtifact(model.id)
        return { model, served: yield* Effect.promise(() => readAll(stream)) }
      }))
      expect(model.artifact?.sha256).toBe(await sha256Hex(bytes))
      expect(model.artifact?.sizeBytes).toBe(bytes.length)
      expect(served).toEqual(bytes)
    })

    it("refuses a second artifact and an artifact with the wrong hash, leaving the model unchanged", async () => {
      const result = await run(Effect.gen(function*() {
        const registry = yield* ModelRegistry
        const bare = yield* registry.registerModel(input())
        const wrongHash = yield* Effect.exit(
          registry.uploadArtifact(bare.id, streamOf([randomBytes(10)]), { expectedSha256: "a".repeat(64) })
        )
        const afterWrong = yield* registry.getModel(bare.id)
        const full = yield* withArtifact(registry)
        const second = yield* Effect.exit(registry.uploadArtifact(full.id, streamOf([randomBytes(10)])))
        return { wrongHash, afterWrong, second, full, fullAfter: yield* registry.getModel(full.id) }
      }))
      expect(failureTag(result.wrongHash)).toBe("IntegrityError")
      expect(result.afterWrong.artifact).toBeNull()
      expect(result.afterWrong.revision).toBe(1)
      expect(failureTag(result.second)).toBe("ArtifactStateError")
      expect(result.fullAfter.artifact).toEqual(result.full.artifact)
    })

    it("refuses empty artifacts unless allowEmpty, lets the draft retry, promotes empty only if allowed", async () => {
      const bytes = randomBytes(10)
      const result = await run(Effect.gen(function*() {
        const registry = yield* ModelRegistry
        const draft = yield* registry.registerModel(input())
        const empty = yield* Effect.exit(registry.uploadArtifact(draft.id, streamOf([])))
        const afterEmpty = yield* registry.getModel(draft.id)
        const failed = yield* Effect.exit(
          registry.uploadArtifact(draft.id, streamOf([bytes]), { expectedSha256: "a".repeat(64) })
        )
        const retried = yield* registry.uploadArtifact(draft.id, streamOf([bytes]))
        const allowed = yield* registry.registerModel(input(), streamOf([]), { allowEmpty: true })
        return {
          empty,
          afterEmpty,
          failed,
          retried,
          allowed,
          promoted: yield* toStaging(registry, allowed.id)
        }
      }))
      expect(failureTag(result.empty)).toBe("ValidationError")
      expect(Exit.isFailure(result.empty) && String(result.empty.cause)).toMatch(/allowEmpty/)
      expect(result.afterEmpty.artifact).toBeNull()
      expect(failureTag(result.failed)).toBe("IntegrityError")
      expect(result.retried.artifact).toMatchObject({ sha256: await sha256Hex(bytes), sizeBytes: 10 })
      expect(result.allowed.artifact).toMatchObject({ sizeBytes: 0, allowEmpty: true })
      expect(result.promoted.status).toBe("staging")
    })

    it("follows the lifecycle one step at a time and rejects skips with a typed error", async () => {
      const result = await run(Effect.gen(function*() {
        const registry = yield* ModelRegistry
        const noArtifact = yield* registry.registerModel(input())
        const leaveDraftBare = yield* Effect.exit(registry.promoteModel(noArtifact.id, "testing"))
        const archiveBare = yield* registry.promoteModel(noArtifact.id, "archived", { reason: "abandoned" })
        const uploadToArchived = yield* Effect.exit(registry.uploadArtifact(noArtifact.id, streamOf([randomBytes(10)])))
        const model = yield* withArtifact(registry)
        const skip = yield* Effect.exit(registry.promoteModel(model.id, "production"))
        const same = yield* Effect.exit(registry.promoteModel(model.id, "draft"))
        yield* toStaging(registry, model.id)
        const live = yield* registry.promoteModel(model.id, "production", { reason: "beats baseline", actor: "bob" })
        const archived = yield* registry.promoteModel(model.id, "archived")
        const revive = yield* Effect.exit(registry.promoteModel(model.id, "production"))
        const unknown = yield* Effect.exit(registry.promoteModel("01ARZ3NDEKTSV4RRFFQ69G5FAV", "testing"))
        return {
          leaveDraftBare,
          archiveBare,
          uploadToArchived,
          skip,
          same,
          live,
          archived,
          revive,
          unknown,
          history: yield* registry.getHistory(model.id)
        }
      }))
      expect(failureTag(result.leaveDraftBare)).toBe("ArtifactStateError")
      expect(result.archiveBare.status).toBe("archived")
      expect(failureTag(result.uploadToArchived)).toBe("ArtifactStateError")
      expect(failureTag(result.skip)).toBe("InvalidTransitionError")
      expect(failureTag(result.same)).toBe("InvalidTransitionError")
      expect(result.live.status).toBe("production")
      expect(result.archived.status).toBe("archived")
      expect(failureTag(result.revive)).toBe("InvalidTransitionError")
      expect(failureTag(result.unknown)).toBe("ModelNotFoundError")
      expect(result.history.map((e) => `${e.action}:${e.from ?? ""}->${e.to ?? ""}`)).toEqual([
        "registered:->draft",
        "artifact_uploaded:->",
        "promoted:draft->testing",
        "promoted:testing->staging",
        "promoted:staging->production",
        "archived:production->archived"
      ])
      expect(result.history[4]).toMatchObject({ actor: "bob", reason: "beats baseline" })
    })

    it("moves the previous production version to archived when another is promoted", async () => {
      const { v1, v2, v1History } = await run(ModelRegistry.use(replaceInProduction))
      expect(v1.status).toBe("archived")
      expect(v2.status).toBe("production")
      expect(v1History.at(-1)).toMatchObject({ action: "demoted", from: "production", to: "archived" })
    })

    it("can demote the previous production version to staging instead", async () => {
      const { v1, v1History } = await run(ModelRegistry.use(replaceInProduction), { demoteProductionTo: "staging" })
      expect(v1.status).toBe("staging")
      expect(v1History.at(-1)).toMatchObject({ action: "demoted", from: "production", to: "staging" })
    })

    it("keeps exactly one production version when 20 versions are promoted at once; the audit agrees", async () => {
      const name = `race-${Math.random().toString(36).slice(2)}`
      const result = await run(Effect.gen(function*() {
        const registry = yield* ModelRegistry
        const versions = yield* Effect.forEach(
          Array.from({ length: 20 }, (_, i) => `${i + 1}.0.0`),
          (version) => withArtifact(registry, { name, version }).pipe(Effect.tap((m) => toStaging(registry, m.id)))
        )
        const exits = yield* Effect.all(
          versions.map((m) => Effect.exit(registry.promoteModel(m.id, "production", { actor: "race" }))),
          { concurrency: "unbounded" }
        )
        const models = yield* Effect.forEach(versions, (m) => registry.getModel(m.id))
        const histories = yield* Effect.forEach(versions, (m) => registry.getHistory(m.id))
        const current = yield* registry.getProduction(name)
        return { exits, models, histories, current }
      }))
      expect(result.exits.every(Exit.isSuccess)).toBe(true)
      const live = result.models.filter((m) => m.status === "production")
      expect(live).toHaveLength(1)
      expect(result.current?.id).toBe(live[0]!.id)
      expect(result.models.filter((m) => m.status === "archived")).toHaveLength(19)
      const events = result.histories.flat().sort((a, b) => (a.at < b.at ? -1 : a.at > b.at ? 1 : 0))
      expect(events.filter((e) => e.to === "production")).toHaveLength(20)
      expect(events.filter((e) => e.action === "demoted")).toHaveLength(19)
      // Every version except the final one entered production and was later demoted, exactly once.
      for (const m of result.models) {
        const mine = result.histories.flat().filter((e) =>
          e.modelId === m.id && (e.from === "production" || e.to === "production")
        )
        expect(mine.map((e) => e.action)).toEqual(m.id === live[0]!.id ? ["promoted"] : ["promoted", "demoted"])
      }
    })

    it("answers which version was in production at a given time", async () => {
      const result = await run(Effect.gen(function*() {
        const registry = yield* ModelRegistry
        const name = `time-${Math.random().toString(36).slice(2)}`
        const v1 = yield* withArtifact(registry, { name, version: "1" })
        const v2 = yield* withArtifact(registry, { name, version: "2" })
        yield* toStaging(registry, v1.id)
        yield* toStaging(registry, v2.id)
        const before = new Date().toISOString()
        yield* Effect.sleep(5)
        yield* registry.promoteModel(v1.id, "production")
        yield* Effect.sleep(5)
        const during = new Date().toISOString()
        yield* Effect.sleep(5)
        yield* registry.promoteModel(v2.id, "production")
        yield* Effect.sleep(5)
        const after = new Date().toISOString()
        return {
          v1,
          v2,
          atBefore: yield* registry.getProduction(name, before),
          atDuring: yield* registry.getProduction(name, during),
          atAfter: yield* registry.getProduction(name, after)
        }
      }))
      expect(result.atBefore).toBeUndefined()
      expect(result.atDuring?.id).toBe(result.v1.id)
      expect(result.atAfter?.id).toBe(result.v2.id)
    })

    it("updates description, tags and metrics with an audited diff", async () => {
      const { updated, history, unchanged } = await run(Effect.gen(function*() {
        const registry = yield* ModelRegistry
        const model = yield* registry.registerModel(input())
        const updated = yield* registry.updateModel(model.id, {
          description: "retrained",
          tags: ["fraud", "eu"],
          metrics: { f1: 0.7 },
          actor: "carol"
        })
        const unchanged = yield* registry.updateModel(model.id, { description: "retrained" })
        return { updated, unchanged, history: yield* registry.getHistory(model.id) }
      }))
      expect(updated).toMatchObject({
        description: "retrained",
        tags: ["fraud", "eu"],
        metrics: { auc: 0.87, f1: 0.7 },
        revision: 2
      })
      expect(unchanged.revision).toBe(2)
      expect(history.at(-1)).toMatchObject({
        action: "updated",
        actor: "carol",
        changes: { description: { from: "", to: "retrained" } }
      })
    })

    it("pages through every model with a cursor", async () => {
      const name = `page-${Math.random().toString(36).slice(2)}`
      const { created, seen } = await run(Effect.gen(function*() {
        const registry = yield* ModelRegistry
        const created = yield* Effect.forEach(
          [1, 2, 3, 4, 5],
          (v) => registry.registerModel(input({ name, version: String(v) }))
        )
        const seen: Array<string> = []
        let cursor: string | null | undefined = undefined
        do {
          const page: { items: ReadonlyArray<{ id: string }>; nextCursor: string | null } = yield* registry.listModels({
            name,
            limit: 2,
            ...(cursor ? { cursor } : {})
          })
          seen.push(...page.items.map((m) => m.id))
          cursor = page.nextCursor
        } while (cursor)
        return { created, seen }
      }))
      expect(seen).toEqual(created.map((m) => m.id))
    })

    it("derives production history from audit events alone", () => {
      expect(productionAt([], new Date().toISOString())).toBeNull()
    })
  })
}
