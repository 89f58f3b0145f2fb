/**
 * start()/close() against the real Redis: a host's ioredis client stays open and usable after
 * close(); a URL the pipeline connected to itself is closed by it; and two instances on one prefix
 * share the background work through leases (one drift check per interval in total).
 */
import { redisUrl } from "@org/ml-adapter-redis/testing"
import { afterAll, describe, expect, it } from "vitest"
import { createMlPipeline } from "../src/index.js"
import { cleanUp, freshDirectory, freshPrefix, hostRedis } from "./Worlds.js"

afterAll(async () => {
  await cleanUp()
  await hostRedis.quit()
})

/** Connections Redis holds with our client name (CLIENT LIST), to see a pipeline's own connection come and go. */
const connectionsNamed = async (name: string) =>
  (await hostRedis.client("LIST") as string).split("\n").filter((line) => line.includes(` name=${name} `)).length

describe("close()", () => {
  it("leaves the host's ioredis client open and usable, with the background work stopped", async () => {
    const prefix = freshPrefix("host-client")
    const ml = await createMlPipeline({ redis: hostRedis, redisPrefix: prefix, storageDir: await freshDirectory() })
    ml.start()
    const model = await ml.registry.registerModel({ name: "kept", version: "1", algorithm: "a", framework: "f" })
    await ml.close()
    await ml.close() // idempotent
    expect(hostRedis.status).toBe("ready")
    expect(await hostRedis.ping()).toBe("PONG")
    // What the pipeline wrote is in the host's Redis under the prefix.
    expect((await hostRedis.keys(`${prefix}*`)).length).toBeGreaterThan(0)
    await expect(ml.registry.getModel(model.id)).rejects.toThrow(/closed/)
    expect(() => ml.start()).toThrow(/closed/)
  })

  it("closes a connection it opened from a URL", async () => {
    const name = `mlpipeline${Date.now().toString(36)}`
    const url = new URL(redisUrl)
    url.searchParams.set("connectionName", name)
    const ml = await createMlPipeline({
      redis: url.toString(),
      redisPrefix: freshPrefix("own-connection"),
      storageDir: await freshDirectory()
    })
    await ml.ping()
    expect(await connectionsNamed(name)).toBe(1)
    await ml.close()
    expect(await connectionsNamed(name)).toBe(0)
  })
})

describe("start() with two instances on one Redis prefix", () => {
  it("checks a drift monitor once per interval in total, not once per instance", async () => {
    const prefix = freshPrefix("two-instances")
    const config = async () => ({
      redis: hostRedis,
      redisPrefix: prefix,
      storageDir: await freshDirectory(),
      settings: { driftTickMillis: 100 }
    })
    const [a, b] = [await createMlPipeline(await config()), await createMlPipeline(await config())]
    try {
      const sample = (n: number) => Array.from({ length: n }, (_, i) => ((i * 7919) % n) / n)
      await a.drift.createMonitor({
        id: "shared",
        features: [{ name: "x", kind: "feature", type: "numeric" }],
        settings: { windowSize: 5000, minWindow: 10, checkIntervalSeconds: 1 }
      })
      await b.drift.setBaseline("shared", { x: sample(500) })
      await a.drift.recordBatch("shared", { x: sample(100) })
      a.start()
      b.start()
      await new Promise((resolve) => setTimeout(resolve, 3500))
      const reports = [...await b.drift.getDriftReports("shared")].sort((x, y) => x.at.localeCompare(y.at))
      expect(reports.length).toBeGreaterThanOrEqual(2)
      // Two instances checking on their own would leave reports about a tick apart; the shared lease
      // leaves one per interval (a loaded machine delays a check by up to a few hundred ms).
      const gaps = reports.slice(1).map((report, i) => Date.parse(report.at) - Date.parse(reports[i]!.at))
      expect(Math.min(...gaps)).toBeGreaterThanOrEqual(500)
    } finally {
      await a.close()
      await b.close()
    }
    expect(await hostRedis.ping()).toBe("PONG")
  })
})
