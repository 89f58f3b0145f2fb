/**
 * The energy distance between the window and the baseline's stored sample
 * (scipy.stats.energy_distance), in the feature's own units, as Evidently reports it (its
 * threshold is 0.1).
 */
import { energyDistanceSorted } from "../../stats/CdfDistance.js"
import { sortedSample } from "../../stats/EmpiricalCdf.js"
import type { NumericDriftTest } from "./DriftTest.js"

export const energyTest: NumericDriftTest = {
  name: "energy",
  role: "distance",
  appliesTo: "numeric",
  run: (baseline, values) => ({
    statistic: energyDistanceSorted(sortedSample(baseline.sample, "baseline.sample"), sortedSample(values, "values"))
  })
}
