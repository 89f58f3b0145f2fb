/**
 * The metrics port on prom-client. Contract metrics (ARCHITECTURE.md) are declared here with
 * their help text, type and labels; a name outside the catalogue becomes a counter or gauge the
 * first time it is used. `ml_models_total` and `ml_experiment_active_total` are gauges whose
 * names the contract fixes, so promtool's "_total suffix on a non-counter" remark is expected
 * for exactly those two.
 */
import { MetricsSink } from "@org/ml-core"
import { Effect, Layer } from "effect"
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from "prom-client"

interface Definition {
  readonly type: "counter" | "gauge"
  readonly help: string
  readonly labelNames: ReadonlyArray<string>
}

export const catalogue: Readonly<Record<string, Definition>> = {
  ml_models_total: { type: "gauge", help: "Registered model versions by lifecycle status.", labelNames: ["status"] },
  ml_model_file_size_bytes: {
    type: "gauge",
    help: "Size of each model's artifact in bytes.",
    labelNames: ["model_id"]
  },
  ml_model_promotion_total: {
    type: "counter",
    help: "Lifecycle transitions, including automatic demotions.",
    labelNames: ["from_status", "to_status"]
  },
  ml_experiment_active_total: { type: "gauge", help: "Experiments currently running.", labelNames: [] },
  ml_experiment_traffic: {
    type: "gauge",
    help: "Current traffic share (0-1) of each model in a running experiment.",
    labelNames: ["experiment_id", "model_id"]
  },
  ml_drift_alerts_total: {
    type: "counter",
    help: "Drift alerts raised (first alerts, repeats after the cooldown and escalations), by severity.",
    labelNames: ["severity"]
  },
  ml_drift_score: {
    type: "gauge",
    help: "Latest drift statistic per feature: type ks (KS statistic) or psi.",
    labelNames: ["feature_name", "type"]
  },
  ml_experiment_metric: {
    type: "gauge",
    help: "Mean of each recorded metric per model in a running experiment.",
    labelNames: ["experiment_id", "model_id", "metric_name"]
  },
  ml_pipeline_updates_total: {
    type: "counter",
    help: "Online-learning updates accepted and published to the registry.",
    labelNames: ["pipeline_id"]
  },
  ml_pipeline_samples_processed: {
    type: "gauge",
    help: "Samples an online-learning pipeline has trained on or held out.",
    labelNames: ["pipeline_id"]
  },
  ml_pipeline_accuracy: {
    type: "gauge",
    help: "Progressive (predict-then-learn) accuracy of a logistic pipeline's live model over its last 1000 samples.",
    labelNames: ["pipeline_id"]
  }
}

/** Metric names that keep their contract name although promtool would prefer no _total on a gauge. */
export const contractGaugesWithTotalSuffix = ["ml_models_total", "ml_experiment_active_total"] as const

export const make = (registry: Registry): MetricsSink.MetricsSinkShape => {
  const metrics = new Map<string, Counter<string> | Gauge<string>>()
  const metric = (name: string, type: "counter" | "gauge", labels: MetricsSink.Labels) => {
    const existing = metrics.get(name)
    if (existing) return existing
    const definition = catalogue[name] ?? { type, help: `${name} (${type})`, labelNames: Object.keys(labels) }
    const config = { name, help: definition.help, labelNames: [...definition.labelNames], registers: [registry] }
    const created = definition.type === "counter" ? new Counter(config) : new Gauge(config)
    metrics.set(name, created)
    return created
  }
  return {
    increment: (name, labels, by = 1) => Effect.sync(() => void metric(name, "counter", labels).inc(labels, by)),
    set: (name, labels, value) =>
      Effect.sync(() => {
        const gauge = metric(name, "gauge", labels)
        if (gauge instanceof Gauge) gauge.set(labels, value)
      }),
    reset: (name) => Effect.sync(() => metrics.get(name)?.reset())
  }
}

export const layer = (registry: Registry): Layer.Layer<MetricsSink.MetricsSink> =>
  Layer.succeed(MetricsSink.MetricsSink, make(registry))

/** A registry with Node process metrics (CPU, memory, event loop, handles) already collected. */
export const makeRegistry = (): Registry => {
  const registry = new Registry()
  collectDefaultMetrics({ register: registry })
  // prom-client also exports these as gauges named *_total, which promtool flags; the same values
  // remain available without the suffix (nodejs_active_handles, ...), so nothing is lost.
  for (const name of ["nodejs_active_handles_total", "nodejs_active_requests_total", "nodejs_active_resources_total"]) {
    registry.removeSingleMetric(name)
  }
  return registry
}

export interface HttpMetrics {
  /** Records one finished request; `route` is the matched route pattern, never the raw path. */
  readonly observe: (method: string, route: string, status: number, seconds: number) => void
}

export const makeHttpMetrics = (registry: Registry): HttpMetrics => {
  const requests = new Counter({
    name: "http_requests_total",
    help: "HTTP requests handled, by method, route pattern and status.",
    labelNames: ["method", "route", "status"],
    registers: [registry]
  })
  const duration = new Histogram({
    name: "http_request_duration_seconds",
    help: "HTTP request duration in seconds, by method and route pattern.",
    labelNames: ["method", "route"],
    buckets: [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60],
    registers: [registry]
  })
  return {
    observe: (method, route, status, seconds) => {
      requests.inc({ method, route, status: String(status) })
      duration.observe({ method, route }, seconds)
    }
  }
}
