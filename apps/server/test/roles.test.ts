// Principals, roles and API keys: the bootstrap token's rules, key management over HTTP, and a
// route x role matrix generated from the endpoint tables.
import { connectOrFail, deleteKeysWithPrefix, redisUrl, uniquePrefix } from "@org/ml-adapter-redis/testing"
import { type Endpoint, endpoints, hasPermission, permissions, rolePermissions } from "@org/ml-api"
import { Access, type KeyStore, type LearnerConfig, makeLearner } from "@org/ml-core"
import { readFileSync } from "node:fs"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { hashToken, makeAuthenticator } from "../src/Auth.js"
import { ConfigError, loadConfig } from "../src/Config.js"
import { json, makeTestApp, metadata } from "./helpers.js"

const bootstrapToken = "bootstrap-admin-token-0123456789"

describe("ML_API_TOKEN", () => {
  it("refuses an empty or short bootstrap token, naming the variable", () => {
    for (const token of ["", "short", "fifteen-chars!!"]) {
      expect(() => loadConfig({ ML_API_TOKEN: token })).toThrow(ConfigError)
      expect(() => loadConfig({ ML_API_TOKEN: token })).toThrow(/ML_API_TOKEN.*16 characters/)
    }
    expect(loadConfig({ ML_API_TOKEN: bootstrapToken }).apiToken).toBeDefined()
    expect(loadConfig({}).apiToken).toBeUndefined()
  })
})

