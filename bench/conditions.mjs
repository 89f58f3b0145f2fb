// Local evaluation with targeting conditions, against the @growthbook/growthbook SDK's run() on
// the same experiments and the same users' attributes, in one run.
//
//   node bench/conditions.mjs          (after a build; no services needed)
//
// Three experiments (a condition of 3 operators; a nested $or/$and with $regex, $elemMatch and a
// version comparison; a condition with a hash attribute and a namespace), 100,000 users with
// attributes drawn once from a fixed seed. For each user and experiment, ours is the SDK's whole
// local-evaluation call (LocalEvaluator.assign: status, targeting, hashing, exposure counting);
// theirs is GrowthBookClient.runInlineExperiment with the same definition. Both are checked to
// agree on every user first. Issue target: ours at least 2x theirs.
import { GrowthBookClient } from "@growthbook/growthbook"
import { LocalEvaluator } from "@org/ml-sdk"
import { median, seededUniform } from "./lib.mjs"

const random = seededUniform(18)
const pick = (items) => items[Math.floor(random() * items.length)]
const users = Array.from({ length: 100_000 }, (_, i) => ({
  userId: `user-${i}`,
  attributes: {
    country: pick(["US", "DE", "AT", "FR", "CA", "JP"]),
    age: Math.floor(random() * 70),
    premium: random() < 0.3,
    appVersion: pick(["1.9.9", "2.0.0", "2.0.0-rc.1", "2.4.1", "v10.1.0"]),
    device: { os: pick(["ios", "android", "iPadOS", "windows"]), model: pick(["a", "b", "c"]) },
    tags: pick([["beta"], ["alpha", "beta"], [], ["staff"]]),
    company: `c${Math.floor(random() * 500)}`
  }
}))

const variants = (n) =>
  Array.from({ length: n }, (_, i) => ({ modelId: `m${i}`, isControl: i === 0, trafficPct: 100 / n }))
const definitions = [
  {
    id: "simple",
    seed: "s1",
    variants: variants(2),
    condition: { country: { $in: ["US", "DE", "AT"] }, age: { $gte: 18 } }
  },
  {
    id: "nested",
    seed: "s2",
    variants: variants(3),
    condition: {
      $or: [
        { $and: [{ "device.os": { $regex: "^i" } }, { appVersion: { $vgte: "2.0.0" } }] },
        { tags: { $elemMatch: { $eq: "beta" } }, premium: true }
      ]
    }
  },
  {
    id: "by-company",
    seed: "s3",
    variants: variants(2),
    condition: { country: { $nin: ["FR"] } },
    hashAttribute: "company",
    namespace: { id: "checkout", start: 0, end: 0.6 }
  }
]
const experiments = definitions.map((d) => ({
  coverage: 1,
  mode: "ab",
  banditHistory: [],
  status: "running",
  decision: null,
  ...d
}))
const growthbookExperiments = definitions.map((d) => ({
  key: d.id,
  seed: d.seed,
  hashVersion: 2,
  variations: d.variants.map((_, i) => i),
  weights: d.variants.map((v) => v.trafficPct / 100),
  coverage: 1,
  condition: d.condition,
  ...(d.hashAttribute ? { hashAttribute: d.hashAttribute } : {}),
  ...(d.namespace ? { namespace: [d.namespace.id, d.namespace.start, d.namespace.end] } : {})
}))

const local = new LocalEvaluator(
  { list: async () => experiments, recordExposures: async () => {}, recordMetrics: async () => {} },
  { refreshIntervalMs: 1e9, flushIntervalMs: 1e9 }
)
await local.whenReady()
const client = new GrowthBookClient({})

// Agreement first: the same users in and out, the same variants.
let inside = 0
for (const { attributes, userId } of users) {
  for (const [e, experiment] of experiments.entries()) {
    const ours = local.assign(experiment.id, userId, attributes)
    const theirs = client.runInlineExperiment(growthbookExperiments[e], { attributes: { ...attributes, id: userId } })
    if (ours.inExperiment !== theirs.inExperiment || (ours.inExperiment && ours.variant !== theirs.variationId)) {
      throw new Error(`disagreement on ${userId} in ${experiment.id}`)
    }
    if (ours.inExperiment) inside++
  }
}

// The attributes objects the GrowthBook call gets include the id, built once (not timed).
const growthbookUsers = users.map(({ attributes, userId }) => ({ attributes: { ...attributes, id: userId } }))
const rate = (fn) => {
  for (let i = 0; i < 10_000; i++) fn(i)
  const rounds = []
  for (let r = 0; r < 5; r++) {
    const start = performance.now()
    for (let i = 0; i < users.length; i++) fn(i)
    rounds.push((users.length * experiments.length) / ((performance.now() - start) / 1000))
  }
  return median(rounds)
}
const ids = experiments.map((e) => e.id)
const ours = rate((i) => {
  const { attributes, userId } = users[i]
  for (const id of ids) local.assign(id, userId, attributes)
})
const theirs = rate((i) => {
  const context = growthbookUsers[i]
  for (const experiment of growthbookExperiments) client.runInlineExperiment(experiment, context)
})
await local.close()

const fmt = (x) => Math.round(x).toLocaleString("en-US")
console.log(
  `users: ${fmt(users.length)} x ${experiments.length} experiments; in experiment: ${
    (inside / (users.length * experiments.length) * 100).toFixed(1)
  }% (identical to GrowthBook on every user)`
)
console.log(`ours (LocalEvaluator.assign with attributes):   ${fmt(ours)} evaluations/s`)
console.log(`GrowthBook SDK runInlineExperiment:             ${fmt(theirs)} evaluations/s`)
console.log(`ratio ours/GrowthBook: ${(ours / theirs).toFixed(2)}x (target >= 2x)`)
