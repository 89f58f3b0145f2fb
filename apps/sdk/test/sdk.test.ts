import { createHash, randomBytes } from "node:crypto"
import { describe, expect, it } from "vitest"
import {
  AliasNotFoundError,
  ArtifactStateError,
  createClient,
  IntegrityError,
  InvalidTransitionError,
  ModelConflictError,
  ModelNotFoundError,
  ReservedAliasError,
  Sha256,
  ValidationError
} from "../src/index.js"
import { useServer } from "./serverFixture.js"

const server = useServer()

const client = () => createClient({ baseUrl: server.url, onBehalfOf: "sdk-test" })
const hex = (bytes: Uint8Array) => createHash("sha256").update(bytes).digest("hex")
const metadata = (version: string, name = "sdk-model") => ({ name, version, algorithm: "logreg", framework: "sklearn" })

describe("Sha256", () => {
  it("matches node:crypto for every length around block boundaries and for split updates", () => {
    for (const size of [0, 1, 55, 56, 63, 64, 65, 119, 120, 1000, 100_000]) {
      const bytes = new Uint8Array(randomBytes(size))
      expect(new Sha256().update(bytes).digestHex()).toBe(hex(bytes))
      const split = new Sha256()
      for (let i = 0; i < size; i += 37) split.update(bytes.subarray(i, i + 37))
      expect(split.digestHex()).toBe(hex(bytes))
    }
  })
})

