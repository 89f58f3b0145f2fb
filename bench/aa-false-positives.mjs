// Simulated A/A experiments (both arms draw from one distribution), through the A/B use case on
// the memory stores, so every look is a real results computation that lowers the stored running
// minima of the always-valid p-values. Counts how often each decision rule declares a
// difference that is not there (fixed seed: the table in README is reproduced exactly).
//
//   node bench/aa-false-positives.mjs            (after a build; ~1 minute)
//   ML_AA_EXPERIMENTS=200 node bench/aa-false-positives.mjs
//
// Each experiment: sequential, alpha 0.05, 10 peeks; before each peek 100 values per arm from
// N(10, 2²) are recorded, then the results are read (a look). Rules:
// - Welch, last look only: adjusted p < alpha at the 10th look (the fixed-horizon test);
// - Welch, any of the 10 looks: stopping at the first adjusted p < alpha (naive peeking);
// - always-valid p (running minimum), any look: the sequential p-value below alpha at some look;
// - decision "winner" at any look (sequential: adjusted and always-valid p both below alpha);
// - Bayesian, last look: chance to beat the control > 95% (flat prior);
// - Bayesian, any look: chance to beat the control > 95% at some look (peeking at a Bayesian rule).
// The same experiments also record, from a second random stream (so the rows above do not change):
// - revenue_cuped with each user's pre-experiment value x ~ N(10, 2²), y = 0.8x + N(2, 1.2²):
//   CUPED-adjusted p < alpha at the last look (fixed horizon), and the mean variance reduction;
// - clicks per session: 1 to 6 sessions per user, each clicked with probability 0.2, recorded as
//   value = clicks with denominator = sessions: the ratio metric's delta-method p < alpha at the last look.
import { AbTests, ExperimentStore, makeRandom, ModelRegistry } from "@org/ml-core"
import { Effect, Layer } from "effect"
import { pct, twoModelVersions, wilson } from "./aa-lib.mjs"

const experiments = Number(process.env.ML_AA_EXPERIMENTS ?? 800)
const peeks = 10
const perPeek = 100
const alpha = 0.05
const random = makeRandom("aa-false-positives-18")
const pairedRandom = makeRandom("aa-paired-18")

const world = AbTests.layer({ ...AbTests.defaultAbTestSettings, minSamplesPerVariant: 100 }).pipe(
  Layer.provideMerge(ExperimentStore.layerMemory),
  Layer.provideMerge(ModelRegistry.layerMemory())
)

const counts = {
  welchLast: 0,
  welchAny: 0,
  sequentialAny: 0,
  winnerAny: 0,
  bayesLast: 0,
  bayesAny: 0,
  cupedLast: 0,
  ratioLast: 0,
  varianceReduction: 0
}

/** One user's paired observations: revenue with its pre-experiment value, clicks over sessions. */
const pairedObservations = (modelId) => {
  const covariate = pairedRandom.normal(10, 2)
  const revenue = { modelId, metric: "revenue_cuped", value: 0.8 * covariate + pairedRandom.normal(2, 1.2), covariate }
  const sessions = 1 + Math.floor(pairedRandom.uniform() * 6)
  let clicks = 0
  for (let s = 0; s < sessions; s++) clicks += pairedRandom.uniform() < 0.2 ? 1 : 0
  return [revenue, { modelId, metric: "clicks", value: clicks, denominator: sessions }]
}

const program = Effect.gen(function*() {
  const registry = yield* ModelRegistry.ModelRegistry
  const ab = yield* AbTests.AbTests
  const ids = yield* twoModelVersions(registry, "aa", "testing")
  for (let e = 0; e < experiments; e++) {
    const created = yield* ab.createExperiment({
      name: `aa ${e}`,
      targetMetric: "revenue",
      alpha,
      sequential: true,
      variants: ids.map((modelId, i) => ({ modelId, isControl: i === 0, trafficPct: 50 }))
    })
    yield* ab.startExperiment(created.id)
    const seen = { welch: false, sequential: false, winner: false, bayes: false }
    let last
    let lastResults
    for (let peek = 0; peek < peeks; peek++) {
      const observations = []
      for (const modelId of ids) {
        for (let k = 0; k < perPeek; k++) observations.push({ modelId, metric: "revenue", value: random.normal(10, 2) })
        for (let k = 0; k < perPeek; k++) observations.push(...pairedObservations(modelId))
      }
      yield* ab.recordMetrics(created.id, observations)
      const results = yield* ab.getExperimentResults(created.id)
      last = results.comparisons[0]
      lastResults = results
      seen.welch ||= last.adjustedPValue < alpha
      seen.sequential ||= last.sequentialPValue < alpha
      seen.winner ||= results.decision.outcome === "winner"
      seen.bayes ||= (last.bayesian?.chanceToBeatControl ?? 0) > 0.95
    }
    counts.welchLast += last.adjustedPValue < alpha ? 1 : 0
    counts.welchAny += seen.welch ? 1 : 0
    counts.sequentialAny += seen.sequential ? 1 : 0
    counts.winnerAny += seen.winner ? 1 : 0
    counts.bayesLast += (last.bayesian?.chanceToBeatControl ?? 0) > 0.95 ? 1 : 0
    counts.bayesAny += seen.bayes ? 1 : 0
    const cuped = lastResults.covariateAdjusted.find((c) => c.metric === "revenue_cuped")
    const ratio = lastResults.ratioMetrics.find((c) => c.metric === "clicks")
    counts.cupedLast += cuped.pValue < alpha ? 1 : 0
    counts.ratioLast += ratio.pValue < alpha ? 1 : 0
    counts.varianceReduction += cuped.varianceReduction / experiments
  }
})

await Effect.runPromise(Effect.provide(program, world))

const rows = [
  ["Welch (Holm-adjusted p < 0.05), last look only", counts.welchLast, "5% (two-sided)"],
  ["Welch, stop at the first of 10 looks with p < 0.05", counts.welchAny, "none (peeking)"],
  ["Always-valid p (running minimum) < 0.05 at any of 10 looks", counts.sequentialAny, "at most 5%"],
  ["Decision `winner` at any of 10 looks (sequential)", counts.winnerAny, "at most 2.5% (one side)"],
  ["Bayesian chance to beat control > 95%, last look only", counts.bayesLast, "5% (one-sided)"],
  ["Bayesian chance to beat control > 95% at any of 10 looks", counts.bayesAny, "none (peeking)"],
  ["CUPED-adjusted p < 0.05 (revenue_cuped), last look only", counts.cupedLast, "5% (two-sided)"],
  ["Ratio metric, delta-method p < 0.05 (clicks per session), last look only", counts.ratioLast, "5% (two-sided)"]
]
console.log(
  `${experiments} A/A experiments, ${peeks} looks of ${perPeek} values per arm each, N(10, 2²), seed "aa-false-positives-18"\n`
)
console.log("| Rule | False positives | Rate | 95% interval | Nominal |")
console.log("|---|---:|---:|---|---|")
for (const [rule, k, nominal] of rows) {
  const [lo, hi] = wilson(k, experiments)
  console.log(`| ${rule} | ${k} / ${experiments} | ${pct(k / experiments)} | ${pct(lo)} to ${pct(hi)} | ${nominal} |`)
}
console.log(`\nCUPED's mean variance reduction on revenue_cuped: ${pct(counts.varianceReduction)} (expected 64%)`)
