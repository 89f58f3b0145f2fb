/**
 * The Fastify example against the real Redis: a drift monitor through the routes drifts on a
 * shifted window, a typed error is its problem answer, /metrics shows the drift score, and
 * closing the app (which closes ML Pipeline) leaves the host's Redis client open.
 */
import { connectOrFail, deleteKeysWithPrefix, uniquePrefix } from "@org/ml-adapter-redis/testing"
import * as fs from "node:fs/promises"
import * as os from "node:os"
import * as path from "node:path"
import { afterAll, expect, it } from "vitest"
import { createService } from "../src/app.js"

const redis = await connectOrFail()
const prefix = uniquePrefix("example-fastify")
const storageDir = await fs.mkdtemp(path.join(os.tmpdir(), "ml-example-fastify-"))

afterAll(async () => {
  await deleteKeysWithPrefix(redis, prefix)
  await redis.quit()
  await fs.rm(storageDir, { recursive: true, force: true })
})

it("detects drift through its routes, answers errors as problems, and leaves the host's Redis open", async () => {
  const { app } = await createService({ redis, redisPrefix: prefix, storageDir })
  const base = await app.listen({ host: "127.0.0.1", port: 0 })
  const send = (method: string, url: string, body?: unknown) =>
    fetch(`${base}${url}`, {
      method,
      ...(body === undefined ? {} : { headers: { "content-type": "application/json" }, body: JSON.stringify(body) })
    })
  const values = (shift: number) => Array.from({ length: 400 }, (_, i) => ((i * 7919) % 400) / 400 + shift)
  try {
    const created = await send("POST", "/monitors", {
      id: "inputs",
      features: [{ name: "amount", kind: "feature", type: "numeric" }],
      settings: { windowSize: 500, minWindow: 50 }
    })
    expect(created.status).toBe(201)
    expect((await send("PUT", "/monitors/inputs/baseline", { amount: values(0) })).status).toBe(200)
    expect((await send("POST", "/monitors/inputs/observations", { amount: values(0.5) })).status).toBe(202)
    const report = (await (await send("POST", "/monitors/inputs/check")).json()) as {
      features: Array<{ feature: string; pValue: number; severity: string }>
    }
    expect(report.features[0]?.pValue).toBeLessThan(1e-6)
    expect(report.features[0]?.severity).not.toBe("none")

    const missing = await send("POST", "/monitors/nope/check")
    expect([missing.status, ((await missing.json()) as { code: string }).code]).toEqual([404, "MonitorNotFoundError"])

    const metrics = await (await send("GET", "/metrics")).text()
    expect(metrics).toMatch(/^ml_drift_score\{feature_name="amount",type="ks"\} /m)
  } finally {
    await app.close()
  }
  expect(redis.status).toBe("ready")
  expect(await redis.ping()).toBe("PONG")
})
