// Seeded outputs of the core's portable functions, printed as JSON: the cross-runtime test runs
// this in Node, Deno, Bun and workerd and requires every runtime to print the same thing.
import { ks2Samp, makeAssigner, makeLearner, makeRandom, psi, welchTTest } from "@org/ml-core"

const normals = (seed, n, mean = 0) => {
  const random = makeRandom(seed)
  return Array.from({ length: n }, () => random.normal(mean, 1))
}

export const seededOutputs = () => {
  const experiment = {
    seed: "cross-runtime",
    coverage: 0.9,
    mode: "ab",
    banditHistory: [],
    variants: [0.2, 0.3, 0.5].map((share, i) => ({
      modelId: `model-${i}`,
      isControl: i === 0,
      trafficPct: share * 100
    }))
  }
  const assign = makeAssigner(experiment)
  const assignments = Array.from({ length: 10_000 }, (_, i) => assign(`user-${i}`)).join(",")

  const baseline = normals(1, 5_000)
  const shifted = normals(2, 4_000, 0.05)
  const small = [normals(3, 300), normals(4, 299, 0.2)]
  const ks = {
    exactUnequal: ks2Samp(small[0], small[1], { method: "exact" }),
    asymp: ks2Samp(baseline, shifted, { method: "asymp" })
  }
  const psiResult = psi(baseline, shifted)
  const welch = welchTTest(small[0], small[1])

  const random = makeRandom("learner")
  const learner = makeLearner({
    kind: "logistic",
    optimizer: { type: "sgd", learningRate: 0.05 },
    features: { type: "schema", names: ["a", "b", "c"] }
  })
  const row = () => ({ a: random.normal(), b: random.normal(), c: random.uniform() })
  for (let i = 0; i < 2_000; i++) {
    const features = row()
    const label = features.a + 0.5 * features.b - features.c + 0.3 * random.normal() > 0 ? 1 : 0
    learner.learn({ features, label })
  }
  const predictions = Array.from({ length: 50 }, () => learner.predict(row()))
  return { assignments, ks, psi: psiResult, welch, predictions }
}
