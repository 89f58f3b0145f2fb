/** The results view shows CUPED, ratio metrics and caps only when the experiment has them. */
import type { ExperimentResults } from "@org/ml-sdk"
import { describe, expect, it } from "vitest"
import { resultsText } from "../src/commands/experiments.js"

const plain: ExperimentResults = {
  experimentId: "exp-1",
  status: "running",
  targetMetric: "revenue",
  variants: [],
  comparisons: [],
  guardrails: [],
  srm: { pValue: null, detected: false },
  banditHistory: [],
  exposuresByDay: [],
  decision: { outcome: "insufficient_data", winnerModelId: null, reason: "too few" },
  covariateAdjusted: [],
  ratioMetrics: [],
  metricCaps: {}
}

const sides = { significantlyBetter: true, significantlyWorse: false }

describe("results text", () => {
  it("leaves the sections out when nothing was recorded with covariates, denominators or caps", () => {
    const text = resultsText(plain)
    expect(text).not.toMatch(/CUPED|Ratio metrics|capped/)
  })

  it("shows the CUPED and ratio tables and the caps", () => {
    const text = resultsText({
      ...plain,
      covariateAdjusted: [{
        modelId: "model-b",
        metric: "revenue",
        treatmentCount: 10,
        controlCount: 12,
        theta: 0.8,
        difference: 0.25,
        differenceInterval: { lower: 0.1, upper: 0.4 },
        relativeLift: 0.05,
        relativeLiftInterval: { lower: 0.02, upper: 0.08 },
        pValue: 0.001,
        adjustedPValue: 0.001,
        unadjustedDifference: 0.3,
        varianceReduction: 0.42,
        ...sides
      }],
      ratioMetrics: [{
        modelId: "model-b",
        metric: "clicks_per_session",
        treatmentCount: 10,
        controlCount: 12,
        treatmentRatio: 0.21,
        treatmentStandardError: 0.01,
        controlRatio: 0.2,
        controlStandardError: 0.01,
        difference: 0.01,
        differenceInterval: { lower: -0.02, upper: 0.04 },
        relativeLift: 0.05,
        relativeLiftInterval: null,
        pValue: 0.5,
        adjustedPValue: 0.5,
        significantlyBetter: false,
        significantlyWorse: false,
        notComputable: "not computable (denominator: must have a nonzero mean)"
      }],
      metricCaps: { revenue: { upper: 500, lower: 0 }, latency: { upper: 2000 } }
    })
    expect(text).toMatch(/CUPED[\s\S]*model-b\s+revenue\s+0\.25\s+\[0\.1, 0\.4\][\s\S]*\+42%\s+better/)
    expect(text).toMatch(/Ratio metrics[\s\S]*clicks_per_session\s+0\.21\s+0\.2[\s\S]*nonzero mean/)
    expect(text).toContain("capped at recording: revenue to [0, 500], latency to [-inf, 2000]")
  })
})
