// Simulated safe rollouts through the A/B use case on the memory stores: how often a guardrail
// pauses an experiment whose treatment is not worse (A/A: false pauses), and how often (and how
// soon) it pauses one that is (power). Every look is a real safe-rollout check (AbTests
// checkSafeRollout, the always-valid mSPRT of SafeRollout.ts). Fixed seed: the README table is
// reproduced exactly.
//
//   node bench/aa-guardrail-pauses.mjs            (after a build; about a minute)
//   ML_AA_EXPERIMENTS=200 node bench/aa-guardrail-pauses.mjs
//
// Each experiment: two variants, alpha 0.05, two guardrails (latency_ms: an increase is bad;
// conversion: a decrease is bad), so each is tested at 0.05 / 2; 20 looks, before each 100
// values per arm and guardrail. A/A: both arms N(100, 10²) and N(0.3, 0.1²). Degraded: the
// treatment's latency is N(103, 10²) (0.3 standard deviations worse).
import { AbTests, ExperimentStore, makeRandom, ModelRegistry } from "@org/ml-core"
import { Effect, Layer } from "effect"
import { pct, twoModelVersions, wilson } from "./aa-lib.mjs"

const experiments = Number(process.env.ML_AA_EXPERIMENTS ?? 1000)
const looks = 20
const perLook = 100
const random = makeRandom("aa-guardrail-pauses-18")

const world = AbTests.layer({ ...AbTests.defaultAbTestSettings, minSamplesPerVariant: 100 }).pipe(
  Layer.provideMerge(ExperimentStore.layerMemory),
  Layer.provideMerge(ModelRegistry.layerMemory())
)

const simulate = (ab, ids, latencyShift) =>
  Effect.gen(function*() {
    let paused = 0
    const pausedAtLook = []
    for (let e = 0; e < experiments; e++) {
      const created = yield* ab.createExperiment({
        name: `guarded ${e}`,
        targetMetric: "revenue",
        alpha: 0.05,
        stickyAssignment: false,
        variants: ids.map((modelId, i) => ({ modelId, isControl: i === 0, trafficPct: 50 })),
        guardrails: [{ metric: "latency_ms", direction: "increase" }, { metric: "conversion", direction: "decrease" }]
      })
      yield* ab.startExperiment(created.id)
      for (let look = 1; look <= looks; look++) {
        const observations = []
        ids.forEach((modelId, variant) => {
          for (let k = 0; k < perLook; k++) {
            observations.push({ modelId, metric: "latency_ms", value: random.normal(100 + variant * latencyShift, 10) })
            observations.push({ modelId, metric: "conversion", value: random.normal(0.3, 0.1) })
          }
        })
        yield* ab.recordMetrics(created.id, observations)
        const checked = yield* ab.checkSafeRollout(created.id)
        if (checked.status === "paused") {
          paused += 1
          pausedAtLook.push(look)
          break
        }
      }
    }
    return { paused, pausedAtLook }
  })

const program = Effect.gen(function*() {
  const registry = yield* ModelRegistry.ModelRegistry
  const ab = yield* AbTests.AbTests
  const ids = yield* twoModelVersions(registry, "guarded")
  return { aa: yield* simulate(ab, ids, 0), degraded: yield* simulate(ab, ids, 3) }
})

const { aa, degraded } = await Effect.runPromise(Effect.provide(program, world))

const median = (xs) => (xs.length === 0 ? "-" : [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)])
console.log(
  `${experiments} experiments per row, ${looks} looks of ${perLook} values per arm and guardrail, ` +
    `two guardrails, alpha 0.05, seed "aa-guardrail-pauses-18"\n`
)
console.log("| Treatment | Paused | Rate | 95% interval | Median look of the pause |")
console.log("|---|---:|---:|---|---:|")
for (const [label, r] of [["A/A (not worse)", aa], ["latency 0.3 sd worse", degraded]]) {
  const [lo, hi] = wilson(r.paused, experiments)
  console.log(
    `| ${label} | ${r.paused} / ${experiments} | ${pct(r.paused / experiments)} | ${pct(lo)} to ${pct(hi)} | ${
      median(r.pausedAtLook)
    } |`
  )
}
