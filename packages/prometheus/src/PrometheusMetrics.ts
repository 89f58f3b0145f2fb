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
  ml_registry_event_deliveries_total: {
    type: "counter",
    help: "Registry events sent to webhooks, by type: delivered (a 2xx) or failed (after the retries; sent again).",
    labelNames: ["type", "outcome"]
  },
  ml_drift_score: {
    type: "gauge",
    help: "Latest drift statistic per feature: type ks (KS statistic) or psi.",
    labelNames: ["feature_name", "type"]
  },
  ml_drift_dataset_share: {
    type: "gauge",
    help: "Weighted share (0-1) of a monitor's tested features that drifted at its latest check.",
    labelNames: ["monitor_id"]
  },
  ml_drift_dataset_drifted: {
    type: "gauge",
    help:
      "1 when a monitor's share of drifted features reached its dataset drift threshold at its latest check, else 0.",
    labelNames: ["monitor_id"]
  },
  ml_drift_multivariate_score: {
    type: "gauge",
    help: "Latest multivariate drift statistic per monitor: detector domain_classifier (ROC AUC of a classifier " +
      "telling window rows from baseline rows; 0.5 is no drift) or pca (mean PCA reconstruction error of the window).",
    labelNames: ["monitor_id", "detector"]
  },
  ml_drift_multivariate_drifted: {
    type: "gauge",
    help: "Latest multivariate drift verdict per monitor (1 drifted, 0 not): per detector, and any of them.",
    labelNames: ["monitor_id", "detector"]
  },
  ml_drift_performance_estimate: {
    type: "gauge",
    help:
      "Latest label-free (CBPE) estimate of a classifier's metric per monitor: accuracy, precision, recall, rocAuc.",
    labelNames: ["monitor_id", "metric"]
  },
  ml_drift_performance_estimate_lower: {
    type: "gauge",
    help: "Lower end of the CBPE estimate's band (estimate - 3 standard errors, at least 0) per monitor and metric.",
    labelNames: ["monitor_id", "metric"]
  },
  ml_drift_performance_estimate_upper: {
    type: "gauge",
    help: "Upper end of the CBPE estimate's band (estimate + 3 standard errors, at most 1) per monitor and metric.",
    labelNames: ["monitor_id", "metric"]
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
  },
  ml_pipeline_performance_estimate: {
    type: "gauge",
    help: "CBPE estimate of a logistic pipeline's metric (accuracy, precision, recall, rocAuc) over its last 1000 " +
      "predictions, read as calibrated probabilities.",
    labelNames: ["pipeline_id", "metric"]
  }
}

/** Metric names that keep their contract name although promtool would prefer no _total on a gauge. */
export const contractGaugesWithTotalSuffix = ["ml_models_total", "ml_experiment_active_total"] as const

/**
 * The text of each sink metric as last rendered, per registry, with a version bumped by every
 * write that changes it: a scrape re-renders only what changed (30,000 gauge series took
 * 90-300 ms to render on the development machine, on every scrape).
 */
interface RenderCache {
  readonly owned: Set<string>
  readonly versions: Map<string, number>
  readonly rendered: Map<string, { readonly version: number; readonly text: string }>
}

const renderCaches = new WeakMap<Registry, RenderCache>()

export const make = (registry: Registry): MetricsSink.MetricsSinkShape => {
  const metrics = new Map<string, Counter<string> | Gauge<string>>()
  // The value of every gauge series, by MetricsSink.seriesKey: a write of the value a series
  // already has (a rebuild from unchanged storage) leaves the rendered text valid.
  const gaugeValues = new Map<string, Map<string, number>>()
  const cache: RenderCache = { owned: new Set(), versions: new Map(), rendered: new Map() }
  renderCaches.set(registry, cache)
  const changed = (name: string) => void cache.versions.set(name, (cache.versions.get(name) ?? 0) + 1)
  const metric = (name: string, type: "counter" | "gauge", labels: MetricsSink.Labels) => {
    const existing = metrics.get(name)
    if (existing) return existing
    const definition = catalogue[name] ?? { type, help: `${name} (${type})`, labelNames: Object.keys(labels) }
    const config = { name, help: definition.help, labelNames: [...definition.labelNames], registers: [registry] }
    const created = definition.type === "counter" ? new Counter(config) : new Gauge(config)
    metrics.set(name, created)
    cache.owned.add(name)
    gaugeValues.set(name, new Map())
    return created
  }
  const setGauge = (gauge: Gauge<string>, name: string, labels: MetricsSink.Labels, value: number) => {
    const values = gaugeValues.get(name)!
    const key = MetricsSink.seriesKey(name, labels)
    if (values.get(key) === value) return
    values.set(key, value)
    gauge.set(labels, value)
    changed(name)
  }
  return {
    increment: (name, labels, by = 1) =>
      Effect.sync(() => {
        metric(name, "counter", labels).inc(labels, by)
        changed(name)
      }),
    set: (name, labels, value) =>
      Effect.sync(() => {
        const gauge = metric(name, "gauge", labels)
        if (gauge instanceof Gauge) setGauge(gauge, name, labels, value)
      }),
    replace: (name, series) =>
      Effect.sync(() => {
        if (series.length === 0 && !metrics.has(name)) return
        const gauge = metric(name, "gauge", series[0]?.[0] ?? {})
        if (!(gauge instanceof Gauge)) return
        const current = gaugeValues.get(name)!
        const same = series.length === current.size &&
          series.every(([labels, value]) => current.get(MetricsSink.seriesKey(name, labels)) === value)
        if (same) return
        gauge.reset()
        current.clear()
        for (const [labels, value] of series) setGauge(gauge, name, labels, value)
        changed(name)
      }),
    remove: (name, labels) =>
      Effect.sync(() => {
        const gauge = metrics.get(name)
        const values = gaugeValues.get(name)
        if (
          !(gauge instanceof Gauge) || values === undefined || !values.delete(MetricsSink.seriesKey(name, labels))
        ) return
        gauge.remove(labels)
        changed(name)
      })
  }
}

