/**
 * The Page-Hinkley test (Page 1954) as River defines it (`river.drift.PageHinkley`): cumulative
 * deviations of each value from the running mean, faded by `alpha`, less (or plus) a tolerance
 * `delta`; a change is signalled once `minInstances` values were read and a cumulative sum has
 * moved more than `threshold` from its extreme: upwards, downwards or either (`mode`).
 */
import { checkFinite, invalid } from "../../stats/StatsError.js"
import type { StreamingDetector } from "./StreamingDetector.js"

export interface PageHinkleyOptions {
  readonly minInstances: number
  readonly delta: number
  readonly threshold: number
  /** Forgetting factor of the cumulative sums. */
  readonly alpha: number
  readonly mode: "up" | "down" | "both"
}

/** River's defaults. */
export const pageHinkleyDefaults: PageHinkleyOptions = {
  minInstances: 30,
  delta: 0.005,
  threshold: 50,
  alpha: 1 - 0.0001,
  mode: "both"
}

const checkOptions = (o: PageHinkleyOptions) => {
  if (!Number.isInteger(o.minInstances) || o.minInstances < 1) invalid("minInstances", "must be an integer >= 1")
  if (!(o.delta >= 0) || !Number.isFinite(o.delta)) invalid("delta", "must be a finite number >= 0")
  if (!(o.threshold > 0) || !Number.isFinite(o.threshold)) invalid("threshold", "must be a finite number > 0")
  if (!(o.alpha > 0 && o.alpha <= 1)) invalid("alpha", "must be in (0, 1]")
}

export const makePageHinkley = (options: Partial<PageHinkleyOptions> = {}): StreamingDetector => {
  const o = { ...pageHinkleyDefaults, ...options }
  checkOptions(o)
  let n = 0
  let mean = 0
  let sumUp = 0
  let sumDown = 0
  let minUp = Number.POSITIVE_INFINITY
  // River starts the downward extreme at -1, not -infinity; kept so detections match its examples.
  let maxDown = -1
  let detected = false

  const reset = () => {
    n = 0
    mean = 0
    sumUp = 0
    sumDown = 0
    minUp = Number.POSITIVE_INFINITY
    maxDown = -1
    detected = false
  }

  const update = (value: number): boolean => {
    checkFinite(value, "value")
    if (detected) reset()
    n += 1
    mean += (1 / n) * (value - mean)
    const deviation = value - mean
    sumUp = o.alpha * sumUp + deviation - o.delta
    sumDown = o.alpha * sumDown + deviation + o.delta
    if (sumUp < minUp) minUp = sumUp
    if (sumDown > maxDown) maxDown = sumDown
    if (n >= o.minInstances) {
      const up = sumUp - minUp > o.threshold
      const down = maxDown - sumDown > o.threshold
      detected = o.mode === "up" ? up : o.mode === "down" ? down : up || down
    }
    return detected
  }

  return { update, driftDetected: () => detected }
}
