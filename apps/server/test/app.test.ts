import { promtoolRemarks } from "@org/ml-adapter-prometheus/testing"
import { createHash } from "node:crypto"
import * as fs from "node:fs/promises"
import * as path from "node:path"
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest"
import { json, makeTestApp, metadata } from "./helpers.js"

let t: Awaited<ReturnType<typeof makeTestApp>>
beforeAll(async () => {
  t = await makeTestApp({ ML_MAX_UPLOAD_BYTES: String(64 * 1024) })
})
afterAll(() => t.close())

const request = (url: string, init?: RequestInit) => t.app.request(url, init)
const sha256 = (bytes: Uint8Array) => createHash("sha256").update(bytes).digest("hex")
const register = async (overrides: Record<string, unknown> = {}) => {
  const response = await request(
    "/v1/models",
    json(metadata({ version: `v-${Math.random().toString(36).slice(2)}`, ...overrides }))
  )
  expect(response.status).toBe(201)
  return (await response.json()) as { id: string; name: string; version: string; status: string }
}
const upload = (id: string, bytes: Uint8Array<ArrayBuffer>, headers: Record<string, string> = {}) =>
  request(`/v1/models/${id}/artifact`, {
    method: "PUT",
    body: bytes,
    headers: { "content-type": "application/octet-stream", ...headers }
  })
const promote = (id: string, status: string, reason = "test") =>
  request(`/v1/models/${id}/promote`, json({ status, reason }))
const expectProblem = async (response: Response, status: number, code: string) => {
  expect(response.status).toBe(status)
  expect(response.headers.get("content-type")).toBe("application/problem+json")
  const body = (await response.json()) as {
    status: number
    code: string
    type: string
    title: string
    detail: string
    errors?: Array<{ path: string }>
  }
  expect(body).toMatchObject({ status, code })
  expect(body.type).toMatch(/^urn:ml-pipeline:problem:/)
  expect(body.detail.length).toBeGreaterThan(0)
  return body
}

describe("registering models", () => {
  it("creates a draft and points to it", async () => {
    const response = await request(
      "/v1/models",
      json(metadata({ version: "2.0.0" }), { headers: { "x-actor": "alice" } })
    )
    expect(response.status).toBe(201)
    const model = (await response.json()) as { id: string; status: string; createdBy: string; onBehalfOf?: string }
    expect(model.status).toBe("draft")
    // The actor is the authenticated principal (anonymous: auth is off); x-actor is only an annotation.
    expect([model.createdBy, model.onBehalfOf]).toEqual(["anonymous", "alice"])
    expect(response.headers.get("location")).toBe(`/v1/models/${model.id}`)
    const fetched = await request(`/v1/models/${model.id}`)
    expect(await fetched.json()).toEqual(model)
  })

  it("answers a duplicate (name, version) with 409 and keeps the first", async () => {
    const first = await register({ description: "first" })
    const before = await t.snapshot()
    const dup = await request("/v1/models", json(metadata({ version: first.version, description: "second" })))
    const body = await expectProblem(dup, 409, "ModelConflictError")
    expect(body).toMatchObject({ existingId: first.id })
    expect(await t.snapshot()).toEqual(before)
  })

  it.each([
    ["malformed JSON", "{\"name\": ", [""]],
    ["wrong types", { ...metadata(), version: 2, metrics: { auc: "high" } }, ["version", "metrics.auc"]],
    ["a name with ../", metadata({ name: "../../etc/passwd" }), ["name"]],
    ["a missing field", { name: "x", version: "1" }, ["algorithm", "framework"]],
    ["an unknown field", metadata({ staus: "production" }), ["staus"]]
  ])("rejects %s with 400 naming the fields, storing nothing", async (_label, body, paths) => {
    const before = await t.snapshot()
    const problem = await expectProblem(await request("/v1/models", json(body)), 400, "ValidationError")
    expect(problem.errors!.map((e) => e.path)).toEqual(expect.arrayContaining(paths))
    expect(await t.snapshot()).toEqual(before)
  })

  it("rejects a JSON body over ML_MAX_JSON_BYTES with 413", async () => {
    const huge = JSON.stringify(metadata({ description: "x".repeat(1024 * 1024) }))
    await expectProblem(await request("/v1/models", json(huge)), 413, "PayloadTooLarge")
  })

  it("rejects a body that is not JSON with 415", async () => {
    await expectProblem(
      await request("/v1/models", {
        method: "POST",
        body: "name=x",
        headers: { "content-type": "application/x-www-form-urlencoded" }
      }),
      415,
      "UnsupportedMediaType"
    )
  })
})

