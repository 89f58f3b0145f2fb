// Registered models and aliases over HTTP: implicit creation with the first version, the detail
// view, alias moves with their audit and time travel, the built-in production alias, protected
// aliases per role, archive-all, and 400s naming the field for bad names and aliases.
import { type Access, type KeyStore } from "@org/ml-core"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { json, makeTestApp, metadata } from "./helpers.js"

const bootstrapToken = "bootstrap-admin-token-0123456789"

describe("registered models and aliases over HTTP", () => {
  let test: Awaited<ReturnType<typeof makeTestApp>>
  const tokens = {} as Record<Access.Role, string>
  const as = (role: Access.Role, init: RequestInit = {}): RequestInit => ({
    ...init,
    headers: { ...(init.headers as Record<string, string> | undefined), authorization: `Bearer ${tokens[role]}` }
  })
  const request = (path: string, role: Access.Role, init: RequestInit = {}) => test.app.request(path, as(role, init))
  const put = (body: unknown) => json(body, { method: "PUT" })
  const problem = async (response: Response) => {
    const body = (await response.json()) as { title?: string; detail?: string; permission?: string }
    return { ...body, text: `${body.title ?? ""} ${body.detail ?? ""}` }
  }
  const register = async (name: string, version: string) => {
    const response = await request("/v1/models", "editor", json(metadata({ name, version })))
    expect(response.status, await response.clone().text()).toBe(201)
    return (await response.json()) as { id: string; version: string }
  }

  beforeAll(async () => {
    test = await makeTestApp({ ML_API_TOKEN: bootstrapToken })
    for (const role of ["viewer", "editor", "admin"] as const) {
      const response = await test.app.request(
        "/v1/keys",
        json({ name: `${role}-key`, role }, { headers: { authorization: `Bearer ${bootstrapToken}` } })
      )
      tokens[role] = ((await response.json()) as { token: string; key: KeyStore.ApiKey }).token
    }
    tokens.ingest = tokens.viewer
  })
  afterAll(() => test.close())

  it("creates the registered model with its first version and lists and shows it", async () => {
    const v1 = await register("scoring", "1")
    const detail = await request("/v1/registered-models/scoring", "viewer")
    expect(detail.status).toBe(200)
    expect(await detail.json()).toMatchObject({
      name: "scoring",
      owner: "editor-key",
      aliases: {},
      latestVersions: [{ id: v1.id, status: "draft" }],
      resolvedAliases: []
    })
    const listed = await request("/v1/registered-models?namePrefix=scor&limit=10", "viewer")
    expect(((await listed.json()) as { items: Array<{ name: string }> }).items.map((r) => r.name)).toEqual([
      "scoring"
    ])
    const missing = await request("/v1/registered-models/nothing-here", "viewer")
    expect(missing.status).toBe(404)
    expect((await problem(missing)).text).toContain("nothing-here")
  })

  it("creates and patches a registered model explicitly; a second create is 409", async () => {
    const created = await request(
      "/v1/registered-models",
      "editor",
      json({ name: "explicit", description: "d", tags: { team: "risk" } })
    )
    expect(created.status).toBe(201)
    expect(created.headers.get("location")).toBe("/v1/registered-models/explicit")
    expect(await created.json()).toMatchObject({ owner: "editor-key", tags: { team: "risk" }, revision: 1 })
    expect((await request("/v1/registered-models", "editor", json({ name: "explicit" }))).status).toBe(409)
    const patched = await request(
      "/v1/registered-models/explicit",
      "editor",
      json({ owner: "carol", tags: { team: "fraud" } }, { method: "PATCH" })
    )
    expect(await patched.json()).toMatchObject({ owner: "carol", tags: { team: "fraud" }, revision: 2 })
  })

  it("moves aliases with an audited trail, resolves them now and at a past time, and deletes them", async () => {
    const v1 = await register("ranker", "1")
    const v2 = await register("ranker", "2")
    const toV1 = await request("/v1/registered-models/ranker/aliases/champion", "editor", put({ version: "1" }))
    expect(toV1.status, await toV1.clone().text()).toBe(200)
    expect(((await toV1.json()) as { id: string }).id).toBe(v1.id)
    await new Promise((resolve) => setTimeout(resolve, 5))
    const between = new Date().toISOString()
    await new Promise((resolve) => setTimeout(resolve, 5))
    const toV2 = await request("/v1/registered-models/ranker/aliases/champion", "editor", put({ modelId: v2.id }))
    expect(toV2.status).toBe(200)
    const now = await request("/v1/registered-models/ranker/aliases/champion", "viewer")
    expect(((await now.json()) as { id: string }).id).toBe(v2.id)
    const then = await request(
      `/v1/registered-models/ranker/aliases/champion?at=${encodeURIComponent(between)}`,
      "viewer"
    )
    expect(((await then.json()) as { id: string }).id).toBe(v1.id)
    const deleted = await request("/v1/registered-models/ranker/aliases/champion", "editor", { method: "DELETE" })
    expect(deleted.status).toBe(204)
    const gone = await request("/v1/registered-models/ranker/aliases/champion", "viewer")
    expect(gone.status).toBe(404)
    expect((await problem(gone)).text).toContain("champion")
    const history = await request("/v1/registered-models/ranker/history", "viewer")
    const events = (await history.json()) as Array<{ action: string; alias?: string; actor: string; modelId: string }>
    expect(events.filter((e) => e.alias !== undefined).map((e) => [e.action, e.modelId, e.actor])).toEqual([
      ["alias_set", v1.id, "editor-key"],
      ["alias_set", v2.id, "editor-key"],
      ["alias_deleted", v2.id, "editor-key"]
    ])
  })

  it("resolves production as the built-in alias and refuses to set or delete it, naming it", async () => {
    await register("builtin", "1")
    for (const init of [put({ version: "1" }), { method: "DELETE" }]) {
      const refused = await request("/v1/registered-models/builtin/aliases/production", "admin", init)
      expect(refused.status).toBe(409)
      const { text } = await problem(refused)
      expect(text).toContain("production")
      expect(text).toContain("promotions")
    }
    const none = await request("/v1/registered-models/builtin/aliases/production", "viewer")
    expect(none.status).toBe(404)
  })

  it("lets only admins protect aliases and move protected ones (403 naming the permission)", async () => {
    await register("guarded", "1")
    const editorProtects = await request(
      "/v1/registered-models/guarded",
      "editor",
      json({ protectedAliases: ["champion"] }, { method: "PATCH" })
    )
    expect(editorProtects.status).toBe(403)
    expect((await problem(editorProtects)).permission).toBe("models:protected-aliases")
    const adminProtects = await request(
      "/v1/registered-models/guarded",
      "admin",
      json({ protectedAliases: ["champion"] }, { method: "PATCH" })
    )
    expect(adminProtects.status).toBe(200)
    const editorMoves = await request("/v1/registered-models/guarded/aliases/champion", "editor", put({ version: "1" }))
    expect(editorMoves.status).toBe(403)
    expect((await problem(editorMoves)).text).toContain("champion")
    const adminMoves = await request("/v1/registered-models/guarded/aliases/champion", "admin", put({ version: "1" }))
    expect(adminMoves.status).toBe(200)
    const editorDeletes = await request("/v1/registered-models/guarded/aliases/champion", "editor", {
      method: "DELETE"
    })
    expect(editorDeletes.status).toBe(403)
    // An unprotected alias of the same model stays an editor's to move.
    const other = await request("/v1/registered-models/guarded/aliases/challenger", "editor", put({ version: "1" }))
    expect(other.status).toBe(200)
    const viewerMoves = await request(
      "/v1/registered-models/guarded/aliases/challenger",
      "viewer",
      put({ version: "1" })
    )
    expect(viewerMoves.status).toBe(403)
  })

  it("archives every version for an admin only", async () => {
    await register("retiring", "1")
    await register("retiring", "2")
    expect((await request("/v1/registered-models/retiring/archive", "editor", json({}))).status).toBe(403)
    const archived = await request("/v1/registered-models/retiring/archive", "admin", json({ reason: "replaced" }))
    expect(archived.status).toBe(200)
    expect(await archived.json()).toMatchObject({ latestVersions: [{ status: "archived", version: "2" }] })
    const versions = await request("/v1/models?name=retiring", "viewer")
    const items = ((await versions.json()) as { items: Array<{ status: string }> }).items
    expect(items.map((m) => m.status)).toEqual(["archived", "archived"])
  })

  it("answers 400 naming the field and the rule for bad names, aliases and targets", async () => {
    await register("strict", "1")
    const cases: Array<[string, RequestInit, RegExp]> = [
      ["/v1/registered-models/strict/aliases/bad%20alias", put({ version: "1" }), /alias.*letters, digits/],
      [`/v1/registered-models/strict/aliases/${"a".repeat(65)}`, put({ version: "1" }), /alias.*at most 64/],
      ["/v1/registered-models/strict/aliases/-dash", put({ version: "1" }), /alias.*must start with a letter/],
      ["/v1/registered-models/bad%20name/aliases/ok", put({ version: "1" }), /name.*letters, digits/],
      ["/v1/registered-models/strict/aliases/ok", put({}), /version.*modelId/],
      [
        "/v1/registered-models/strict/aliases/ok",
        put({ version: "1", modelId: "01J9Z8K2W4X6Y8A0B2C4D6E8FG" }),
        /version/
      ],
      ["/v1/registered-models/strict/aliases/ok", put({ modelId: "not-an-id" }), /modelId/],
      ["/v1/registered-models/strict/aliases/ok", put({ version: 1 }), /version/],
      ["/v1/registered-models", json({ name: "has/slash" }), /name/],
      ["/v1/registered-models", json({ name: "x", protectedAliases: ["no spaces"] }), /protectedAliases/],
      [
        "/v1/registered-models",
        json({ name: "x", tags: Object.fromEntries(Array.from({ length: 65 }, (_, i) => [`k${i}`, "v"])) }),
        /tags.*at most 64/
      ],
      ["/v1/registered-models?limit=0", { method: "GET" }, /limit/]
    ]
    for (const [path, init, pattern] of cases) {
      const response = await request(path, "admin", init)
      expect(response.status, `${init.method} ${path}`).toBe(400)
      expect((await problem(response)).text, `${init.method} ${path}`).toMatch(pattern)
    }
    const foreign = await register("elsewhere", "1")
    const wrongName = await request("/v1/registered-models/strict/aliases/ok", "admin", put({ modelId: foreign.id }))
    expect(wrongName.status).toBe(400)
    expect((await problem(wrongName)).text).toContain("strict")
    const noVersion = await request("/v1/registered-models/strict/aliases/ok", "admin", put({ version: "9" }))
    expect(noVersion.status).toBe(404)
  })
})