describe("README's role matrix", () => {
  it("states every permission, which roles hold it and which routes declare it, as the endpoint table does", () => {
    const readme = readFileSync(new URL("../../../README.md", import.meta.url), "utf8")
    const rows = new Map<string, { roles: Array<string>; routes: Array<string> }>()
    for (const line of readme.split("\n")) {
      const cells = /^\| `([a-z:-]+)` \|(.*)\|$/.exec(line)
      if (cells === null || !(permissions as ReadonlyArray<string>).includes(cells[1]!)) continue
      const columns = cells[2]!.split("|").map((c) => c.trim())
      rows.set(cells[1]!, {
        roles: Access.roles.filter((_, i) => columns[i] === "yes"),
        routes: [...columns[4]!.matchAll(/`([A-Z]+ \/[^`]*)`/g)].map((m) => m[1]!).sort()
      })
    }
    for (const permission of permissions.filter((p) => p !== "public")) {
      const row = rows.get(permission)
      expect(row, permission).toBeDefined()
      expect(row!.roles, permission).toEqual(Access.roles.filter((role) => hasPermission(role, permission)))
      const declared = endpoints.filter((e) => e.permission === permission).map((e) => `${e.method} ${e.path}`).sort()
      expect(row!.routes, permission).toEqual(declared)
    }
  })
})

const bearer = (token: string) => ({ authorization: `Bearer ${token}` })

/** A request for `endpoint` with placeholder path parameters and an empty JSON body where one is expected. */
const requestFor = (endpoint: Endpoint, headers: Record<string, string>): [string, RequestInit] => {
  const path = endpoint.path.replace(/\{[^}]+\}/g, "placeholder")
  const init: RequestInit = { method: endpoint.method, headers: { ...headers } }
  if (endpoint.body) return [path, json({}, init)]
  return [path, init]
}

const createKey = async (app: Awaited<ReturnType<typeof makeTestApp>>["app"], token: string, body: object) => {
  const response = await app.request("/v1/keys", json(body, { headers: bearer(token) }))
  expect(response.status, await response.clone().text()).toBe(201)
  return (await response.json()) as { key: KeyStore.ApiKey; token: string }
}

describe("roles and keys", () => {
  let test: Awaited<ReturnType<typeof makeTestApp>>
  const tokens = {} as Record<Access.Role, string>

  beforeAll(async () => {
    test = await makeTestApp({ ML_API_TOKEN: bootstrapToken })
    for (const role of Access.roles) {
      tokens[role] = (await createKey(test.app, bootstrapToken, { name: role, role })).token
    }
  })
  afterAll(() => test.close())

  it("answers every route as the role matrix declares", async () => {
    const guarded = endpoints.filter((e) => e.permission !== "public")
    expect(guarded.length).toBeGreaterThan(40)
    for (const endpoint of guarded) {
      const label = `${endpoint.method} ${endpoint.path}`
      const anonymous = await test.app.request(...requestFor(endpoint, {}))
      expect(anonymous.status, `${label} without a token`).toBe(401)
      const wrong = await test.app.request(...requestFor(endpoint, bearer("mlk_not-a-real-token")))
      expect(wrong.status, `${label} with a wrong token`).toBe(401)
      for (const role of Access.roles) {
        const response = await test.app.request(...requestFor(endpoint, bearer(tokens[role])))
        if (hasPermission(role, endpoint.permission)) {
          expect([401, 403], `${label} as ${role}`).not.toContain(response.status)
        } else {
          expect(response.status, `${label} as ${role}`).toBe(403)
          const problem = await response.json() as { permission: string; detail: string }
          expect(problem.permission).toBe(endpoint.permission)
          expect(problem.detail).toContain(endpoint.permission)
        }
      }
    }
  })

  it("keeps public routes open and /metrics behind the metrics permission", async () => {
    expect((await test.app.request("/healthz")).status).toBe(200)
    expect((await test.app.request("/metrics")).status).toBe(401)
    expect((await test.app.request("/metrics", { headers: bearer(tokens.viewer) })).status).toBe(200)
  })

  it("lets editors promote up to staging only", async () => {
    const registered = await test.app.request(
      "/v1/models",
      json(metadata({ name: "promo" }), { headers: bearer(tokens.editor) })
    )
    const { id } = await registered.json() as { id: string }
    const toTesting = await test.app.request(
      `/v1/models/${id}/promote`,
      json({ status: "testing" }, { headers: bearer(tokens.editor) })
    )
    // Without an artifact the registry refuses the transition (409): the role was not the obstacle.
    expect([401, 403]).not.toContain(toTesting.status)
    for (const status of ["production", "archived"]) {
      const response = await test.app.request(
        `/v1/models/${id}/promote`,
        json({ status }, { headers: bearer(tokens.editor) })
      )
      expect(response.status).toBe(403)
      expect(await response.json()).toMatchObject({ permission: "models:promote-production" })
    }
  })

  it("confines a key with modelNames to the models its globs match", async () => {
    const confined =
      (await createKey(test.app, bootstrapToken, { name: "fraud-team", role: "editor", modelNames: ["fraud-*"] })).token
    const other = await test.app.request(
      "/v1/models",
      json(metadata({ name: "churn" }), { headers: bearer(bootstrapToken) })
    )
    const { id: churnId } = await other.json() as { id: string }
    const mine = await test.app.request(
      "/v1/models",
      json(metadata({ name: "fraud-a" }), { headers: bearer(confined) })
    )
    expect(mine.status).toBe(201)
    const { id: fraudId } = await mine.json() as { id: string }
    const as = { headers: bearer(confined) }
    expect((await test.app.request("/v1/models", json(metadata({ name: "churn", version: "2" }), as))).status).toBe(403)
    expect((await test.app.request(`/v1/models/${churnId}`, as)).status).toBe(403)
    expect((await test.app.request(`/v1/models/${churnId}/history`, as)).status).toBe(403)
    expect((await test.app.request("/v1/registry/churn/production", as)).status).toBe(403)
    expect((await test.app.request("/v1/models", as)).status).toBe(403)
    expect((await test.app.request(`/v1/models/${fraudId}`, as)).status).toBe(200)
    expect((await test.app.request("/v1/models?name=fraud-a", as)).status).toBe(200)
  })

  it("shows the secret once, lists keys without it, and revokes at once", async () => {
    const { key, token } = await createKey(test.app, bootstrapToken, { name: "rotating", role: "viewer" })
    expect(token).toMatch(/^mlk_[A-Za-z0-9_-]{43}$/)
    const listed = await (await test.app.request("/v1/keys", { headers: bearer(bootstrapToken) })).text()
    expect(listed).not.toContain(token)
    expect(listed).not.toContain(hashToken(token))
    expect(JSON.parse(listed).items).toContainEqual({ ...key, createdBy: "bootstrap" })
    expect((await test.app.request("/v1/models", { headers: bearer(token) })).status).toBe(200)
    const revoked = await test.app.request(`/v1/keys/${key.id}`, { method: "DELETE", headers: bearer(tokens.admin) })
    expect(revoked.status).toBe(204)
    expect((await test.app.request("/v1/models", { headers: bearer(token) })).status).toBe(401)
    const after = await (await test.app.request("/v1/keys", { headers: bearer(bootstrapToken) })).json() as {
      items: Array<KeyStore.ApiKey>
    }
    expect(after.items.find((k) => k.id === key.id)).toMatchObject({ revokedBy: "admin" })
    expect((await test.app.request(`/v1/keys/${key.id}`, { method: "DELETE", headers: bearer(tokens.admin) })).status)
      .toBe(404)
  })

  it("audits key creation and revocation: who, when, which key, never its secret", async () => {
    const { key, token } = await createKey(test.app, tokens.admin, { name: "audited", role: "ingest" })
    const revoked = await test.app.request(`/v1/keys/${key.id}`, { method: "DELETE", headers: bearer(bootstrapToken) })
    expect(revoked.status).toBe(204)
    const answer = await test.app.request("/v1/keys/events", { headers: bearer(tokens.admin) })
    expect(answer.status).toBe(200)
    const text = await answer.text()
    expect(text).not.toContain(token)
    expect(text).not.toContain(hashToken(token))
    const events = (JSON.parse(text) as { items: Array<KeyStore.KeyEvent> }).items.filter((e) => e.keyId === key.id)
    expect(events).toEqual([
      { at: key.createdAt, action: "created", actor: "admin", keyId: key.id, keyName: "audited", role: "ingest" },
      {
        at: expect.any(String),
        action: "revoked",
        actor: "bootstrap",
        keyId: key.id,
        keyName: "audited",
        role: "ingest"
      }
    ])
    expect(Date.parse(events[1]!.at)).toBeGreaterThanOrEqual(Date.parse(key.createdAt))
    expect((await test.app.request("/v1/keys/events", { headers: bearer(tokens.editor) })).status).toBe(403)
  })

  it("answers whoami for every role: the principal and its permissions", async () => {
    for (const role of Access.roles) {
      const response = await test.app.request("/v1/whoami", { headers: bearer(tokens[role]) })
      expect(response.status).toBe(200)
      const me = await response.json() as { name: string; role: string; permissions: Array<string> }
      expect(me).toMatchObject({ name: role, role })
      expect(me.permissions.sort()).toEqual([...rolePermissions[role]].filter((p) => p !== "public").sort())
    }
    const { key, token } = await createKey(test.app, bootstrapToken, {
      name: "whoami-confined",
      role: "viewer",
      modelNames: ["fraud-*"]
    })
    expect(await (await test.app.request("/v1/whoami", { headers: bearer(token) })).json()).toMatchObject({
      id: key.id,
      name: "whoami-confined",
      role: "viewer",
      modelNames: ["fraud-*"]
    })
    expect(await (await test.app.request("/v1/whoami", { headers: bearer(bootstrapToken) })).json()).toMatchObject({
      id: "bootstrap",
      role: "admin"
    })
    expect((await test.app.request("/v1/whoami")).status).toBe(401)
  })

  it("refuses bad key input with a 400 naming the field", async () => {
    for (
      const [body, field] of [
        [{ name: "x", role: "root" }, "role"],
        [{ name: "bad name\n", role: "viewer" }, "name"],
        [{ name: "x", role: "viewer", modelNames: ["a/b"] }, "modelNames"],
        [{ name: "x", role: "viewer", expiresAt: "2001-01-01T00:00:00Z" }, "expiresAt"]
      ] as const
    ) {
      const response = await test.app.request("/v1/keys", json(body, { headers: bearer(bootstrapToken) }))
      expect(response.status, JSON.stringify(body)).toBe(400)
      expect(await response.text()).toContain(field)
    }
  })
})

describe("keys confined by modelNames", () => {
  // Resources of two teams, made by the bootstrap admin; the confined keys hold only fraud-*.
  let test: Awaited<ReturnType<typeof makeTestApp>>
  let confinedAdmin: string
  let confinedEditor: string
  const churn = {} as Record<
    "model" | "modelB" | "experiment" | "mixed" | "pipeline" | "monitor" | "report" | "hook",
    string
  >
  const fraud = {} as Record<"model" | "modelB" | "experiment" | "pipeline" | "monitor" | "report" | "hook", string>
  let globalHook: string

  const learner: LearnerConfig = {
    kind: "logistic",
    optimizer: { type: "sgd", learningRate: 0.1 },
    features: { type: "schema", names: ["a", "b"] }
  }
  const asAdmin = bearer(bootstrapToken)
  const create = async (path: string, body: object, headers = asAdmin) => {
    const response = await test.app.request(path, json(body, { headers }))
    expect(response.status, `${path}: ${await response.clone().text()}`).toBe(201)
    return (await response.json()) as { id: string }
  }
  const register = async (name: string) => {
    const { id } = await create("/v1/models", metadata({ name }))
    const uploaded = await test.app.request(`/v1/models/${id}/artifact`, {
      method: "PUT",
      body: JSON.stringify(makeLearner(learner).state()),
      headers: { ...asAdmin, "content-type": "application/octet-stream" }
    })
    expect(uploaded.status).toBe(200)
    return id
  }
  const experiment = (control: string, treatment: string) => ({
    name: "exp",
    targetMetric: "conversion",
    variants: [{ modelId: control, isControl: true, trafficPct: 50 }, {
      modelId: treatment,
      isControl: false,
      trafficPct: 50
    }]
  })
  const monitor = (modelId: string | undefined) => ({
    ...(modelId === undefined ? {} : { modelId }),
    features: [{ name: "amount", kind: "feature", type: "numeric" }]
  })
  const hook = (monitorId: string | undefined) => ({
    url: "http://127.0.0.1:9/hook",
    secret: "a-secret-of-sixteen-or-more",
    ...(monitorId === undefined ? {} : { monitorId })
  })

  beforeAll(async () => {
    test = await makeTestApp({ ML_API_TOKEN: bootstrapToken, ML_WEBHOOK_ALLOW_PRIVATE: "true" })
    confinedAdmin =
      (await createKey(test.app, bootstrapToken, { name: "fraud-admin", role: "admin", modelNames: ["fraud-*"] })).token
    confinedEditor =
      (await createKey(test.app, bootstrapToken, { name: "fraud-editor", role: "editor", modelNames: ["fraud-*"] }))
        .token
    for (const [team, prefix] of [[churn, "churn"], [fraud, "fraud"]] as const) {
      team.model = await register(`${prefix}-a`)
      team.modelB = await register(`${prefix}-b`)
      team.experiment = (await create("/v1/experiments", experiment(team.model, team.modelB))).id
      team.pipeline = (await create("/v1/pipelines", { name: prefix, modelId: team.model })).id
      team.monitor = (await create("/v1/drift/monitors", monitor(team.model))).id
      const checked = await test.app.request(`/v1/drift/monitors/${team.monitor}/check`, {
        method: "POST",
        headers: asAdmin
      })
      team.report = ((await checked.json()) as { id: string }).id
      team.hook = (await create("/v1/drift/webhooks", hook(team.monitor))).id
    }
    churn.mixed = (await create("/v1/experiments", experiment(fraud.model, churn.model))).id
    globalHook = (await create("/v1/drift/webhooks", hook(undefined))).id
  })
  afterAll(() => test.close())

  /** The path of `endpoint` addressing the churn team's resource of its kind. */
  const churnPath = (endpoint: Endpoint) => {
    const id = endpoint.path.startsWith("/v1/models/")
      ? churn.model
      : endpoint.path.startsWith("/v1/experiments/")
      ? churn.experiment
      : endpoint.path.startsWith("/v1/pipelines/")
      ? churn.pipeline
      : endpoint.path.startsWith("/v1/drift/monitors/")
      ? churn.monitor
      : endpoint.path.startsWith("/v1/drift/webhooks/")
      ? churn.hook
      : endpoint.path.startsWith("/v1/drift/reports/")
      ? churn.report
      : "placeholder"
    // What served a user names its experiment in the query.
    if (endpoint.operationId === "getServed") {
      return `${endpoint.path}?${new URLSearchParams({
        userId: "u",
        at: new Date().toISOString(),
        experimentId: churn.experiment!
      })}`
    }
    return endpoint.path.replace("{name}", "churn-a").replace(/\{[^}]+\}/g, id)
  }
  /** Bodies creating churn resources; other routes send their endpoint's example (valid, so decoding passes). */
  const churnBodies = (): Record<string, unknown> => ({
    registerModel: metadata({ name: "churn-c" }),
    createRegisteredModel: { name: "churn-c" },
    createExperiment: experiment(churn.model, churn.modelB),
    createPipeline: { name: "p", modelId: churn.model },
    createMonitor: monitor(churn.model),
    createWebhook: hook(churn.monitor)
  })
  /** Lists answer 200 with only the key's own; everything else about churn is 403. */
  const filteredLists = new Set([
    "searchModels",
    "listExperiments",
    "listPipelines",
    "listMonitors",
    "listWebhooks",
    "getDriftReports"
  ])
  const unconfinedRoutes = new Set(["whoami"])

  it("refuses every route touching another model's resources, for a confined admin, and filters lists", async () => {
    const routes = endpoints.filter((e) => e.permission !== "public" && e.resource !== "Operations")
    for (const endpoint of routes) {
      const label = `${endpoint.method} ${endpoint.path}`
      const init: RequestInit = { method: endpoint.method, headers: bearer(confinedAdmin) }
      const body = churnBodies()[endpoint.operationId] ?? endpoint.body?.example
      const response = await test.app.request(churnPath(endpoint), endpoint.body ? json(body, init) : init)
      const text = await response.text()
      if (filteredLists.has(endpoint.operationId)) {
        expect(response.status, `${label}: ${text}`).toBe(200)
        for (const id of [...Object.values(churn), globalHook]) expect(text, label).not.toContain(`"${id}"`)
      } else if (unconfinedRoutes.has(endpoint.operationId)) {
        expect(response.status, label).toBe(200)
      } else {
        expect(response.status, `${label}: ${text}`).toBe(403)
        expect(JSON.parse(text), label).toMatchObject({ permission: "models:name" })
      }
    }
  })

  it("lets a confined key work with its own models' experiments, pipelines, monitors and webhooks", async () => {
    const as = bearer(confinedEditor)
    const get = async (path: string, headers = as) => {
      const response = await test.app.request(path, { headers })
      return { status: response.status, body: await response.json() as { items: Array<{ id: string }> } }
    }
    expect((await get(`/v1/experiments/${fraud.experiment}`)).status).toBe(200)
    expect((await get(`/v1/pipelines/${fraud.pipeline}`)).status).toBe(200)
    expect((await get(`/v1/drift/monitors/${fraud.monitor}`)).status).toBe(200)
    expect((await get(`/v1/drift/reports/${fraud.report}`)).status).toBe(200)
    expect((await test.app.request(`/v1/drift/reports/${fraud.report}.html`, { headers: as })).status).toBe(200)
    expect((await get(`/v1/experiments/${churn.mixed}`)).status).toBe(403)
    expect((await get("/v1/experiments")).body.items.map((e) => e.id)).toEqual([fraud.experiment])
    expect((await get("/v1/pipelines")).body.items.map((p) => p.id)).toEqual([fraud.pipeline])
    expect((await get("/v1/drift/monitors")).body.items.map((m) => m.id)).toEqual([fraud.monitor])
    expect((await get("/v1/drift/webhooks")).body.items.map((h) => h.id)).toEqual([fraud.hook])
    // Unconfined keys still see everything.
    expect((await get("/v1/experiments", asAdmin)).body.items).toHaveLength(3)

    const refused = async (path: string, body: object, headers = as) => {
      const response = await test.app.request(path, json(body, { headers }))
      expect(response.status, `${path} ${JSON.stringify(body)}`).toBe(403)
      expect(await response.json()).toMatchObject({ permission: "models:name" })
    }
    await refused("/v1/experiments", experiment(fraud.model, churn.model))
    await refused("/v1/pipelines", { name: "p", modelId: churn.model })
    await refused("/v1/drift/monitors", monitor(churn.model))
    await refused("/v1/drift/monitors", monitor(undefined))
    // A model id that names no model is outside: the key cannot tie a monitor to a model it cannot name.
    await refused("/v1/drift/monitors", monitor("01J9Z8K2W4X6Y8A0B2C4D6E8FG"))
    await refused("/v1/drift/webhooks", hook(undefined), bearer(confinedAdmin))
    await refused("/v1/drift/webhooks", hook(churn.monitor), bearer(confinedAdmin))
    await refused("/v1/keys", { name: "escalate", role: "admin" }, bearer(confinedAdmin))
    await create("/v1/experiments", experiment(fraud.model, fraud.modelB), as)
    await create("/v1/pipelines", { name: "mine", modelId: fraud.modelB }, as)
    await create("/v1/drift/monitors", monitor(fraud.modelB), as)
    await create("/v1/drift/webhooks", hook(fraud.monitor), bearer(confinedAdmin))
  })
})

describe("authentication", () => {
  it("refuses expired keys", async () => {
    const key: KeyStore.ApiKey = {
      id: "k",
      name: "old",
      role: "viewer",
      expiresAt: "2026-01-01T00:00:00.000Z",
      createdAt: "2025-01-01T00:00:00.000Z",
      createdBy: "bootstrap"
    }
    const at = (iso: string) => makeAuthenticator(bootstrapToken, async () => key, () => new Date(iso))
    expect(await at("2025-12-31T23:59:59.000Z")("Bearer mlk_x")).toMatchObject({ name: "old", role: "viewer" })
    expect(await at("2026-01-01T00:00:00.000Z")("Bearer mlk_x")).toBeUndefined()
    expect(await at("2025-06-01T00:00:00.000Z")(`Bearer ${bootstrapToken}`)).toMatchObject({ role: "admin" })
    expect(await at("2025-06-01T00:00:00.000Z")(`Basic ${bootstrapToken}`)).toBeUndefined()
  })

  it("leaves the server open as anonymous when no token is configured", async () => {
    const open = await makeTestApp()
    try {
      const { key } = await createKey(open.app, "ignored", { name: "first", role: "viewer" })
      expect(key.createdBy).toBe("anonymous")
      expect(await (await open.app.request("/v1/whoami")).json()).toMatchObject({ name: "anonymous", role: "admin" })
      expect((await open.app.request("/metrics")).status).toBe(200)
    } finally {
      await open.close()
    }
  })
})

describe("keys in Redis", () => {
  it("a key revoked on one instance is refused by another at once", async () => {
    const prefix = uniquePrefix("roles")
    const env = { ML_API_TOKEN: bootstrapToken, ML_REDIS_URL: redisUrl, ML_REDIS_PREFIX: prefix }
    const [one, two] = [await makeTestApp(env), await makeTestApp(env)]
    try {
      const { key, token } = await createKey(one.app, bootstrapToken, { name: "shared", role: "viewer" })
      expect((await two.app.request("/v1/models", { headers: bearer(token) })).status).toBe(200)
      const revoked = await one.app.request(`/v1/keys/${key.id}`, { method: "DELETE", headers: bearer(bootstrapToken) })
      expect(revoked.status).toBe(204)
      expect((await two.app.request("/v1/models", { headers: bearer(token) })).status).toBe(401)
    } finally {
      await one.close()
      await two.close()
      const client = await connectOrFail()
      await deleteKeysWithPrefix(client, prefix)
      client.disconnect()
    }
  })
})