describe("artifacts", () => {
  const bytes = new Uint8Array(40_000).map((_, i) => (i * 31) % 256)

  it("streams an upload to disk and serves it back with its digest", async () => {
    const model = await register()
    const uploaded = await upload(model.id, bytes, { "x-artifact-sha256": sha256(bytes) })
    expect(uploaded.status).toBe(200)
    expect(((await uploaded.json()) as { artifact: { sha256: string } }).artifact.sha256).toBe(sha256(bytes))
    const download = await request(`/v1/models/${model.id}/artifact`)
    expect(download.status).toBe(200)
    expect(download.headers.get("x-artifact-sha256")).toBe(sha256(bytes))
    expect(download.headers.get("content-length")).toBe(String(bytes.length))
    expect(new Uint8Array(await download.arrayBuffer())).toEqual(bytes)
  })

  it("accepts the expected digest as an RFC 9530 Content-Digest", async () => {
    const model = await register()
    const digest = `sha-256=:${createHash("sha256").update(bytes).digest("base64")}:`
    expect((await upload(model.id, bytes, { "content-digest": digest })).status).toBe(200)
  })

  it("rejects a wrong expected hash with 422 and stores nothing", async () => {
    const model = await register()
    const before = await t.snapshot()
    await expectProblem(await upload(model.id, bytes, { "x-artifact-sha256": "0".repeat(64) }), 422, "IntegrityError")
    expect(await t.snapshot()).toEqual(before)
    expect(((await (await request(`/v1/models/${model.id}`)).json()) as { artifact: unknown }).artifact).toBeNull()
  })

  it("rejects a malformed expected hash with 400 naming the header", async () => {
    const model = await register()
    const problem = await expectProblem(
      await upload(model.id, bytes, { "x-artifact-sha256": "abc" }),
      400,
      "ValidationError"
    )
    expect(problem.errors![0]!.path).toBe("x-artifact-sha256")
  })

  it("rejects an oversized upload with 413, by declared length or while streaming", async () => {
    const model = await register()
    const before = await t.snapshot()
    await expectProblem(await upload(model.id, new Uint8Array(65 * 1024)), 413, "ArtifactTooLargeError")
    const chunks = Array.from({ length: 20 }, () => new Uint8Array(8192))
    const streamed = new ReadableStream<Uint8Array>({
      pull(controller) {
        const next = chunks.pop()
        if (next) controller.enqueue(next)
        else controller.close()
      }
    })
    const response = await request(
      `/v1/models/${model.id}/artifact`,
      { method: "PUT", body: streamed, duplex: "half" } as RequestInit
    )
    await expectProblem(response, 413, "ArtifactTooLargeError")
    expect(await t.snapshot()).toEqual(before)
  })

  it("answers an upload to an unknown id with 404 and stores nothing", async () => {
    const before = await t.snapshot()
    await expectProblem(await upload("01ARZ3NDEKTSV4RRFFQ69G5FAV", bytes), 404, "ModelNotFoundError")
    await expectProblem(await upload("not-an-id", bytes), 400, "ValidationError")
    expect(await t.snapshot()).toEqual(before)
  })

  it("refuses a second upload with 409", async () => {
    const model = await register()
    expect((await upload(model.id, bytes)).status).toBe(200)
    await expectProblem(await upload(model.id, new Uint8Array([1])), 409, "ArtifactStateError")
  })

  it("never serves a corrupted artifact: 422 and a log line", async () => {
    const model = await register()
    await upload(model.id, bytes)
    const file = path.join(t.directory, "artifacts", model.id, sha256(bytes))
    const stored = await fs.readFile(file)
    stored[100] = stored[100]! ^ 1
    await fs.writeFile(file, stored)
    const lines: Array<string> = []
    const spies = (["log", "error", "warn"] as const).map((method) =>
      vi.spyOn(console, method).mockImplementation((...args: Array<unknown>) =>
        void lines.push(args.map(String).join(" "))
      )
    )
    try {
      const problem = await expectProblem(await request(`/v1/models/${model.id}/artifact`), 422, "IntegrityError")
      expect(problem).toMatchObject({ expectedSha256: sha256(bytes) })
    } finally {
      spies.forEach((spy) => spy.mockRestore())
    }
    expect(lines.some((line) => line.includes("Integrity failure") && line.includes(model.id))).toBe(true)
  })
})

