/**
 * The audit trail names who really acted (issue 12, "Audit bound to identity"): the authenticated
 * principal, never a name the request carries. A body `actor`/`createdBy` or an x-actor header is
 * kept only as a separate `onBehalfOf` annotation, length-checked and free of control and bidi
 * characters, so nobody with a token can write `ceo@corp`, a forged log line or a right-to-left
 * override into the history. Also the length and character limits of free-text fields.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { json, makeTestApp, metadata } from "./helpers.js"

const utf8AsLatin1 = (text: string) => Buffer.from(text, "utf8").toString("latin1")
let registered = 0

const bootstrapToken = "audit-identity-bootstrap-token"

interface Problem {
  readonly status: number
  readonly detail: string
  readonly errors?: ReadonlyArray<{ readonly path: string; readonly message: string }>
}
interface AuditEvent {
  readonly action: string
  readonly actor: string
  readonly onBehalfOf?: string
}

describe("audit bound to identity", () => {
  let t: Awaited<ReturnType<typeof makeTestApp>>
  let open: Awaited<ReturnType<typeof makeTestApp>>
  // The principal is what the auth middleware resolves from the bearer token: an API key named ci-deployer.
  let keyToken = ""
  beforeAll(async () => {
    t = await makeTestApp({ ML_API_TOKEN: bootstrapToken })
    open = await makeTestApp()
    const created = await t.app.request(
      "/v1/keys",
      json({ name: "ci-deployer", role: "admin" }, { headers: { authorization: `Bearer ${bootstrapToken}` } })
    )
    expect(created.status).toBe(201)
    keyToken = ((await created.json()) as { token: string }).token
  })
  afterAll(async () => {
    await t.close()
    await open.close()
  })
  const request = (url: string, init: RequestInit = {}) =>
    t.app.request(url, {
      ...init,
      headers: { ...(init.headers as Record<string, string> | undefined), authorization: `Bearer ${keyToken}` }
    })

  const register = async (version: string, extra: Record<string, unknown> = {}, headers = {}) => {
    const created = await request("/v1/models", json(metadata({ name: "audited", version, ...extra }), { headers }))
    expect(created.status).toBe(201)
    return (await created.json()) as { id: string; createdBy: string; onBehalfOf?: string }
  }
  const history = async (id: string) => (await (await request(`/v1/models/${id}/history`)).json()) as Array<AuditEvent>

  it("records the principal as createdBy and actor; body and header names only as onBehalfOf", async () => {
    const model = await register("1.0.0", { createdBy: "ceo@corp" }, { "x-actor": "someone-else" })
    expect(model.createdBy).toBe("ci-deployer")
    expect(model.onBehalfOf).toBe("ceo@corp")

    await request(`/v1/models/${model.id}/artifact`, {
      method: "PUT",
      body: "weights",
      headers: { "x-actor": "mallory" }
    })
    const promoted = await request(
      `/v1/models/${model.id}/promote`,
      json({ status: "testing", actor: "security-team" }, { headers: { "x-actor": "mallory" } })
    )
    expect(promoted.status).toBe(200)
    const updated = await request(
      `/v1/models/${model.id}`,
      json({ description: "retrained", actor: "ceo@corp" }, { method: "PATCH" })
    )
    expect(updated.status).toBe(200)

    const events = await history(model.id)
    expect(events.map((e) => [e.action, e.actor, e.onBehalfOf])).toEqual([
      ["registered", "ci-deployer", "ceo@corp"],
      ["artifact_uploaded", "ci-deployer", "mallory"],
      ["promoted", "ci-deployer", "security-team"],
      ["updated", "ci-deployer", "ceo@corp"]
    ])
  })

  it("names the anonymous principal when auth is off, whatever the request claims", async () => {
    const created = await open.app.request(
      "/v1/models",
      json(metadata({ name: "audited", version: "anon" }), { headers: { "x-actor": "ceo@corp" } })
    )
    const model = (await created.json()) as { id: string; createdBy: string; onBehalfOf?: string }
    expect([model.createdBy, model.onBehalfOf]).toEqual(["anonymous", "ceo@corp"])
  })

  it("refuses a 16 KB x-actor with a 400 naming the header and the limit, storing nothing", async () => {
    const before = await t.snapshot()
    const response = await request(
      "/v1/models",
      json(metadata({ name: "audited", version: "huge" }), { headers: { "x-actor": "a".repeat(16 * 1024) } })
    )
    expect(response.status).toBe(400)
    const problem = (await response.json()) as Problem
    expect(problem.errors?.map((e) => e.path)).toEqual(["x-actor"])
    expect(problem.detail).toContain("256")
    expect(await t.snapshot()).toEqual(before)
  })

  it.each([
    ["a newline in the body actor", { actor: "bob\n2026-01-01 promoted: ceo" }, {}, "actor"],
    ["a right-to-left override in the body actor", { actor: "evil\u202Egnp.exe" }, {}, "actor"],
    ["a DEL in onBehalfOf", { onBehalfOf: "bob\u007F" }, {}, "onBehalfOf"],
    ["a 257-character actor", { actor: "a".repeat(257) }, {}, "actor"],
    // Header values travel as bytes: a UTF-8 right-to-left override arrives as Latin-1 characters, C1 among them.
    ["a right-to-left override in x-actor", {}, { "x-actor": utf8AsLatin1("evil\u202Eroc@oec") }, "x-actor"],
    ["a C1 control in x-actor", {}, { "x-actor": "bob\u0085" }, "x-actor"]
  ])("refuses %s with a 400 naming the field", async (_label, body, headers, field) => {
    const model = await register(`refusal-${++registered}`)
    const before = await history(model.id)
    const response = await request(
      `/v1/models/${model.id}/promote`,
      json({ status: "testing", ...body }, { headers })
    )
    expect(response.status).toBe(400)
    const problem = (await response.json()) as Problem
    expect(problem.errors?.map((e) => e.path)).toEqual([field])
    expect(await history(model.id)).toEqual(before)
  })

  it("records the principal in an experiment's traffic history, the body actor as onBehalfOf", async () => {
    const control = await register("exp-control")
    const treatment = await register("exp-treatment")
    const created = await request(
      "/v1/experiments",
      json({
        name: "audited split",
        targetMetric: "revenue",
        variants: [{ modelId: control.id, isControl: true, trafficPct: 50 }, {
          modelId: treatment.id,
          isControl: false,
          trafficPct: 50
        }]
      }, { headers: { "x-actor": "ceo@corp" } })
    )
    expect(created.status).toBe(201)
    const { id } = (await created.json()) as { id: string }
    const changed = await request(
      `/v1/experiments/${id}`,
      json({ trafficPct: [80, 20], actor: "security-team" }, { method: "PATCH" })
    )
    expect(changed.status).toBe(200)
    const experiment = (await changed.json()) as { trafficHistory: Array<{ actor: string; onBehalfOf?: string }> }
    expect(experiment.trafficHistory.map((h) => [h.actor, h.onBehalfOf])).toEqual([
      ["ci-deployer", "ceo@corp"],
      ["ci-deployer", "security-team"]
    ])
  })
})

describe("free-text limits", () => {
  let t: Awaited<ReturnType<typeof makeTestApp>>
  beforeAll(async () => {
    t = await makeTestApp()
  })
  afterAll(() => t.close())

  it.each([
    ["algorithm", { algorithm: "a".repeat(129) }, "algorithm", "128"],
    ["framework", { framework: "bad\u202Eframework" }, "framework", "control"],
    ["a tag's length", { tags: ["t".repeat(129)] }, "tags.0", "128"],
    ["a tag's newline", { tags: ["ok", "line\nbreak"] }, "tags.1", "control"],
    ["the tag count", { tags: Array.from({ length: 65 }, (_, i) => `t${i}`) }, "tags", "64"],
    ["the description", { description: "d".repeat(4097) }, "description", "4096"],
    ["a bidi control in the description", { description: "x\u2066y" }, "description", "bidirectional"],
    ["a metric name", { metrics: { "auc\r": 1 } }, "metrics", "control"],
    ["the name", { name: "fraud\ndetector" }, "name", "letter"]
  ])("refuses an over-long or control-character %s with a 400 naming it", async (_label, field, path, limit) => {
    const before = await t.snapshot()
    const response = await t.app.request("/v1/models", json(metadata({ version: "limits", ...field })))
    expect(response.status).toBe(400)
    const problem = (await response.json()) as Problem
    expect(problem.errors?.map((e) => e.path).join(" ")).toContain(path)
    expect(JSON.stringify(problem)).toContain(limit)
    expect(await t.snapshot()).toEqual(before)
  })

  it("keeps newlines and tabs in a description", async () => {
    const response = await t.app.request(
      "/v1/models",
      json(metadata({ version: "prose", description: "line one\n\tline two" }))
    )
    expect(response.status).toBe(201)
  })
})
