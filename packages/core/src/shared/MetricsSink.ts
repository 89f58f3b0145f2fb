/**
 * Port: where the registry reports what it does. Metric names and labels are the public
 * contract of ARCHITECTURE.md; adapters (Prometheus) decide how to expose them.
 */
import { Context, Effect, Layer } from "effect"

export type Labels = Readonly<Record<string, string>>

export interface MetricsSinkShape {
  readonly increment: (name: string, labels: Labels, by?: number) => Effect.Effect<void>
  readonly set: (name: string, labels: Labels, value: number) => Effect.Effect<void>
  /**
   * Sets gauge `name` to exactly `series`, dropping the others: how gauges rebuilt from storage lose
   * series that disappeared. Adapters may skip the work when nothing changed.
   */
  readonly replace: (name: string, series: ReadonlyArray<readonly [Labels, number]>) => Effect.Effect<void>
  /** Drops one series of gauge `name` (nothing when it is absent): gauges kept per key lose a key's series. */
  readonly remove: (name: string, labels: Labels) => Effect.Effect<void>
}

export class MetricsSink extends Context.Service<MetricsSink, MetricsSinkShape>()("@org/ml-core/MetricsSink") {}

export const seriesKey = (name: string, labels: Labels): string =>
  `${name}{${Object.keys(labels).sort().map((k) => `${k}="${labels[k]}"`).join(",")}}`

/** Keeps every series in a map; tests read it back with `snapshot`. */
export const makeMemory = Effect.sync(() => {
  const series = new Map<string, number>()
  const sink: MetricsSinkShape & { readonly snapshot: () => ReadonlyMap<string, number> } = {
    increment: (name, labels, by = 1) =>
      Effect.sync(() => {
        const key = seriesKey(name, labels)
        series.set(key, (series.get(key) ?? 0) + by)
      }),
    set: (name, labels, value) => Effect.sync(() => void series.set(seriesKey(name, labels), value)),
    replace: (name, replacement) =>
      Effect.sync(() => {
        for (const key of [...series.keys()]) if (key.startsWith(`${name}{`)) series.delete(key)
        for (const [labels, value] of replacement) series.set(seriesKey(name, labels), value)
      }),
    remove: (name, labels) => Effect.sync(() => void series.delete(seriesKey(name, labels))),
    snapshot: () => new Map(series)
  }
  return sink
})

export const layerMemory: Layer.Layer<MetricsSink> = Layer.effect(MetricsSink, makeMemory)

/**
 * Label values users choose (metric names of an experiment, feature names of a monitor): each
 * becomes a series in every scrape, so at most this many per experiment or monitor get their own;
 * the rest are aggregated under `otherNames`. 20,000 metric names made /metrics 2.9 MB.
 */
export const maxNamesPerScope = 50

/** The label value for the names beyond `maxNamesPerScope` (a user name "_other" joins them). */
export const otherNames = "_other"

/** The label for each name: itself for the first `maxNamesPerScope` of `ranked`, `otherNames` after. */
export const cappedNames = (ranked: Iterable<string>): (name: string) => string => {
  const kept = new Set<string>()
  for (const name of ranked) {
    if (kept.size >= maxNamesPerScope) break
    kept.add(name)
  }
  return (name) => (kept.has(name) ? name : otherNames)
}

export const metricNames = {
  modelsTotal: "ml_models_total",
  modelFileSizeBytes: "ml_model_file_size_bytes",
  modelPromotionTotal: "ml_model_promotion_total"
} as const