describe("lifecycle over HTTP", () => {
  const live = async (name: string, version: string) => {
    const model = await register({ name, version })
    await upload(model.id, new Uint8Array([1, 2, 3]))
    for (const status of ["testing", "staging"]) expect((await promote(model.id, status)).status).toBe(200)
    return model
  }

  it("promotes step by step, demotes the previous production version, and keeps history", async () => {
    const name = `life-${Date.now()}`
    const v1 = await live(name, "1")
    const v2 = await live(name, "2")
    expect((await promote(v1.id, "production")).status).toBe(200)
    const before = new Date().toISOString()
    await new Promise((r) => setTimeout(r, 5))
    expect((await promote(v2.id, "production", "better auc")).status).toBe(200)
    const v1Now = (await (await request(`/v1/models/${v1.id}`)).json()) as { status: string }
    expect(v1Now.status).toBe("archived")
    const history = (await (await request(`/v1/models/${v2.id}/history`)).json()) as Array<
      { action: string; to: string; reason: string | null }
    >
    expect(history.at(-1)).toMatchObject({ action: "promoted", to: "production", reason: "better auc" })
    expect(((await (await request(`/v1/registry/${name}/production`)).json()) as { id: string }).id).toBe(v2.id)
    expect(((await (await request(`/v1/registry/${name}/production?at=${before}`)).json()) as { id: string }).id).toBe(
      v1.id
    )
    await expectProblem(await request(`/v1/registry/${name}/production?at=2000-01-01T00:00:00Z`), 404, "NotFound")
    const badTime = await expectProblem(
      await request(`/v1/registry/${name}/production?at=yesterday`),
      400,
      "ValidationError"
    )
    expect(badTime.errors![0]!.path).toBe("at")
  })

  it("answers an invalid transition with 409 and an unknown status with 400", async () => {
    const model = await register()
    await upload(model.id, new Uint8Array([1]))
    const before = await t.snapshot()
    const invalid = await expectProblem(await promote(model.id, "production"), 409, "InvalidTransitionError")
    expect(invalid).toMatchObject({ from: "draft", to: "production" })
    const unknown = await expectProblem(await promote(model.id, "live"), 400, "ValidationError")
    expect(unknown.errors![0]!.path).toBe("status")
    expect(await t.snapshot()).toEqual(before)
  })

  it("refuses to leave draft without an artifact", async () => {
    const model = await register()
    await expectProblem(await promote(model.id, "testing"), 409, "ArtifactStateError")
  })

  it("updates descriptive metadata and refuses identity changes", async () => {
    const model = await register()
    const patched = await request(
      `/v1/models/${model.id}`,
      json({ description: "calibrated", tags: ["payments", "eu"] }, { method: "PATCH" })
    )
    expect(patched.status).toBe(200)
    expect(await patched.json()).toMatchObject({ description: "calibrated", tags: ["payments", "eu"] })
    const before = await t.snapshot()
    const problem = await expectProblem(
      await request(`/v1/models/${model.id}`, json({ name: "other", version: "9" }, { method: "PATCH" })),
      400,
      "ValidationError"
    )
    expect(problem.errors!.map((e) => e.path).sort()).toEqual(["name", "version"])
    expect(await t.snapshot()).toEqual(before)
  })
})

