// Principals, roles and API keys: the bootstrap token's rules, key management over HTTP, and a
// route x role matrix generated from the endpoint tables.
import { connectOrFail, deleteKeysWithPrefix, redisUrl, uniquePrefix } from "@org/ml-adapter-redis/testing"
import { type Endpoint, endpoints, hasPermission } from "@org/ml-api"
import { Access, type KeyStore } from "@org/ml-core"
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
