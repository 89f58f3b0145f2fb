/**
 * The pure rules of experiments, without services: variant lists and traffic re-splits, metric
 * and exposure batches, user ids, the record a creation makes, and a winner's promotion path.
 */
import { Result } from "effect"
import { describe, expect, it } from "vitest"
import { promotionSteps } from "../src/experiments/Promotion.js"
import { countExposures, summarizeObservations, userIdIssue } from "../src/experiments/Recording.js"
import { newExperiment, resplitTraffic, summarize, validateVariants, type Variant } from "../src/index.js"
import { sampleExperiment } from "../src/testing/index.js"

const [a, b, c] = ["01ARZ3NDEKTSV4RRFFQ69G5FA1", "01ARZ3NDEKTSV4RRFFQ69G5FA2", "01ARZ3NDEKTSV4RRFFQ69G5FA3"]
const variants = (shares: ReadonlyArray<number>, models = [a!, b!, c!]): Array<Variant> =>
  shares.map((trafficPct, i) => ({ modelId: models[i]!, isControl: i === 0, trafficPct }))

const issuesOf = <A>(result: Result.Result<A, { readonly issues: ReadonlyArray<{ path: ReadonlyArray<unknown> }> }>) =>
  Result.isFailure(result) ? result.failure.issues.map((i) => i.path.join(".")) : []

describe("variant lists", () => {
  it("need two or more variants, one control, shares summing to 100 and distinct models", () => {
    expect(validateVariants(variants([50, 50]))).toEqual([])
    expect(validateVariants(variants([100])).map((i) => i.message)).toEqual(["needs at least two variants"])
    expect(validateVariants(variants([50, 50]).map((v) => ({ ...v, isControl: true }))).map((i) => i.message))
      .toEqual(["needs exactly one control, got 2"])
    expect(validateVariants(variants([40, 40])).map((i) => i.message)).toEqual(["trafficPct must sum to 100, got 80"])
    expect(validateVariants(variants([50, 50], [a!, a!]))).toEqual([
      { path: ["variants", 1, "modelId"], message: "repeats the model of variants[0]" }
    ])
  })
})

describe("traffic re-splits", () => {
  it("give each variant its new share and keep models and control", () => {
    const resplit = resplitTraffic(variants([50, 50]), [90, 10])
    expect(resplit).toEqual(Result.succeed(variants([90, 10])))
  })

  it("name the list or the entry that is wrong", () => {
    const short = resplitTraffic(variants([50, 50]), [100])
    expect(Result.isFailure(short) && short.failure.message).toBe("trafficPct needs 2 entries")
    expect(issuesOf(resplitTraffic(variants([50, 50]), [60, 60]))).toEqual(["variants"])
    expect(issuesOf(resplitTraffic(variants([50, 50]), [120, -20]))).toEqual(["trafficPct.0"])
  })
})

describe("metric batches", () => {
  const experiment = sampleExperiment({ variants: variants([50, 50]) })

  it("fold into one summary per (variant, metric)", () => {
    const result = summarizeObservations(experiment, [
      { modelId: a!, metric: "ctr", value: 1 },
      { modelId: b!, metric: "ctr", value: 0 },
      { modelId: a!, metric: "ctr", value: 0 },
      { modelId: a!, metric: "latency", value: 12.5 }
    ])
    expect(result).toEqual(Result.succeed([
      { variant: 0, metric: "ctr", summary: summarize([1, 0]) },
      { variant: 1, metric: "ctr", summary: summarize([0]) },
      { variant: 0, metric: "latency", summary: summarize([12.5]) }
    ]))
  })

  it("report every bad observation by index", () => {
    const result = summarizeObservations(experiment, [
      { modelId: a!, metric: "ctr", value: 1 },
      { modelId: a!, metric: "ctr", value: Number.NaN },
      { modelId: c!, metric: "bad name", value: 2 }
    ])
    expect(issuesOf(result)).toEqual(["1.value", "2.modelId", "2.metric"])
    expect(Result.isFailure(result) && result.failure.message).toContain(
      `Invalid metrics: 1.value: must be a finite number from -1e+120 to 1e+120, got NaN; `
        + `2.modelId: model ${c} is not a variant of experiment`
    )
  })
})

describe("exposure batches", () => {
  const experiment = sampleExperiment({ variants: variants([50, 50]) })

  it("add up per variant", () => {
    const result = countExposures(experiment, [{ modelId: b!, count: 3 }, { modelId: a!, count: 2 }, {
      modelId: b!,
      count: 4
    }])
    expect(result).toEqual(Result.succeed([2, 7]))
  })

  it("report unknown models and counts that are not non-negative integers", () => {
    const result = countExposures(experiment, [{ modelId: c!, count: 1 }, { modelId: a!, count: 1.5 }])
    expect(issuesOf(result)).toEqual(["0.modelId", "1.count"])
  })
})

describe("user ids", () => {
  it("are non-empty strings of at most 256 characters", () => {
    expect(userIdIssue("u")).toBeUndefined()
    expect(userIdIssue("x".repeat(256))).toBeUndefined()
    for (const bad of ["", "x".repeat(257), 5]) {
      expect(userIdIssue(bad)).toBe("must be a non-empty string of at most 256 characters")
    }
  })
})

describe("a new experiment", () => {
  it("is a draft at revision 1 with the defaults filled in and the split recorded", () => {
    const created = newExperiment(
      { name: "n", targetMetric: "ctr", variants: variants([50, 50]), metricGoals: { lat: { direction: "minimize" } } },
      {
        id: "exp-1",
        at: "2024-01-01T00:00:00.000Z",
        actor: "ops",
        defaults: { stickyAssignment: false, minSamplesPerVariant: 500 }
      }
    )
    expect(created).toMatchObject({
      id: "exp-1",
      seed: "exp-1",
      status: "draft",
      revision: 1,
      stickyAssignment: false,
      minSamplesPerVariant: 500,
      alpha: 0.05,
      coverage: 1,
      mode: "ab",
      metricGoals: { ctr: { direction: "maximize" }, lat: { direction: "minimize" } },
      trafficHistory: [{ at: "2024-01-01T00:00:00.000Z", actor: "ops", trafficPct: [50, 50] }]
    })
  })
})

describe("a winner's promotion path", () => {
  it("steps through the lifecycle to production, and is empty for production and archived models", () => {
    expect(promotionSteps("draft")).toEqual(["testing", "staging", "production"])
    expect(promotionSteps("testing")).toEqual(["staging", "production"])
    expect(promotionSteps("staging")).toEqual(["production"])
    expect(promotionSteps("production")).toEqual([])
    expect(promotionSteps("archived")).toEqual([])
  })
})