describe("listing", () => {
  it("filters and pages with a cursor", async () => {
    const name = `list-${Date.now()}`
    const ids = []
    for (const version of ["1", "2", "3"]) {
      ids.push((await register({ name, version, tags: [version === "2" ? "odd-one" : "common"] })).id)
    }
    const first = (await (await request(`/v1/models?name=${name}&limit=2`)).json()) as {
      items: Array<{ id: string }>
      nextCursor: string
    }
    expect(first.items.map((m) => m.id)).toEqual(ids.slice(0, 2))
    const second = (await (await request(`/v1/models?name=${name}&limit=2&cursor=${first.nextCursor}`)).json()) as {
      items: Array<{ id: string }>
      nextCursor: null
    }
    expect(second.items.map((m) => m.id)).toEqual(ids.slice(2))
    expect(second.nextCursor).toBeNull()
    const tagged = (await (await request(`/v1/models?name=${name}&tag=odd-one`)).json()) as {
      items: Array<{ id: string }>
    }
    expect(tagged.items.map((m) => m.id)).toEqual([ids[1]])
  })

  it("searches by name prefix and finds a version's children (the dashboard's search and lineage)", async () => {
    const stem = `prefix-${Date.now()}`
    const parent = await register({ name: `${stem}-a` })
    const child = await register({ name: `${stem}-a`, parentModelId: parent.id })
    const other = await register({ name: `${stem}-b` })
    await register({ name: `x${stem}` })
    const listed = async (query: string) =>
      ((await (await request(`/v1/models?${query}`)).json()) as { items: Array<{ id: string }> }).items.map((m) => m.id)
    expect(await listed(`namePrefix=${stem}`)).toEqual([parent.id, child.id, other.id])
    expect(await listed(`namePrefix=${stem}-b`)).toEqual([other.id])
    expect(await listed(`parentModelId=${parent.id}`)).toEqual([child.id])
    const problem = await expectProblem(
      await request("/v1/models?namePrefix=a%2Fb&parentModelId=nope"),
      400,
      "ValidationError"
    )
    expect(problem.errors!.map((e) => e.path).sort()).toEqual(["namePrefix", "parentModelId"])
  })

  it("rejects bad query parameters naming them", async () => {
    const problem = await expectProblem(
      await request("/v1/models?limit=0&status=live&colour=red"),
      400,
      "ValidationError"
    )
    expect(problem.errors!.map((e) => e.path).sort()).toEqual(["colour", "limit", "status"])
  })
})

describe("operational endpoints", () => {
  it("serves health, readiness, OpenAPI and docs", async () => {
    expect((await request("/healthz")).status).toBe(200)
    expect(await (await request("/readyz")).json()).toEqual({ status: "ready" })
    const openapi = (await (await request("/openapi.json")).json()) as {
      openapi: string
      paths: Record<string, unknown>
      components: { schemas: Record<string, { properties?: Record<string, unknown> }> }
    }
    expect(openapi.openapi).toBe("3.1.0")
    expect(Object.keys(openapi.paths)).toEqual(
      expect.arrayContaining(["/v1/models", "/v1/models/{id}/artifact", "/v1/models/{id}/promote"])
    )
    expect(Object.keys(openapi.components.schemas.Model!.properties!)).toEqual(
      expect.arrayContaining(["id", "status", "artifact", "parentModelId"])
    )
    const docs = await request("/docs")
    expect(docs.headers.get("content-type")).toContain("text/html")
    expect(await docs.text()).toContain("/v1/models/{id}/promote")
  })

  it("answers unknown routes with a 404 problem", async () => {
    await expectProblem(await request("/v2/nothing"), 404, "NotFound")
  })

  it("exposes the contract metrics, HTTP metrics and process metrics in promtool-clean form", async () => {
    const model = await register()
    await upload(model.id, new Uint8Array(1234))
    await promote(model.id, "testing")
    const text = await (await request("/metrics")).text()
    expect(text).toContain("ml_models_total{status=\"testing\"}")
    expect(text).toContain(`ml_model_file_size_bytes{model_id="${model.id}"} 1234`)
    expect(text).toContain("ml_model_promotion_total{from_status=\"draft\",to_status=\"testing\"}")
    expect(text).toMatch(/http_requests_total\{method="POST",route="\/v1\/models",status="201"\}/)
    expect(text).toContain("process_resident_memory_bytes")
    expect(promtoolRemarks(text)).toEqual([])
  })
})

describe("authentication", () => {
  it("requires the bearer token when one is configured", async () => {
    const secured = await makeTestApp({ ML_API_TOKEN: "s3cret-0123456789" })
    try {
      await expectProblem(await secured.app.request("/v1/models"), 401, "Unauthorized")
      expect(
        (await secured.app.request("/v1/models", { headers: { authorization: "Bearer s3cret-0123456789" } })).status
      ).toBe(
        200
      )
      expect((await secured.app.request("/healthz")).status).toBe(200)
    } finally {
      await secured.close()
    }
  })
})
