/**
 * The Express example against the real Redis: routes answer through ML Pipeline, a typed error
 * becomes its problem answer, /metrics shows our metrics beside the host's, and closing the
 * service leaves the host's Redis client open.
 */
import { connectOrFail, deleteKeysWithPrefix, uniquePrefix } from "@org/ml-adapter-redis/testing"
import * as fs from "node:fs/promises"
import type { AddressInfo } from "node:net"
import * as os from "node:os"
import * as path from "node:path"
import { afterAll, expect, it } from "vitest"
import { createService } from "../src/app.js"

const redis = await connectOrFail()
const prefix = uniquePrefix("example-express")
const storageDir = await fs.mkdtemp(path.join(os.tmpdir(), "ml-example-express-"))

afterAll(async () => {
  await deleteKeysWithPrefix(redis, prefix)
  await redis.quit()
  await fs.rm(storageDir, { recursive: true, force: true })
})

it("serves the registry, its errors and our metrics, and leaves the host's Redis open on close", async () => {
  const service = await createService({ redis, redisPrefix: prefix, storageDir })
  const server = service.app.listen(0, "127.0.0.1")
  await new Promise((resolve) => server.once("listening", resolve))
  const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
  const post = (url: string, body: unknown) =>
    fetch(`${base}${url}`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify(body)
    })
  try {
    const created = await post("/models", { name: "churn", version: "1.0.0", algorithm: "lr", framework: "sklearn" })
    expect(created.status).toBe(201)
    const model = (await created.json()) as { id: string; status: string }
    expect(model.status).toBe("draft")

    // No artifact yet: the registry refuses to leave draft, answered as the server would (409 problem).
    const refused = await post(`/models/${model.id}/promote`, { status: "testing" })
    expect(refused.status).toBe(409)
    expect(refused.headers.get("content-type")).toMatch(/problem\+json/)
    expect(((await refused.json()) as { code: string }).code).toBe("ArtifactStateError")

    const missing = await fetch(`${base}/models/nope`)
    expect([missing.status, ((await missing.json()) as { code: string }).code]).toEqual([404, "ModelNotFoundError"])

    const metrics = await (await fetch(`${base}/metrics`)).text()
    expect(metrics).toMatch(/^ml_models_total\{status="draft"\} 1$/m)
    expect(metrics).toContain("process_cpu_user_seconds_total")
    // Stored in the host's Redis under the service's prefix.
    expect((await redis.keys(`${prefix}*`)).length).toBeGreaterThan(0)
  } finally {
    await new Promise((resolve) => server.close(resolve))
    await service.close()
  }
  expect(redis.status).toBe("ready")
  expect(await redis.ping()).toBe("PONG")
})
