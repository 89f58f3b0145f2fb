// Simulated A/A experiments sliced by a dimension (issue 18's breakdowns), through the A/B use
// case on the memory stores: how often a breakdown shows a "significant" slice that is not there,
// with and without the Benjamini-Hochberg correction the breakdown applies across its slices
// (fixed seed: the table in README is reproduced exactly).
//
//   node bench/aa-breakdowns.mjs            (after a build; about a minute)
//   ML_AA_EXPERIMENTS=100 node bench/aa-breakdowns.mjs
//
// Each experiment: alpha 0.05, two metrics (revenue, the target, N(10, 2²); converted, 0/1 with
// probability 0.1, a declared goal), 2,000 users per arm recorded with a `country` dimension of 8
// values with unequal shares (30%, 20%, 15%, 10%, 10%, 5%, 5%, 5%), both arms from one
// distribution. The breakdown by country then holds 8 values x 2 metrics = 16 tests, all of a
// true null hypothesis. Rules, per experiment:
// - raw Welch p < 0.05 in any slice: reading the breakdown without a correction;
// - breakdownAdjustedPValue < 0.05 in any slice (significantlyBetter or significantlyWorse): what
//   the breakdown reports. With every null true, BH keeps P(any) at alpha (its FDR is then the FWER).
// And per test (all 16 x experiments): the share of raw and of adjusted p-values below 0.05.
import { AbTests, ExperimentStore, makeRandom, ModelRegistry } from "@org/ml-core"
import { Effect, Layer } from "effect"
import { pct, twoModelVersions, wilson } from "./aa-lib.mjs"

const experiments = Number(process.env.ML_AA_EXPERIMENTS ?? 400)
const usersPerArm = 2_000
const alpha = 0.05
const random = makeRandom("aa-breakdowns-18")
const countries = ["us", "de", "fr", "gb", "jp", "br", "in", "ca"]
const shares = [0.3, 0.2, 0.15, 0.1, 0.1, 0.05, 0.05, 0.05]
const country = () => {
  let u = random.uniform()
  for (const [i, share] of shares.entries()) {
    if (u < share) return countries[i]
    u -= share
  }
  return countries.at(-1)
}

const world = AbTests.layer({ ...AbTests.defaultAbTestSettings, minSamplesPerVariant: 2 }).pipe(
  Layer.provideMerge(ExperimentStore.layerMemory),
  Layer.provideMerge(ModelRegistry.layerMemory())
)

const counts = { rawAny: 0, adjustedAny: 0, tests: 0, rawTests: 0, adjustedTests: 0, reportedTests: 0 }

const program = Effect.gen(function*() {
  const registry = yield* ModelRegistry.ModelRegistry
  const ab = yield* AbTests.AbTests
  const ids = yield* twoModelVersions(registry, "aa-breakdowns", "testing")
  for (let e = 0; e < experiments; e++) {
    const created = yield* ab.createExperiment({
      name: `aa breakdowns ${e}`,
      targetMetric: "revenue",
      metricGoals: { converted: { direction: "maximize" } },
      alpha,
      variants: ids.map((modelId, i) => ({ modelId, isControl: i === 0, trafficPct: 50 }))
    })
    yield* ab.startExperiment(created.id)
    const observations = []
    for (const modelId of ids) {
      for (let k = 0; k < usersPerArm; k++) {
        const dimensions = { country: country() }
        observations.push({ modelId, metric: "revenue", value: random.normal(10, 2), dimensions })
        observations.push({ modelId, metric: "converted", value: random.uniform() < 0.1 ? 1 : 0, dimensions })
      }
    }
    for (let from = 0; from < observations.length; from += 1_000) {
      yield* ab.recordMetrics(created.id, observations.slice(from, from + 1_000))
    }
    const breakdown = yield* ab.getDimensionResults(created.id, "country")
    const comparisons = breakdown.values.flatMap((v) => v.comparisons).filter((c) => c.pValue !== null)
    counts.reportedTests += breakdown.tests
    counts.tests += comparisons.length
    const raw = comparisons.filter((c) => c.pValue < alpha).length
    const adjusted = comparisons.filter((c) => c.breakdownAdjustedPValue !== null && c.breakdownAdjustedPValue < alpha)
    counts.rawTests += raw
    counts.adjustedTests += adjusted.length
    counts.rawAny += raw > 0 ? 1 : 0
    counts.adjustedAny += adjusted.length > 0 ? 1 : 0
    // What the breakdown reports follows the adjusted value only.
    const flagged = comparisons.filter((c) => c.significantlyBetter || c.significantlyWorse).length
    if (flagged !== adjusted.length) throw new Error(`experiment ${e}: ${flagged} flagged, ${adjusted.length} adjusted`)
  }
})

await Effect.runPromise(Effect.provide(program, world))

const testsPer = counts.tests / experiments
const row = (rule, k, n, nominal) => {
  const [lo, hi] = wilson(k, n)
  console.log(`| ${rule} | ${k} / ${n} | ${pct(k / n)} | ${pct(lo)} to ${pct(hi)} | ${nominal} |`)
}
console.log(
  `${experiments} A/A experiments, ${usersPerArm} users per arm, 8 countries x 2 metrics = ` +
    `${testsPer.toFixed(1)} breakdown tests each (BH spans ${
      (counts.reportedTests / experiments).toFixed(1)
    }), seed "aa-breakdowns-18"\n`
)
console.log("| Rule | False positives | Rate | 95% interval | Nominal |")
console.log("|---|---:|---:|---|---|")
row(
  "Any slice with raw Welch p < 0.05 (no correction)",
  counts.rawAny,
  experiments,
  `${pct(1 - 0.95 ** testsPer)} if independent`
)
row(
  "Any slice significant after Benjamini-Hochberg (what the breakdown flags)",
  counts.adjustedAny,
  experiments,
  "5% (all nulls true)"
)
row("Per test: raw p < 0.05", counts.rawTests, counts.tests, "5%")
row("Per test: BH-adjusted p < 0.05", counts.adjustedTests, counts.tests, "below 5%")
