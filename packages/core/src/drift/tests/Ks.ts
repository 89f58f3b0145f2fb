/**
 * Two-sample Kolmogorov-Smirnov test of a numeric window against the baseline's reference
 * sample (scipy's ks_2samp, exact for samples up to 10,000): the significance test of numeric
 * features.
 */
import { ks2Samp } from "../../stats/Ks.js"
import type { NumericDriftTest } from "./DriftTest.js"

export const ksTest: NumericDriftTest = {
  name: "ks",
  role: "significance",
  appliesTo: "numeric",
  run: (baseline, values) => {
    const result = ks2Samp(baseline.sample, values)
    return { statistic: result.statistic, pValue: result.pValue }
  }
}
