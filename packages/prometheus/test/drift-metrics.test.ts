/**
 * The monitor-level drift gauges as Prometheus exposes them: a real check of a monitor with
 * multivariate detectors and a performance setting, its numbers read back from the exposition
 * (they must be the report's), with HELP text, and promtool's check of the whole text.
 */
import { AlertNotifier, DriftAlerts, DriftDetector, DriftStore, makeRandom } from "@org/ml-core"
import { Effect, Layer } from "effect"
import { describe, expect, it } from "vitest"
import { PrometheusMetrics } from "../src/index.js"
import { promtoolRemarks } from "../src/Promtool.js"

/** Rows of x, y correlated by rho, and a calibrated score: one monitor row each. */
const rows = (n: number, rho: number, scoreMean: number, seed: string) => {
  const random = makeRandom(seed)
  const normal = () => random.normal()
  return Array.from({ length: n }, () => {
    const x = normal()
    const y = rho * x + Math.sqrt(1 - rho * rho) * normal()
    return { x, y, score: 1 / (1 + Math.exp(-(scoreMean + 1.5 * normal()))) }
  })
}

const columns = (list: ReadonlyArray<Record<string, number>>) => ({
  x: list.map((r) => r.x!),
  y: list.map((r) => r.y!),
  score: list.map((r) => r.score!)
})

/** The value of one series in the exposition, undefined when absent. */
const seriesValue = (text: string, name: string, labels: Record<string, string>) => {
  const labelText = Object.keys(labels).sort().map((k) => `${k}="${labels[k]}"`).join(",")
  for (const line of text.split("\n")) {
    const match = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (.+)$/.exec(line)
    if (!match || match[1] !== name) continue
    if ((match[2] ?? "").split(",").filter(Boolean).sort().join(",") === labelText) return Number(match[3])
  }
  return undefined
}

describe("drift gauges per monitor in the Prometheus exposition", () => {
  it("exposes the multivariate statistics and verdicts and CBPE's estimates with bands, passing promtool", async () => {
    const registry = PrometheusMetrics.makeRegistry()
    const layer = DriftDetector.layerFromPorts().pipe(
      Layer.provideMerge(Layer.mergeAll(
        DriftStore.layerMemory,
        PrometheusMetrics.layer(registry),
        DriftAlerts.layer,
        AlertNotifier.layerMemory
      ))
    )
    const report = await Effect.runPromise(Effect.provide(
      Effect.gen(function*() {
        const d = yield* DriftDetector.DriftDetector
        yield* d.createMonitor({
          id: "payments",
          features: [
            { name: "x", kind: "feature", type: "numeric" },
            { name: "y", kind: "feature", type: "numeric" },
            { name: "score", kind: "prediction", type: "numeric" }
          ],
          settings: { windowSize: 1000, minWindow: 100, multivariate: { domainClassifier: {}, pca: {} } },
          performance: { feature: "score", alertBelow: { accuracy: 0.9 } }
        })
        yield* d.setBaseline("payments", columns(rows(3000, 0.8, 1, "baseline")))
        // The correlation flips: the multivariate detectors see it.
        yield* d.recordRows("payments", rows(1000, -0.8, 0.3, "window"))
        return yield* d.check("payments")
      }),
      layer
    ))
    const text = await registry.metrics()
    const mv = report.multivariate!
    expect(mv.untested).toBeNull()
    const monitor_id = "payments"
    expect(seriesValue(text, "ml_drift_multivariate_score", { monitor_id, detector: "domain_classifier" })).toBe(
      mv.domainClassifier!.auc
    )
    expect(seriesValue(text, "ml_drift_multivariate_score", { monitor_id, detector: "pca" })).toBe(
      mv.pca!.reconstructionError
    )
    expect(seriesValue(text, "ml_drift_multivariate_drifted", { monitor_id, detector: "domain_classifier" })).toBe(
      mv.domainClassifier!.drifted ? 1 : 0
    )
    expect(seriesValue(text, "ml_drift_multivariate_drifted", { monitor_id, detector: "pca" })).toBe(
      mv.pca!.drifted ? 1 : 0
    )
    expect(seriesValue(text, "ml_drift_multivariate_drifted", { monitor_id, detector: "any" })).toBe(1)
    expect(report.performance!.status).toBe("estimated")
    for (const m of report.performance!.metrics) {
      const labels = { monitor_id, metric: m.metric }
      expect(seriesValue(text, "ml_drift_performance_estimate", labels)).toBe(m.estimate)
      expect(seriesValue(text, "ml_drift_performance_estimate_lower", labels)).toBe(m.lower)
      expect(seriesValue(text, "ml_drift_performance_estimate_upper", labels)).toBe(m.upper)
    }
    // The performance alert is counted with the others.
    expect(report.alerts.map((a) => a.feature)).toContain("~performance")
    for (
      const name of [
        "ml_drift_multivariate_score",
        "ml_drift_multivariate_drifted",
        "ml_drift_performance_estimate",
        "ml_drift_performance_estimate_lower",
        "ml_drift_performance_estimate_upper",
        "ml_pipeline_performance_estimate"
      ]
    ) {
      expect(PrometheusMetrics.catalogue[name]!.help.length).toBeGreaterThan(40)
    }
    expect(text).toMatch(/# HELP ml_drift_multivariate_score Latest multivariate drift statistic/)
    expect(text).toContain("# TYPE ml_drift_performance_estimate gauge")
    expect(promtoolRemarks(text)).toEqual([])
  })
})
