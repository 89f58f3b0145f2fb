/**
 * The first Wasserstein distance between the window and the baseline's stored sample
 * (scipy.stats.wasserstein_distance), normed as Evidently does: divided by the baseline
 * sample's standard deviation (numpy's, ddof 0), at least 0.001 so a constant baseline still
 * gives a finite value. Evidently's threshold for it is 0.1. The raw distance and the divisor
 * are kept in the details.
 */
import { wassersteinDistanceSorted } from "../../stats/CdfDistance.js"
import { sortedSample } from "../../stats/EmpiricalCdf.js"
import { numpyStd } from "../../stats/NumpySum.js"
import type { NumericDriftTest } from "./DriftTest.js"

export const wassersteinTest: NumericDriftTest = {
  name: "wasserstein",
  role: "distance",
  appliesTo: "numeric",
  run: (baseline, values) => {
    const reference = sortedSample(baseline.sample, "baseline.sample")
    const raw = wassersteinDistanceSorted(reference, sortedSample(values, "values"))
    const norm = Math.max(numpyStd(reference), 0.001)
    return { statistic: raw / norm, details: { raw, norm } }
  }
}
