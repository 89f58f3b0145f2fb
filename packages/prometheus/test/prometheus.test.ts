import { metricsSinkContract } from "@org/ml-core/testing"
import { Effect } from "effect"
import { execFileSync } from "node:child_process"
import { Counter, Histogram, Registry } from "prom-client"
import { describe, expect, it } from "vitest"
import { PrometheusMetrics } from "../src/index.js"
import { promtoolRemarks } from "../src/Promtool.js"

/** Reads one series back from the Prometheus text format, the surface scrapers see. */
const readSeries = async (registry: Registry, name: string, labels: Record<string, string>) => {
  const text = await PrometheusMetrics.exposition(registry)
  const labelText = Object.keys(labels).sort().map((k) => `${k}="${labels[k]}"`).join(",")
  for (const line of text.split("\n")) {
    const match = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (.+)$/.exec(line)
    if (!match || match[1] !== name) continue
    const seen = (match[2] ?? "").split(",").filter(Boolean).sort().join(",")
    if (seen === labelText) return Number(match[3])
  }
  return undefined
}

metricsSinkContract("prometheus", () => {
  const registry = new Registry()
  return { sink: PrometheusMetrics.make(registry), read: (name, labels) => readSeries(registry, name, labels) }
})

describe("Prometheus exposition", () => {
  it("uses the contract's names, types and labels", async () => {
    const registry = new Registry()
    const sink = PrometheusMetrics.make(registry)
    await Effect.runPromise(Effect.all([
      sink.set("ml_models_total", { status: "production" }, 1),
      sink.set("ml_model_file_size_bytes", { model_id: "01ARZ3NDEKTSV4RRFFQ69G5FAV" }, 10),
      sink.increment("ml_model_promotion_total", { from_status: "staging", to_status: "production" })
    ]))
    const text = await registry.metrics()
    expect(text).toContain("# TYPE ml_models_total gauge")
    expect(text).toContain("# TYPE ml_model_file_size_bytes gauge")
    expect(text).toContain("# TYPE ml_model_promotion_total counter")
    expect(text).toContain("ml_model_promotion_total{from_status=\"staging\",to_status=\"production\"} 1")
  })

  it("passes promtool check metrics except the documented _total remark on contract gauges", async () => {
    const registry = PrometheusMetrics.makeRegistry()
    const sink = PrometheusMetrics.make(registry)
    PrometheusMetrics.makeHttpMetrics(registry).observe("GET", "/v1/models", 200, 0.01)
    await Effect.runPromise(Effect.all([
      sink.set("ml_models_total", { status: "draft" }, 3),
      sink.set("ml_model_file_size_bytes", { model_id: "01ARZ3NDEKTSV4RRFFQ69G5FAV" }, 10),
      sink.increment("ml_model_promotion_total", { from_status: "draft", to_status: "testing" })
    ]))
    expect(promtoolRemarks(await registry.metrics())).toEqual([])
  })

  it("renders the same exposition as prom-client after every kind of write, reusing unchanged metrics", async () => {
    // Without the process metrics, which change between any two renderings.
    const registry = new Registry()
    const sink = PrometheusMetrics.make(registry)
    const http = PrometheusMetrics.makeHttpMetrics(registry)
    const size = (i: number) => ({ model_id: `model-${i}` })
    const writes: Array<Effect.Effect<void>> = [
      sink.replace("ml_model_file_size_bytes", Array.from({ length: 100 }, (_, i) => [size(i), i] as const)),
      sink.set("ml_models_total", { status: "draft" }, 3),
      sink.set("ml_models_total", { status: "draft" }, 3),
      sink.set("ml_model_file_size_bytes", size(7), 70),
      sink.increment("ml_model_promotion_total", { from_status: "draft", to_status: "testing" }),
      sink.replace("ml_model_file_size_bytes", [[size(1), 1], [size(2), 2]]),
      sink.replace("ml_model_file_size_bytes", [[size(1), 1], [size(2), 2]]),
      sink.replace("ml_experiment_traffic", []),
      sink.set("ml_experiment_active_total", {}, 0)
    ]
    for (const write of writes) {
      await Effect.runPromise(write)
      http.observe("GET", "/metrics", 200, 0.001)
      // Twice: the second answer comes from the cached renderings.
      expect(await PrometheusMetrics.exposition(registry)).toBe(await registry.metrics())
      expect(await PrometheusMetrics.exposition(registry)).toBe(await registry.metrics())
    }
  })

  it("renders the request metrics as prom-client's own Counter and Histogram do", async () => {
    const ours = new Registry()
    const http = PrometheusMetrics.makeHttpMetrics(ours)
    const theirs = new Registry()
    const requests = new Counter({
      name: "http_requests_total",
      help: "HTTP requests handled, by method, route pattern and status.",
      labelNames: ["method", "route", "status"],
      registers: [theirs]
    })
    const duration = new Histogram({
      name: "http_request_duration_seconds",
      help: "HTTP request duration in seconds, by method and route pattern.",
      labelNames: ["method", "route"],
      buckets: [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60],
      registers: [theirs]
    })
    const routes = [["GET", "/v1/models"], ["POST", "/v1/experiments/:id/assignments"], ["GET", "/metrics"]] as const
    // Durations on and between every bound, below the first and above the last.
    const durations = [
      0,
      0.0004,
      0.001,
      0.003,
      0.005,
      0.01,
      0.02,
      0.025,
      0.07,
      0.1,
      0.3,
      0.5,
      1,
      2.5,
      4,
      10,
      29,
      60,
      61,
      500
    ]
    for (let i = 0; i < 300; i++) {
      const [method, route] = routes[i % routes.length]!
      const status = [200, 202, 400, 404, 503][(i * 7) % 5]!
      const seconds = durations[(i * 11) % durations.length]!
      http.observe(method, route, status, seconds)
      requests.inc({ method, route, status: String(status) })
      duration.observe({ method, route }, seconds)
    }
    const lines = async (registry: Registry) => (await registry.metrics()).split("\n").filter(Boolean).sort()
    expect(await lines(ours)).toEqual(await lines(theirs))
    expect(await PrometheusMetrics.exposition(ours)).toBe(await ours.metrics())
    ours.resetMetrics()
    expect((await ours.metrics()).split("\n").filter((line) => !line.startsWith("#") && line !== "")).toEqual([])
  })

  it("has promtool available (the check above must never pass by skipping)", () => {
    expect(execFileSync("promtool", ["--version"], { encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] })).toMatch(
      /promtool/
    )
  })
})
