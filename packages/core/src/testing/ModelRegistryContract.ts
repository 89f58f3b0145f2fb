/**
 * Behaviour of the ModelRegistry use case over real storage: the same suite runs with the
 * memory, fs and redis adapters, so lifecycle, audit and concurrency guarantees hold whatever
 * the storage is.
 */
import { Effect, Exit, type Layer, ManagedRuntime } from "effect"
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

    it("sets and deletes key-value tags one at a time, audited, and finds versions by them", async () => {
      const name = `kv-${Math.random().toString(36).slice(2)}`
      const result = await run(Effect.gen(function*() {
        const registry = yield* ModelRegistry
        const a = yield* registry.registerModel(input({ name, version: "1", keyValueTags: { team: "risk" } }))
        const b = yield* registry.registerModel(input({ name, version: "2", metrics: { auc: 0.95 } }))
        const tagged = yield* registry.setTag(b.id, "team", "risk", { actor: "dana" })
        const same = yield* registry.setTag(b.id, "team", "risk", { actor: "dana" })
        yield* registry.setTag(a.id, "stage", "beta")
        const untagged = yield* registry.deleteTag(a.id, "stage", { actor: "erin" })
        const absent = yield* registry.deleteTag(a.id, "stage")
        const page = yield* registry.searchModels({
          filter: `name = '${name}' AND tags.team = 'risk'`,
          orderBy: "metrics.auc DESC",
          limit: 1
        })
        const rest = yield* registry.searchModels({
          filter: `name = '${name}' AND tags.team = 'risk'`,
          orderBy: "metrics.auc DESC",
          cursor: page.nextCursor!
        })
        const bad = yield* Effect.exit(registry.searchModels({ filter: `name = '${name}' ANDD x` }))
        return {
          a,
          tagged,
          same,
          untagged,
          absent,
          page,
          rest,
          bad,
          historyA: yield* registry.getHistory(a.id),
          historyB: yield* registry.getHistory(b.id)
        }
      }))
      expect(result.a.keyValueTags).toEqual({ team: "risk" })
      expect(result.tagged.keyValueTags).toEqual({ team: "risk" })
      expect(result.same.revision).toBe(result.tagged.revision)
      expect(result.untagged.keyValueTags).toEqual({ team: "risk" })
      expect(result.absent.revision).toBe(result.untagged.revision)
      expect(result.historyB.map((e) => e.action)).toEqual(["registered", "tag_set"])
      expect(result.historyB.at(-1)).toMatchObject({
        actor: "dana",
        changes: { "keyValueTags.team": { from: null, to: "risk" } }
      })
      expect(result.historyA.map((e) => e.action)).toEqual(["registered", "tag_set", "tag_deleted"])
      expect(result.historyA.at(-1)).toMatchObject({
        actor: "erin",
        changes: { "keyValueTags.stage": { from: "beta", to: null } }
      })
      expect(result.page.items.map((m) => m.id)).toEqual([result.tagged.id])
      expect(result.rest).toEqual({ items: [result.untagged], nextCursor: null })
      expect(failureTag(result.bad)).toBe("ValidationError")
    })

    it("creates a registered model with a name's first version and shows the newest version per status", async () => {
      const name = `reg-${Math.random().toString(36).slice(2)}`
      const result = await run(Effect.gen(function*() {
        const registry = yield* ModelRegistry
        const v1 = yield* withArtifact(registry, { name, version: "1" })
        const v2 = yield* withArtifact(registry, { name, version: "2" })
        const v3 = yield* registry.registerModel(input({ name, version: "3" }))
        yield* toStaging(registry, v1.id)
        yield* toStaging(registry, v2.id)
        yield* registry.promoteModel(v1.id, "production")
        return {
          v1,
          v2,
          v3,
          detail: yield* registry.getRegisteredModel(name),
          listed: yield* registry.listRegisteredModels({ namePrefix: name }),
          missing: yield* Effect.exit(registry.getRegisteredModel(`${name}-none`)),
          conflict: yield* Effect.exit(registry.createRegisteredModel({ name }))
        }
      }))
      expect(result.detail.name).toBe(name)
      expect(result.detail.owner).toBe("alice")
      expect(result.detail.revision).toBe(1)
      expect(result.detail.latestVersions.map((m) => [m.status, m.id])).toEqual([
        ["draft", result.v3.id],
        ["staging", result.v2.id],
        ["production", result.v1.id]
      ])
      expect(result.detail.resolvedAliases).toEqual([{ alias: "production", modelId: result.v1.id, version: "1" }])
      expect(result.listed.items.map((r) => r.name)).toEqual([name])
      expect(failureTag(result.missing)).toBe("RegisteredModelNotFoundError")
      expect(failureTag(result.conflict)).toBe("RegisteredModelConflictError")
    })

    it("creates a registered model explicitly and patches its description, owner and key-value tags", async () => {
      const name = `reg-${Math.random().toString(36).slice(2)}`
      const result = await run(Effect.gen(function*() {
        const registry = yield* ModelRegistry
        const created = yield* registry.createRegisteredModel({ name, description: "scores", tags: { team: "risk" } }, {
          actor: "bob"
        })
        const patched = yield* registry.updateRegisteredModel(name, { owner: "carol", tags: { team: "fraud" } })
        const unchanged = yield* registry.updateRegisteredModel(name, { owner: "carol" })
        const version = yield* registry.registerModel(input({ name }))
        return { created, patched, unchanged, version, detail: yield* registry.getRegisteredModel(name) }
      }))
      expect(result.created).toMatchObject({ name, description: "scores", owner: "bob", tags: { team: "risk" } })
      expect(result.patched).toMatchObject({ owner: "carol", tags: { team: "fraud" }, revision: 2 })
      expect(result.unchanged.revision).toBe(2)
      // Registering a version keeps the explicit record.
      expect(result.detail).toMatchObject({ description: "scores", owner: "carol", revision: 2 })
      expect(result.detail.latestVersions.map((m) => m.id)).toEqual([result.version.id])
    })

    it("sets, resolves and deletes audited aliases, and answers where an alias pointed at a time", async () => {
      const name = `alias-${Math.random().toString(36).slice(2)}`
      const mover = { actor: "ci", mayMoveProtected: false }
      const result = await run(Effect.gen(function*() {
        const registry = yield* ModelRegistry
        const v1 = yield* registry.registerModel(input({ name, version: "1" }))
        const v2 = yield* registry.registerModel(input({ name, version: "2" }))
        const other = yield* registry.registerModel(input({ version: "1" }))
        const before = new Date().toISOString()
        yield* Effect.sleep("5 millis")
        yield* registry.setAlias(name, "champion", { version: "1" }, mover)
        const champion1 = yield* registry.resolveAlias(name, "champion")
        yield* Effect.sleep("5 millis")
        const between = new Date().toISOString()
        yield* Effect.sleep("5 millis")
        yield* registry.setAlias(name, "champion", { modelId: v2.id }, mover)
        const again = yield* registry.setAlias(name, "champion", { version: "2" }, mover)
        yield* registry.setAlias(name, "challenger", { version: "1" }, mover)
        yield* Effect.sleep("5 millis")
        const afterMoves = new Date().toISOString()
        yield* Effect.sleep("5 millis")
        yield* registry.deleteAlias(name, "champion", mover)
        return {
          v1,
          v2,
          champion1,
          again,
          atBefore: yield* Effect.exit(registry.resolveAlias(name, "champion", before)),
          atBetween: yield* registry.resolveAlias(name, "champion", between),
          atAfterMoves: yield* registry.resolveAlias(name, "champion", afterMoves),
          deleted: yield* Effect.exit(registry.resolveAlias(name, "champion")),
          deleteAgain: yield* Effect.exit(registry.deleteAlias(name, "champion", mover)),
          detail: yield* registry.getRegisteredModel(name),
          history: yield* registry.getHistory(v2.id),
          noTarget: yield* Effect.exit(registry.setAlias(name, "x", {}, mover)),
          bothTargets: yield* Effect.exit(registry.setAlias(name, "x", { version: "1", modelId: v1.id }, mover)),
          foreign: yield* Effect.exit(registry.setAlias(name, "x", { modelId: other.id }, mover)),
          noVersion: yield* Effect.exit(registry.setAlias(name, "x", { version: "9" }, mover)),
          noName: yield* Effect.exit(registry.setAlias(`${name}-none`, "x", { version: "1" }, mover))
        }
      }))
      expect(result.champion1.id).toBe(result.v1.id)
      expect(result.again.id).toBe(result.v2.id)
      expect(failureTag(result.atBefore)).toBe("AliasNotFoundError")
      expect(result.atBetween.id).toBe(result.v1.id)
      expect(result.atAfterMoves.id).toBe(result.v2.id)
      expect(failureTag(result.deleted)).toBe("AliasNotFoundError")
      expect(failureTag(result.deleteAgain)).toBe("AliasNotFoundError")
      expect(result.detail.aliases).toEqual({ challenger: result.v1.id })
      expect(result.detail.resolvedAliases).toEqual([{ alias: "challenger", modelId: result.v1.id, version: "1" }])
      // Setting an alias to where it already points is no move: one alias_set for v2, then its deletion.
      expect(result.history.filter((e) => e.alias !== undefined).map((e) => [e.action, e.alias, e.actor, e.changes]))
        .toEqual([
          ["alias_set", "champion", "ci", {
            modelId: { from: result.v1.id, to: result.v2.id },
            version: { from: "1", to: "2" }
          }],
          ["alias_deleted", "champion", "ci", {
            modelId: { from: result.v2.id, to: null },
            version: { from: "2", to: null }
          }]
        ])
      expect(failureTag(result.noTarget)).toBe("ValidationError")
      expect(failureTag(result.bothTargets)).toBe("ValidationError")
      expect(failureTag(result.foreign)).toBe("ValidationError")
      expect(failureTag(result.noVersion)).toBe("ModelNotFoundError")
      expect(failureTag(result.noName)).toBe("RegisteredModelNotFoundError")
    })

    it("resolves production as the built-in alias, refuses to move it, and guards protected aliases", async () => {
      const name = `builtin-${Math.random().toString(36).slice(2)}`
      const result = await run(Effect.gen(function*() {
        const registry = yield* ModelRegistry
        yield* registry.createRegisteredModel({ name, protectedAliases: ["champion"] })
        const v1 = yield* withArtifact(registry, { name, version: "1" })
        const none = yield* Effect.exit(registry.resolveAlias(name, "production"))
        yield* toStaging(registry, v1.id)
        yield* registry.promoteModel(v1.id, "production")
        const editor = { actor: "ed", mayMoveProtected: false }
        const admin = { actor: "root", mayMoveProtected: true }
        return {
          v1,
          none,
          production: yield* registry.resolveAlias(name, "production"),
          setProduction: yield* Effect.exit(registry.setAlias(name, "production", { version: "1" }, admin)),
          deleteProduction: yield* Effect.exit(registry.deleteAlias(name, "production", admin)),
          editorSets: yield* Effect.exit(registry.setAlias(name, "champion", { version: "1" }, editor)),
          adminSets: yield* Effect.exit(registry.setAlias(name, "champion", { version: "1" }, admin)),
          editorDeletes: yield* Effect.exit(registry.deleteAlias(name, "champion", editor)),
          champion: yield* registry.resolveAlias(name, "champion")
        }
      }))
      expect(failureTag(result.none)).toBe("AliasNotFoundError")
      expect(result.production.id).toBe(result.v1.id)
      expect(failureTag(result.setProduction)).toBe("ReservedAliasError")
      expect(failureTag(result.deleteProduction)).toBe("ReservedAliasError")
      expect(failureTag(result.editorSets)).toBe("ProtectedAliasError")
      expect(failureTag(result.adminSets)).toBe("success")
      expect(failureTag(result.editorDeletes)).toBe("ProtectedAliasError")
      expect(result.champion.id).toBe(result.v1.id)
    })

    it("archives every version of a registered model in one audited step", async () => {
      const name = `archive-${Math.random().toString(36).slice(2)}`
      const result = await run(Effect.gen(function*() {
        const registry = yield* ModelRegistry
        const v1 = yield* withArtifact(registry, { name, version: "1" })
        const v2 = yield* withArtifact(registry, { name, version: "2" })
        const v3 = yield* registry.registerModel(input({ name, version: "3" }))
        yield* toStaging(registry, v1.id)
        yield* registry.promoteModel(v1.id, "production")
        yield* registry.promoteModel(v2.id, "testing")
        const detail = yield* registry.archiveRegisteredModel(name, { actor: "root", reason: "retired" })
        const again = yield* registry.archiveRegisteredModel(name, { actor: "root" })
        return {
          detail,
          again,
          production: yield* registry.getProduction(name),
          histories: yield* Effect.forEach([v1, v2, v3], (m) => registry.getHistory(m.id))
        }
      }))
      expect(result.detail.latestVersions.map((m) => m.status)).toEqual(["archived"])
      expect(result.production).toBeUndefined()
      expect(result.histories.map((h) => h.at(-1))).toEqual(
        ["production", "testing", "draft"].map((from) =>
          expect.objectContaining({ action: "archived", from, to: "archived", actor: "root", reason: "retired" })
        )
      )
      // Archiving again finds nothing live and writes nothing.
      expect(result.histories.every((h) => h.filter((e) => e.action === "archived").length === 1)).toBe(true)
      expect(result.again.latestVersions.map((m) => m.status)).toEqual(["archived"])
    })

    it("keeps one alias pointer and a complete audit chain under concurrent moves", async () => {
      const name = `race-alias-${Math.random().toString(36).slice(2)}`
      const result = await run(Effect.gen(function*() {
        const registry = yield* ModelRegistry
        yield* Effect.forEach(["1", "2", "3"], (version) => registry.registerModel(input({ name, version })))
        const moves = yield* Effect.all(
          Array.from(
            { length: 12 },
            (_, i) =>
              Effect.exit(registry.setAlias(name, "champion", { version: String((i % 3) + 1) }, {
                actor: `mover-${i}`,
                mayMoveProtected: false
              }))
          ),
          { concurrency: "unbounded" }
        )
        const history = yield* registry.getRegisteredModelHistory(name)
        return { moves, history, final: yield* registry.resolveAlias(name, "champion") }
      }))
      expect(result.moves.every(Exit.isSuccess)).toBe(true)
      const events = result.history.filter((e) => e.action === "alias_set")
      expect(events.length).toBeGreaterThanOrEqual(1)
      // Each move starts where the previous one left the alias: no move was lost or applied twice.
      const chain = events.map((e) => e.changes?.modelId as { from: string | null; to: string })
      expect(chain[0]!.from).toBeNull()
      for (let i = 1; i < chain.length; i++) expect(chain[i]!.from).toBe(chain[i - 1]!.to)
      expect(result.final.id).toBe(chain.at(-1)!.to)
    })

    it("derives production history from audit events alone", () => {
      expect(productionAt([], new Date().toISOString())).toBeNull()
    })
  })
}

