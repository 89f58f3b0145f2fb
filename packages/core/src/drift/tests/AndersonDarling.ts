/**
 * The k-sample Anderson-Darling test (k = 2: the baseline's stored sample and the window;
 * scipy.stats.anderson_ksamp with midranks). More weight in the tails than KS. Its p-value is
 * scipy's interpolation, capped to [0.001, 0.25]; the critical values at 25%, 10%, 5%, 2.5%, 1%,
 * 0.5% and 0.1% are in the details. With a single distinct value in both there is nothing to
 * compare (scipy refuses): statistic 0, p-value 1.
 */
import { andersonKSampSorted } from "../../stats/AndersonDarling.js"
import { sortedSample } from "../../stats/EmpiricalCdf.js"
import type { NumericDriftTest } from "./DriftTest.js"

export const andersonDarlingTest: NumericDriftTest = {
  name: "anderson-darling",
  role: "significance",
  appliesTo: "numeric",
  run: (baseline, values) => {
    const reference = sortedSample(baseline.sample, "baseline.sample")
    const window = sortedSample(values, "values")
    const constant = reference[0] === reference[reference.length - 1] && window[0] === window[window.length - 1] &&
      reference[0] === window[0]
    if (constant) return { statistic: 0, pValue: 1 }
    const result = andersonKSampSorted([reference, window])
    return { statistic: result.statistic, pValue: result.pValue, details: { criticalValues: result.criticalValues } }
  }
}
