// `ml-server loadtest` against a real server on a loopback socket: what it reports is checked
// against what the server recorded (exposures of new users, metric counts), its bounds and its
// refusal of anything but loopback.
import { serve } from "@hono/node-server"
import type { AddressInfo } from "node:net"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { runLoadTest } from "../src/LoadTest.js"
import { makeTestApp, metadata } from "./helpers.js"

let t: Awaited<ReturnType<typeof makeTestApp>>
let server: ReturnType<typeof serve>
let url: string

const post = async (path: string, body: unknown) => {
  const response = await fetch(`${url}${path}`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify(body)
  })
  expect(response.status).toBeLessThan(300)
  return response.json() as Promise<any>
}

/** A started sticky experiment between two new models. */
const startedExperiment = async () => {
  const models = []
  for (const version of ["1", "2"]) models.push(await post("/v1/models", metadata({ name: "loadtest", version })))
  const experiment = await post("/v1/experiments", {
    name: "loadtest",
    targetMetric: "loadtest_value",
    stickyAssignment: true,
    variants: models.map((m, i) => ({ modelId: m.id, isControl: i === 0, trafficPct: 50 }))
  })
  await post(`/v1/experiments/${experiment.id}/start`, {})
  return experiment as { id: string }
}

/** The rows of the printed table, by route. */
const rows = (lines: ReadonlyArray<string>) =>
  Object.fromEntries(
    lines.slice(2).map((line) => {
      const [route, requests, failures, reqPerSec, ...latencies] = line.trim().split(/\s+/)
      return [route!, {
        requests: Number(requests),
        failures: Number(failures),
        reqPerSec: Number(reqPerSec),
        latencies
      }]
    })
  )

beforeAll(async () => {
  t = await makeTestApp()
  server = await new Promise<ReturnType<typeof serve>>((resolve) => {
    const s = serve({ fetch: t.app.fetch, hostname: "127.0.0.1", port: 0 }, () => resolve(s))
  })
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
}, 60_000)

afterAll(async () => {
  await new Promise((resolve) => server.close(resolve))
  await t.close()
})

describe("ml-server loadtest", () => {
  it("reports as many requests per route as the server recorded", async () => {
    const experiment = await startedExperiment()
    const lines: Array<string> = []
    const code = await runLoadTest(
      ["--url", url, "--experiment", experiment.id, "--duration", "1", "--connections", "4"],
      {},
      (line) => lines.push(line)
    )
    expect(code).toBe(0)
    const table = rows(lines)
    expect(Object.keys(table)).toEqual(["health", "assignments", "metrics"])
    const results = await (await fetch(`${url}/v1/experiments/${experiment.id}/results`)).json() as any
    // Every assignment was a new user: one exposure each. Every metric request one observation.
    const exposures = results.variants.reduce((sum: number, v: any) => sum + v.exposures, 0)
    expect(exposures).toBe(table.assignments!.requests)
    const observed = results.variants.reduce((sum: number, v: any) => sum + (v.metrics.loadtest_value?.n ?? 0), 0)
    expect(observed).toBe(table.metrics!.requests)
    for (const row of Object.values(table)) {
      expect(row.failures).toBe(0)
      expect(row.requests).toBeGreaterThan(0)
      // mean, p50, p90, p99, max: numbers, percentiles in order.
      const [, p50, p90, p99, max] = row.latencies.map(Number)
      expect(p50! <= p90! && p90! <= p99! && p99! <= max!).toBe(true)
    }
  }, 60_000)

  it("sends exactly rate x duration requests at a fixed rate", async () => {
    const lines: Array<string> = []
    const code = await runLoadTest(
      ["--url", url, "--routes", "health", "--duration", "2", "--rate", "40"],
      {},
      (line) => lines.push(line)
    )
    expect(code).toBe(0)
    expect(rows(lines).health!.requests).toBe(80)
  }, 60_000)

  it.each([
    [["--url", "http://10.0.0.1:8080", "--routes", "health"], "must be a loopback address"],
    [["--url", "https://127.0.0.1:8080", "--routes", "health"], "must be http://"],
    [["--routes", "health", "--duration", "61"], "--duration must be an integer from 1 to 60, got 61"],
    [["--routes", "health", "--connections", "1000"], "--connections must be an integer from 1 to 256"],
    [["--routes", "health", "--rate", "0"], "--rate must be an integer from 1 to 50000"],
    [["--routes", "assignments"], "--experiment is needed"],
    [["--routes", "everything"], "unknown route everything"]
  ])("refuses %j (exit 2, naming the bound)", async (argv, message) => {
    const lines: Array<string> = []
    expect(await runLoadTest(argv, {}, (line) => lines.push(line))).toBe(2)
    expect(lines.join("\n")).toContain(message)
  })
})
