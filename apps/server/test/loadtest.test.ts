// `ml-server loadtest` against a real server on a loopback socket: what it reports is checked
// against what the server recorded (exposures of new users, metric counts), its bounds and its
// refusal of anything but loopback.
import { serve } from "@hono/node-server"
import * as http from "node:http"
import type { AddressInfo } from "node:net"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { closedLoad, pacedLoad, runLoadTest } from "../src/LoadTest.js"
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
    [["--routes", "everything"], "unknown route everything"],
    [
      ["--routes", "health", "--token", "a\r\nx-role: admin"],
      "--token (or ML_LOADTEST_TOKEN) must not contain CR or LF"
    ]
  ])("refuses %j (exit 2, naming the bound)", async (argv, message) => {
    const lines: Array<string> = []
    expect(await runLoadTest(argv, {}, (line) => lines.push(line))).toBe(2)
    expect(lines.join("\n")).toContain(message)
  })
})

describe("the loader's timing", () => {
  /** A node:http server answering at once, except that `stall()` holds every answer for the next `stallMs`. */
  const stallingServer = async (stallMs: number) => {
    let stallUntil = 0
    const server = http.createServer((req, res) => {
      req.resume()
      req.on("end", () => {
        const wait = stallUntil - performance.now()
        const answer = () => res.writeHead(200, { "content-type": "application/json" }).end("{}")
        if (wait > 0) setTimeout(answer, wait)
        else answer()
      })
    })
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve))
    return {
      base: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
      stall: () => (stallUntil = performance.now() + stallMs),
      close: () => new Promise((resolve) => server.close(resolve))
    }
  }

  it("at a fixed rate, times each request due during a stall from its due time (no coordinated omission)", async () => {
    const server = await stallingServer(300)
    try {
      // 200 req/s for 1 s on 2 connections; the server stalls 300 ms from 0.3 s on. About 60
      // requests fall due during the stall and wait for a connection: timed from their send they
      // would look fast, timed from their due time the first ~40 of them waited over 100 ms.
      setTimeout(server.stall, 300)
      const r = await pacedLoad({
        base: server.base,
        connections: 2,
        seconds: 1,
        rate: 200,
        make: () => ({ method: "GET", path: "/" })
      })
      expect(r.requests).toBe(200)
      expect(r.failures).toBe(0)
      expect(r.maxMs).toBeGreaterThan(250)
      expect(r.p90Ms).toBeGreaterThan(90)
      expect(r.loaderLagP99Ms).toBeLessThan(r.p90Ms)
    } finally {
      await server.close()
    }
  })

  it("in closed loop, sends each connection's next request when its answer came", async () => {
    const server = await stallingServer(0)
    try {
      let made = 0
      const r = await closedLoad({
        base: server.base,
        connections: 3,
        seconds: 1,
        make: () => {
          made++
          return { method: "POST", path: "/", body: "{}" }
        }
      })
      expect(r.failures).toBe(0)
      expect(r.requests).toBe(made)
      expect(r.requests).toBeGreaterThan(100)
      expect(r.loaderLagP99Ms).toBe(0)
    } finally {
      await server.close()
    }
  })

  it("counts each answer that never came as one failure, once, and ends drainMillis after the run", async () => {
    const server = http.createServer((req, res) => {
      req.resume()
      if (req.url !== "/hang") req.on("end", () => res.writeHead(200).end("{}"))
    })
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve))
    const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
    // Every 10th request hangs: each of the 2 connections is stuck after its first hang.
    const make = (i: number) => ({ method: "GET", path: i % 10 === 9 ? "/hang" : "/" })
    try {
      let started = performance.now()
      const closed = await closedLoad({ base, connections: 2, seconds: 1, make, drainMillis: 300 })
      expect(performance.now() - started).toBeLessThan(2500)
      expect(closed.failures).toBe(2)
      expect(closed.requests).toBeGreaterThan(0)

      started = performance.now()
      const paced = await pacedLoad({ base, connections: 2, seconds: 1, rate: 100, make, drainMillis: 300 })
      expect(performance.now() - started).toBeLessThan(2500)
      // The 100 requests: answered, stuck on a connection, or never sent for want of one.
      expect(paced.requests + paced.failures).toBe(100)
      expect(paced.requests).toBe(18)
    } finally {
      server.closeAllConnections()
      await new Promise((resolve) => server.close(resolve))
    }
  })
})