describe("registry client against a real server", () => {
  it.each([
    ["Uint8Array", (b: Uint8Array) => b],
    ["Blob", (b: Uint8Array) => new Blob([b as Uint8Array<ArrayBuffer>])],
    ["ReadableStream", (b: Uint8Array) => new Blob([b as Uint8Array<ArrayBuffer>]).stream()],
    ["async iterable", (b: Uint8Array) =>
      (async function*() {
        for (let i = 0; i < b.length; i += 10_000) yield b.subarray(i, i + 10_000)
      })()]
  ])("registers a model with a %s artifact and downloads it verified", async (kind, wrap) => {
    const bytes = new Uint8Array(randomBytes(250_000))
    const sdk = client()
    const model = await sdk.registry.registerModel(metadata(`artifact-${kind.replace(/\s/g, "-")}`), wrap(bytes), {
      expectedSha256: hex(bytes)
    })
    expect(model.artifact).toMatchObject({ sha256: hex(bytes), sizeBytes: bytes.length })
    // The actor is the token's principal (anonymous: the test server has no token); the name is an annotation.
    expect([model.createdBy, model.onBehalfOf]).toEqual(["anonymous", "sdk-test"])
    const download = await sdk.registry.downloadArtifact(model.id)
    expect(download.sha256).toBe(hex(bytes))
    expect(hex(await download.bytes())).toBe(hex(bytes))
  })

  it("walks the lifecycle and reads history and production", async () => {
    const sdk = client()
    const name = `sdk-life-${Date.now()}`
    const model = await sdk.registry.registerModel(metadata("1", name), new Uint8Array([1, 2, 3]))
    await sdk.registry.promoteModel(model.id, "testing", { reason: "offline eval passed" })
    await sdk.registry.promoteModel(model.id, "staging")
    const live = await sdk.registry.promoteModel(model.id, "production", { reason: "canary ok" })
    expect(live.status).toBe("production")
    expect((await sdk.registry.getProduction(name)).id).toBe(model.id)
    const history = await sdk.registry.getHistory(model.id)
    expect(history.map((e) => e.action)).toEqual([
      "registered",
      "artifact_uploaded",
      "promoted",
      "promoted",
      "promoted"
    ])
    expect(history[2]).toMatchObject({ reason: "offline eval passed", actor: "anonymous", onBehalfOf: "sdk-test" })
    const updated = await sdk.registry.updateModel(model.id, { description: "prod model" })
    expect(updated.description).toBe("prod model")
  })

  it("manages registered models and aliases: list, get, patch, set, resolve at a time, delete, archive", async () => {
    const sdk = client()
    const name = `sdk-reg-${Date.now()}`
    const v1 = await sdk.registry.registerModel(metadata("1", name), new Uint8Array([1]))
    const v2 = await sdk.registry.registerModel(metadata("2", name))
    const names: Array<string> = []
    for await (const registered of sdk.registry.listRegisteredModels({ namePrefix: name, limit: 1 })) {
      names.push(registered.name)
    }
    expect(names).toEqual([name])
    expect((await sdk.registry.updateRegisteredModel(name, { owner: "ml-team" })).owner).toBe("ml-team")
    expect((await sdk.registry.setAlias(name, "champion", { version: "1" })).id).toBe(v1.id)
    await new Promise((resolve) => setTimeout(resolve, 5))
    const between = new Date()
    await new Promise((resolve) => setTimeout(resolve, 5))
    expect((await sdk.registry.setAlias(name, "champion", { modelId: v2.id })).id).toBe(v2.id)
    expect((await sdk.registry.getAlias(name, "champion")).id).toBe(v2.id)
    expect((await sdk.registry.getAlias(name, "champion", between)).id).toBe(v1.id)
    const detail = await sdk.registry.getRegisteredModel(name)
    expect(detail.resolvedAliases).toEqual([{ alias: "champion", modelId: v2.id, version: "2" }])
    expect(await sdk.registry.setAlias(name, "production", { version: "1" }).catch((e) => e)).toBeInstanceOf(
      ReservedAliasError
    )
    await sdk.registry.deleteAlias(name, "champion")
    expect(await sdk.registry.getAlias(name, "champion").catch((e) => e)).toBeInstanceOf(AliasNotFoundError)
    const history = await sdk.registry.getRegisteredModelHistory(name)
    expect(history.filter((e) => e.alias === "champion").map((e) => e.action)).toEqual([
      "alias_set",
      "alias_set",
      "alias_deleted"
    ])
    const archived = await sdk.registry.archiveRegisteredModel(name, { reason: "done" })
    expect(archived.latestVersions.map((m) => m.status)).toEqual(["archived"])
  })

  it("iterates every page of a listing", async () => {
    const sdk = client()
    const name = `sdk-list-${Date.now()}`
    const ids: Array<string> = []
    for (let i = 0; i < 7; i++) ids.push((await sdk.registry.registerModel(metadata(String(i), name))).id)
    const seen: Array<string> = []
    for await (const model of sdk.registry.listModels({ name, limit: 3 })) seen.push(model.id)
    expect(seen).toEqual(ids)
  })

  it("tags versions and searches every page of them, in order", async () => {
    const sdk = client()
    const name = `sdk-search-${Date.now()}`
    const ids: Array<string> = []
    for (let i = 0; i < 5; i++) {
      const model = await sdk.registry.registerModel({ ...metadata(String(i), name), metrics: { auc: i / 10 } })
      ids.push((await sdk.registry.setModelTag(model.id, "team", i % 2 === 0 ? "risk" : "growth")).id)
    }
    const seen: Array<string> = []
    for await (
      const model of sdk.registry.searchModels({
        filter: `name = '${name}' AND tags.team = 'risk'`,
        orderBy: "metrics.auc DESC",
        limit: 1
      })
    ) seen.push(model.id)
    expect(seen).toEqual([ids[4], ids[2], ids[0]])
    expect((await sdk.registry.deleteModelTag(ids[0]!, "team")).keyValueTags).toEqual({})
    const bad = await sdk.registry.searchModelsPage({ filter: "name = 'x' ANDD" }).catch((e) => e)
    expect(bad).toBeInstanceOf(ValidationError)
    expect(bad.errors).toEqual([{ path: "filter", message: "unexpected token 'ANDD' at 11" }])
  })

  it("raises typed errors carrying the problem fields", async () => {
    const sdk = client()
    const model = await sdk.registry.registerModel(metadata(`errors-${Date.now()}`))
    const conflict = await sdk.registry.registerModel(metadata(model.version)).catch((e) => e)
    expect(conflict).toBeInstanceOf(ModelConflictError)
    expect(conflict.problem.existingId).toBe(model.id)
    const invalid = await sdk.registry.promoteModel(model.id, "production").catch((e) => e)
    expect(invalid).toBeInstanceOf(InvalidTransitionError)
    expect(invalid.status).toBe(409)
    expect(await sdk.registry.promoteModel(model.id, "testing").catch((e) => e)).toBeInstanceOf(ArtifactStateError)
    expect(await sdk.registry.getModel("01ARZ3NDEKTSV4RRFFQ69G5FAV").catch((e) => e)).toBeInstanceOf(ModelNotFoundError)
    const bad = await sdk.registry.registerModel({ ...metadata("x"), name: "../evil" }).catch((e) => e)
    expect(bad).toBeInstanceOf(ValidationError)
    expect(bad.errors.map((e: { path: string }) => e.path)).toEqual(["name"])
    const wrongHash = await sdk.registry.registerModel(metadata(`hash-${Date.now()}`), new Uint8Array([1]), {
      expectedSha256: "f".repeat(64)
    }).catch((e) => e)
    expect(wrongHash).toBeInstanceOf(IntegrityError)
  })

  it("refuses an empty artifact unless allowEmpty is set, and the draft can upload again", async () => {
    const sdk = client()
    const model = await sdk.registry.registerModel(metadata(`empty-${Date.now()}`))
    const refused = await sdk.registry.uploadArtifact(model.id, new Uint8Array(0)).catch((e) => e)
    expect(refused).toBeInstanceOf(ValidationError)
    expect(refused.errors.map((e: { path: string }) => e.path)).toEqual(["body"])
    const empty = await sdk.registry.uploadArtifact(model.id, new Uint8Array(0), { allowEmpty: true })
    expect(empty.artifact).toMatchObject({ sizeBytes: 0, allowEmpty: true })
  })

  it("detects bytes altered in transit while streaming a download", async () => {
    const bytes = new Uint8Array(randomBytes(50_000))
    const model = await client().registry.registerModel(metadata(`tamper-${Date.now()}`), bytes)
    const tampering: typeof fetch = async (input, init) => {
      const response = await fetch(input, init)
      if (!String(input).endsWith("/artifact")) return response
      const altered = new Uint8Array(await response.arrayBuffer())
      altered[10] = altered[10]! ^ 0xff
      return new Response(altered, { status: response.status, headers: response.headers })
    }
    const download = await createClient({ baseUrl: server.url, fetch: tampering }).registry.downloadArtifact(model.id)
    await expect(download.bytes()).rejects.toBeInstanceOf(IntegrityError)
  })
})