/**
 * Alias moves racing from several registry instances on one shared storage (Redis, PostgreSQL):
 * each move targets a different version, so every one of them must change the pointer. The audit
 * trail must hold every move exactly once, each starting where the previous one left the alias,
 * and every instance must resolve the alias to the last audited move.
 */
export const aliasMovesAcrossInstances = (
  adapter: string,
  makeInstance: () => Layer.Layer<ModelRegistry, unknown>,
  options: { readonly instances?: number; readonly movesPerInstance?: number } = {}
) => {
  const instances = options.instances ?? 3
  const movesPerInstance = options.movesPerInstance ?? 6
  describe(`ModelRegistry aliases across ${instances} instances on ${adapter}`, () => {
    it("leaves one pointer, the last of a complete audited chain of moves", async () => {
      const runtimes = Array.from({ length: instances }, () => ManagedRuntime.make(makeInstance()))
      try {
        const name = `shared-alias-${Math.random().toString(36).slice(2)}`
        const versions = await runtimes[0]!.runPromise(
          ModelRegistry.use((registry) =>
            Effect.forEach(
              Array.from({ length: instances * movesPerInstance }, (_, i) => String(i + 1)),
              (version) => registry.registerModel({ name, version, algorithm: "gbm", framework: "xgboost" })
            )
          )
        )
        const moves = await Promise.all(
          runtimes.flatMap((runtime, instance) =>
            Array.from(
              { length: movesPerInstance },
              (_, i) =>
                runtime.runPromise(ModelRegistry.use((registry) =>
                  registry.setAlias(name, "champion", { modelId: versions[instance * movesPerInstance + i]!.id }, {
                    actor: `instance-${instance}`,
                    mayMoveProtected: false
                  })
                ))
            )
          )
        )
        expect(moves.map((m) => m.id).sort()).toEqual(versions.map((m) => m.id).sort())
        const history = await runtimes[1 % instances]!.runPromise(
          ModelRegistry.use((registry) => registry.getRegisteredModelHistory(name))
        )
        const chain = history.filter((e) => e.action === "alias_set").map((e) =>
          e.changes?.modelId as { from: string | null; to: string }
        )
        expect(chain.map((link) => link.to).sort()).toEqual(versions.map((m) => m.id).sort())
        expect(chain[0]!.from).toBeNull()
        for (let i = 1; i < chain.length; i++) expect(chain[i]!.from).toBe(chain[i - 1]!.to)
        const resolved = await Promise.all(
          runtimes.map((runtime) =>
            runtime.runPromise(ModelRegistry.use((registry) => registry.resolveAlias(name, "champion")))
          )
        )
        expect(resolved.map((m) => m.id)).toEqual(runtimes.map(() => chain.at(-1)!.to))
      } finally {
        await Promise.all(runtimes.map((runtime) => runtime.dispose()))
      }
    })
  })
}
