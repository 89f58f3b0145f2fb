/**
 * Domain classifier: can a model tell window rows from baseline rows? The core's logistic
 * learner (AdaGrad, a few seeded epochs, classes weighted to balance) is trained on a stratified
 * half of both sets and scores the other half; the held-out ROC AUC is 0.5 when the window looks
 * like the baseline. Its inputs are the standardized numeric features, their squares and pairwise
 * products (so a changed variance or correlation is linearly separable, which a plain linear model
 * of the raw features would miss), and the categorical one-hot columns. The p-value permutes the
 * held-out labels against the held-out scores: the classifier never saw those rows, so under "no
 * drift" every labelling is equally likely and the test is exact, at the cost of one sort.
 */
import { makeLearner } from "../../learning/learners/Learner.js"
import { makeRandom, type Random } from "../../stats/Random.js"
import { aucPermutationTest } from "../../stats/RocAuc.js"
import { invalid } from "../../stats/StatsError.js"

/** Pairwise products are used up to this many numeric features (820 products); beyond, squares only. */
export const MAX_FEATURES_FOR_PRODUCTS = 40

export interface DomainClassifierOptions {
  readonly permutations: number
  readonly epochs: number
  readonly learningRate: number
  readonly seed: string
}

export interface DomainClassifierResult {
  readonly auc: number
  readonly pValue: number
  readonly permutations: number
  readonly trainRows: number
  readonly testRows: number
  readonly inputs: number
}

/**
 * The classifier's input row for standardized numeric values `z` (d of them) and one-hot values
 * `h`: z, z^2, the products z_i z_j (i < j, when d <= MAX_FEATURES_FOR_PRODUCTS), then h.
 */
const expand = (z: Float64Array, zOffset: number, d: number, h: Float64Array, hOffset: number, width: number) => {
  const products = d <= MAX_FEATURES_FOR_PRODUCTS ? (d * (d - 1)) / 2 : 0
  const out = new Float64Array(2 * d + products + width)
  let k = 0
  for (let j = 0; j < d; j++) out[k++] = z[zOffset + j]!
  for (let j = 0; j < d; j++) out[k++] = z[zOffset + j]! ** 2
  if (products > 0) {
    for (let i = 0; i < d; i++) for (let j = i + 1; j < d; j++) out[k++] = z[zOffset + i]! * z[zOffset + j]!
  }
  for (let j = 0; j < width; j++) out[k++] = h[hOffset + j]!
  return out
}

/** Indices 0..n-1 in a seeded random order (Fisher-Yates). */
const shuffled = (n: number, random: Random): Array<number> => {
  const order = Array.from({ length: n }, (_, i) => i)
  for (let i = n - 1; i > 0; i--) {
    const j = Math.floor(random.uniform() * (i + 1))
    const swap = order[i]!
    order[i] = order[j]!
    order[j] = swap
  }
  return order
}

export interface EncodedRows {
  /** Standardized numeric values, row-major (rows x numericFeatures). */
  readonly numeric: Float64Array
  /** One-hot values, row-major (rows x oneHotWidth). */
  readonly oneHot: Float64Array
  readonly rows: number
}

/** Trains the classifier on half of each set and tests it on the other half. */
export const domainClassifierDrift = (input: {
  readonly baseline: EncodedRows
  readonly window: EncodedRows
  readonly numericFeatures: number
  readonly oneHotWidth: number
  readonly options: DomainClassifierOptions
}): DomainClassifierResult => {
  const { baseline, numericFeatures: d, oneHotWidth: width, options, window } = input
  if (d + width === 0) invalid("features", "the domain classifier needs at least one feature")
  if (baseline.rows < 4 || window.rows < 4) {
    invalid(
      "rows",
      `the domain classifier needs at least 4 baseline and 4 window rows, got ${baseline.rows} and ${window.rows}`
    )
  }
  const random = makeRandom(options.seed)
  const rowsOf = (set: EncodedRows) =>
    Array.from({ length: set.rows }, (_, i) => expand(set.numeric, i * d, d, set.oneHot, i * width, width))
  const baselineRows = rowsOf(baseline)
  const windowRows = rowsOf(window)
  // Stratified: half of each set (rounded down) trains, the rest tests.
  const baselineOrder = shuffled(baseline.rows, random)
  const windowOrder = shuffled(window.rows, random)
  const baselineTrain = Math.floor(baseline.rows / 2)
  const windowTrain = Math.floor(window.rows / 2)
  const train = [
    ...baselineOrder.slice(0, baselineTrain).map((i) => ({ row: baselineRows[i]!, label: 0 })),
    ...windowOrder.slice(0, windowTrain).map((i) => ({ row: windowRows[i]!, label: 1 }))
  ]
  const test = [
    ...baselineOrder.slice(baselineTrain).map((i) => ({ row: baselineRows[i]!, label: 0 })),
    ...windowOrder.slice(windowTrain).map((i) => ({ row: windowRows[i]!, label: 1 }))
  ]
  const inputs = baselineRows[0]!.length
  const learner = makeLearner({
    kind: "logistic",
    optimizer: { type: "adagrad", learningRate: options.learningRate },
    features: { type: "schema", names: Array.from({ length: inputs }, (_, j) => `x${j}`) }
  })
  // Class weights balance the two sets, so an unequal baseline and window do not bias the fit.
  const weightOf = [train.length / (2 * baselineTrain), train.length / (2 * windowTrain)]
  for (let epoch = 0; epoch < options.epochs; epoch++) {
    for (const i of shuffled(train.length, random)) {
      const sample = train[i]!
      learner.learnVector({ values: sample.row }, sample.label, weightOf[sample.label]!)
    }
  }
  const scores = test.map((sample) => learner.predictVector({ values: sample.row }))
  const { auc, pValue } = aucPermutationTest(
    scores,
    test.map((sample) => sample.label),
    options.permutations,
    `${options.seed}:permutations`
  )
  return { auc, pValue, permutations: options.permutations, trainRows: train.length, testRows: test.length, inputs }
}
