/**
 * Contract of the MetricsSink port: what is incremented, set and replaced reads back the same,
 * through whatever the adapter exposes (a map in memory, the Prometheus text format).
 */
import { Effect } from "effect"
import { describe, expect, it } from "vitest"
import type { Labels, MetricsSinkShape } from "../shared/MetricsSink.js"

export interface MetricsSinkHarness {
  readonly sink: MetricsSinkShape
  /** The current value of one series, or undefined when it is absent. */
  readonly read: (name: string, labels: Labels) => Promise<number | undefined>
}

export const metricsSinkContract = (adapter: string, makeHarness: () => MetricsSinkHarness) => {
  describe(`MetricsSink contract: ${adapter}`, () => {
    it("accumulates counters per label set", async () => {
      const { sink, read } = makeHarness()
      await Effect.runPromise(Effect.all([
        sink.increment("ml_model_promotion_total", { from_status: "draft", to_status: "testing" }),
        sink.increment("ml_model_promotion_total", { from_status: "draft", to_status: "testing" }, 2),
        sink.increment("ml_model_promotion_total", { from_status: "testing", to_status: "staging" })
      ]))
      expect(await read("ml_model_promotion_total", { from_status: "draft", to_status: "testing" })).toBe(3)
      expect(await read("ml_model_promotion_total", { from_status: "testing", to_status: "staging" })).toBe(1)
    })

    it("sets gauges and replaces every series of one gauge", async () => {
      const { sink, read } = makeHarness()
      await Effect.runPromise(Effect.all([
        sink.set("ml_models_total", { status: "draft" }, 4),
        sink.set("ml_models_total", { status: "draft" }, 2),
        sink.set("ml_model_file_size_bytes", { model_id: "01ARZ3NDEKTSV4RRFFQ69G5FAV" }, 1024)
      ]))
      expect(await read("ml_models_total", { status: "draft" })).toBe(2)
      expect(await read("ml_model_file_size_bytes", { model_id: "01ARZ3NDEKTSV4RRFFQ69G5FAV" })).toBe(1024)
      await Effect.runPromise(sink.replace("ml_models_total", [[{ status: "testing" }, 3]]))
      expect(await read("ml_models_total", { status: "draft" })).toBeUndefined()
      expect(await read("ml_models_total", { status: "testing" })).toBe(3)
      expect(await read("ml_model_file_size_bytes", { model_id: "01ARZ3NDEKTSV4RRFFQ69G5FAV" })).toBe(1024)
      // Replacing with the same series, then with none.
      await Effect.runPromise(sink.replace("ml_models_total", [[{ status: "testing" }, 3]]))
      expect(await read("ml_models_total", { status: "testing" })).toBe(3)
      await Effect.runPromise(sink.replace("ml_models_total", []))
      expect(await read("ml_models_total", { status: "testing" })).toBeUndefined()
    })

    it("reads back a gauge set again after a replace, and one set to the value it had", async () => {
      const { sink, read } = makeHarness()
      const size = (modelId: string) => ({ model_id: modelId })
      await Effect.runPromise(Effect.all([
        sink.replace("ml_model_file_size_bytes", [[size("a"), 1], [size("b"), 2]]),
        sink.set("ml_model_file_size_bytes", size("c"), 3),
        sink.set("ml_model_file_size_bytes", size("a"), 1),
        sink.replace("ml_model_file_size_bytes", [[size("a"), 1], [size("b"), 2]])
      ]))
      expect(await read("ml_model_file_size_bytes", size("c"))).toBeUndefined()
      expect(await read("ml_model_file_size_bytes", size("b"))).toBe(2)
    })

    it("removes one series of a gauge, leaving the others, and ignores an absent one", async () => {
      const { sink, read } = makeHarness()
      const traffic = (modelId: string) => ({ experiment_id: "e1", model_id: modelId })
      await Effect.runPromise(sink.replace("ml_experiment_traffic", [[traffic("a"), 0.5], [traffic("b"), 0.5]]))
      await Effect.runPromise(Effect.all([
        sink.remove("ml_experiment_traffic", traffic("a")),
        sink.remove("ml_experiment_traffic", traffic("never-set")),
        sink.remove("ml_experiment_metric", { experiment_id: "e1", model_id: "a", metric_name: "ctr" })
      ]))
      expect(await read("ml_experiment_traffic", traffic("a"))).toBeUndefined()
      expect(await read("ml_experiment_traffic", traffic("b"))).toBe(0.5)
      // Set again after the removal, and a replace after it with the removed series only.
      await Effect.runPromise(sink.set("ml_experiment_traffic", traffic("a"), 0.25))
      expect(await read("ml_experiment_traffic", traffic("a"))).toBe(0.25)
      await Effect.runPromise(sink.remove("ml_experiment_traffic", traffic("a")))
      await Effect.runPromise(sink.replace("ml_experiment_traffic", [[traffic("b"), 0.5]]))
      expect(await read("ml_experiment_traffic", traffic("b"))).toBe(0.5)
      expect(await read("ml_experiment_traffic", traffic("a"))).toBeUndefined()
    })
  })
}