/**
 * The registry's exposition (Prometheus text format), as `registry.metrics()` renders it, except
 * that sink metrics unchanged since the previous call reuse their text.
 */
export const exposition = async (registry: Registry): Promise<string> => {
  const cache = renderCaches.get(registry)
  if (cache === undefined || registry.contentType !== Registry.PROMETHEUS_CONTENT_TYPE) return registry.metrics()
  const texts = await Promise.all(
    registry.getMetricsAsArray().map(async ({ name }) => {
      if (!cache.owned.has(name)) return registry.getSingleMetricAsString(name)
      const version = cache.versions.get(name) ?? 0
      const cached = cache.rendered.get(name)
      if (cached?.version === version) return cached.text
      const text = await registry.getSingleMetricAsString(name)
      // A write while rendering bumped the version: keep the text for this answer only.
      if ((cache.versions.get(name) ?? 0) === version) cache.rendered.set(name, { version, text })
      return text
    })
  )
  return `${texts.join("\n\n")}\n`
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

/** The request duration buckets, in seconds. */
const durationBuckets = [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60]

/** The requests of one (method, route): counts by status, and the duration histogram. */
interface RouteRequests {
  readonly labels: { readonly method: string; readonly route: string }
  readonly byStatus: Map<number, number>
  /** Requests per bucket (not cumulative); the last slot counts those above every bound. */
  readonly buckets: Float64Array
  sum: number
  count: number
}

/**
 * The request counter and duration histogram, kept in plain counters and read at scrape time:
 * prom-client's inc and observe hash their label objects on every call, a few microseconds and
 * about a kilobyte of garbage per request on the hot routes (bench/PROFILE.md). The exposition is
 * the one prom-client renders for a Counter and a Histogram with these names, labels and buckets
 * (test/prometheus.test.ts compares them).
 */
export const makeHttpMetrics = (registry: Registry): HttpMetrics => {
  const byMethod = new Map<string, Map<string, RouteRequests>>()
  const routesInOrder: Array<RouteRequests> = []
  const requestsOf = (method: string, route: string): RouteRequests => {
    let byRoute = byMethod.get(method)
    if (byRoute === undefined) byMethod.set(method, byRoute = new Map())
    let requests = byRoute.get(route)
    if (requests === undefined) {
      requests = {
        labels: { method, route },
        byStatus: new Map(),
        buckets: new Float64Array(durationBuckets.length + 1),
        sum: 0,
        count: 0
      }
      byRoute.set(route, requests)
      routesInOrder.push(requests)
    }
    return requests
  }
  const reset = () => {
    byMethod.clear()
    routesInOrder.length = 0
  }
  const counter = {
    name: "http_requests_total",
    help: "HTTP requests handled, by method, route pattern and status.",
    type: "counter",
    aggregator: "sum",
    reset,
    get: async () => ({
      name: counter.name,
      help: counter.help,
      type: counter.type,
      aggregator: counter.aggregator,
      values: routesInOrder.flatMap(({ byStatus, labels }) =>
        [...byStatus].map(([status, value]) => ({ labels: { ...labels, status: String(status) }, value }))
      )
    })
  }
  const histogram = {
    name: "http_request_duration_seconds",
    help: "HTTP request duration in seconds, by method and route pattern.",
    type: "histogram",
    aggregator: "sum",
    reset,
    get: async () => ({
      name: histogram.name,
      help: histogram.help,
      type: histogram.type,
      aggregator: histogram.aggregator,
      values: routesInOrder.flatMap(({ buckets, count, labels, sum }) => {
        let cumulative = 0
        const series: Array<object> = durationBuckets.map((le, i) => {
          cumulative += buckets[i]!
          return { labels: { le }, sharedLabels: labels, value: cumulative, metricName: `${histogram.name}_bucket` }
        })
        series.push(
          { labels: { le: "+Inf" }, sharedLabels: labels, value: count, metricName: `${histogram.name}_bucket` },
          { labels: {}, sharedLabels: labels, value: sum, metricName: `${histogram.name}_sum` },
          { labels: {}, sharedLabels: labels, value: count, metricName: `${histogram.name}_count` }
        )
        return series
      })
    })
  }
  // prom-client's registry renders any metric object with a name and an async get().
  registry.registerMetric(counter as unknown as Counter)
  registry.registerMetric(histogram as unknown as Histogram)
  return {
    observe: (method, route, status, seconds) => {
      const requests = requestsOf(method, route)
      requests.byStatus.set(status, (requests.byStatus.get(status) ?? 0) + 1)
      let bucket = 0
      while (bucket < durationBuckets.length && seconds > durationBuckets[bucket]!) bucket++
      requests.buckets[bucket]!++
      requests.sum += seconds
      requests.count++
    }
  }
}
