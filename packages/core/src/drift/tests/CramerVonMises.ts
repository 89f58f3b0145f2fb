/**
 * The two-sample Cramér-von Mises test of the window against the baseline's stored sample
 * (scipy.stats.cramervonmises_2samp: exact p-value when both hold at most 20 values, else
 * asymptotic). More sensitive than KS to shifts spread over the whole distribution.
 */
import { cramerVonMises2SampSorted } from "../../stats/CramerVonMises.js"
import { sortedSample } from "../../stats/EmpiricalCdf.js"
import type { NumericDriftTest } from "./DriftTest.js"

export const cramerVonMisesTest: NumericDriftTest = {
  name: "cramer-von-mises",
  role: "significance",
  appliesTo: "numeric",
  run: (baseline, values) => {
    const result = cramerVonMises2SampSorted(
      sortedSample(baseline.sample, "baseline.sample"),
      sortedSample(values, "values")
    )
    return { statistic: result.statistic, pValue: result.pValue }
  }
}
