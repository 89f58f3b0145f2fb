// Zero-byte artifacts over HTTP: refused with a 400 naming the body and the rule unless the upload
// says ?allowEmpty=true; the draft can upload again; an empty artifact is promoted only when allowed.
// And the problems of storage failures: 507 naming the directory only for a full disk.
import { StorageError } from "@org/ml-core"
import { afterAll, describe, expect, it } from "vitest"
import { problemFromError } from "../src/Problem.js"
import { json, makeTestApp, metadata } from "./helpers.js"

const { app, close } = await makeTestApp()
afterAll(close)

const register = async (version: string) => {
  const response = await app.request("/v1/models", json(metadata({ name: "empty-artifacts", version })))
  return ((await response.json()) as { id: string }).id
}
const upload = (id: string, body: Uint8Array<ArrayBuffer>, search = "") =>
  app.request(`/v1/models/${id}/artifact${search}`, {
    method: "PUT",
    headers: { "content-type": "application/octet-stream" },
    body
  })
const promote = (id: string, status: string) => app.request(`/v1/models/${id}/promote`, json({ status }))

describe("empty artifacts", () => {
  it("refuses an empty upload with 400 naming the body and allowEmpty; the draft then takes real bytes", async () => {
    const id = await register("1")
    const refused = await upload(id, new Uint8Array(0))
    expect(refused.status).toBe(400)
    const problem = (await refused.json()) as { detail: string; errors: Array<{ path: string; message: string }> }
    expect(problem.detail).toMatch(/empty \(0 bytes\).*allowEmpty=true/)
    expect(problem.errors).toEqual([{ path: "body", message: "must not be empty (0 bytes) unless allowEmpty=true" }])
    expect((await promote(id, "testing")).status).toBe(409)
    const stored = await upload(id, new Uint8Array([1, 2, 3]))
    expect(stored.status).toBe(200)
    expect(((await stored.json()) as { artifact: { sizeBytes: number } }).artifact.sizeBytes).toBe(3)
    expect((await promote(id, "testing")).status).toBe(200)
  })

  it("stores an empty artifact with ?allowEmpty=true, which may then be promoted", async () => {
    const id = await register("2")
    const stored = await upload(id, new Uint8Array(0), "?allowEmpty=true")
    expect(stored.status).toBe(200)
    expect(((await stored.json()) as { artifact: unknown }).artifact).toMatchObject({ sizeBytes: 0, allowEmpty: true })
    expect((await promote(id, "testing")).status).toBe(200)
    const download = await app.request(`/v1/models/${id}/artifact`)
    expect(download.status).toBe(200)
    expect((await download.arrayBuffer()).byteLength).toBe(0)
  })

  it("names the query flag and its values when allowEmpty is not true or false", async () => {
    const id = await register("3")
    const response = await upload(id, new Uint8Array(0), "?allowEmpty=yes")
    expect(response.status).toBe(400)
    expect(JSON.stringify(await response.json())).toMatch(/allowEmpty/)
  })
})

describe("storage problems", () => {
  it("answers 507 naming the data directory when the disk is full, and a plain 503 otherwise", () => {
    const full = new StorageError({
      message: "Artifact upload failed: no space left on device",
      reason: "insufficient-storage",
      directory: "/srv/ml"
    })
    expect(problemFromError(full, "/v1/models")).toMatchObject({
      status: 507,
      code: "InsufficientStorage",
      title: "Insufficient storage",
      directory: "/srv/ml",
      detail: "Insufficient storage in /srv/ml: Artifact upload failed: no space left on device"
    })
    const down = new StorageError({ message: "Redis is down", directory: "/srv/ml" })
    const problem = problemFromError(down, "/v1/models")
    expect(problem).toMatchObject({ status: 503, code: "StorageError", detail: "Redis is down" })
    expect(problem).not.toHaveProperty("directory")
  })
})
