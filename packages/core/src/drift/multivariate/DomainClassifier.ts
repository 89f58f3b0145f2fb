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

/** How many inputs a row expands to: z, z^2, the products (up to MAX_FEATURES_FOR_PRODUCTS), one-hot. */
const expandedWidth = (d: number, width: number) =>
  2 * d + (d <= MAX_FEATURES_FOR_PRODUCTS ? (d * (d - 1)) / 2 : 0) + width

/**
 * Writes the classifier's input for row `i` of `set` into `out`: z, z^2, the products z_i z_j
 * (i < j, when d <= MAX_FEATURES_FOR_PRODUCTS), then the one-hot values. Rows are expanded on
 * demand into one buffer, so memory stays at the encoded rows whatever the expansion's size.
 */
const expandInto = (out: Float64Array, set: EncodedRows, i: number, d: number, width: number) => {
  const z = set.numeric
  const offset = i * d
  let k = 0
  for (let j = 0; j < d; j++) out[k++] = z[offset + j]!
  for (let j = 0; j < d; j++) out[k++] = z[offset + j]! ** 2
  if (d <= MAX_FEATURES_FOR_PRODUCTS) {
    for (let a = 0; a < d; a++) for (let b = a + 1; b < d; b++) out[k++] = z[offset + a]! * z[offset + b]!
  }
  for (let j = 0; j < width; j++) out[k++] = set.oneHot[i * width + j]!
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
  // Stratified: half of each set (rounded down) trains, the rest tests.
  const baselineOrder = shuffled(baseline.rows, random)
  const windowOrder = shuffled(window.rows, random)
  const baselineTrain = Math.floor(baseline.rows / 2)
  const windowTrain = Math.floor(window.rows / 2)
  const train = [
    ...baselineOrder.slice(0, baselineTrain).map((i) => ({ set: baseline, i, label: 0 })),
    ...windowOrder.slice(0, windowTrain).map((i) => ({ set: window, i, label: 1 }))
  ]
  const test = [
    ...baselineOrder.slice(baselineTrain).map((i) => ({ set: baseline, i, label: 0 })),
    ...windowOrder.slice(windowTrain).map((i) => ({ set: window, i, label: 1 }))
  ]
  const inputs = expandedWidth(d, width)
  const row = new Float64Array(inputs)
  const learner = makeLearner({
    kind: "logistic",
    optimizer: { type: "adagrad", learningRate: options.learningRate },
    features: { type: "schema", names: Array.from({ length: inputs }, (_, j) => `x${j}`) }
  })
  // Class weights balance the two sets, so an unequal baseline and window do not bias the fit.
  const weightOf = [train.length / (2 * baselineTrain), train.length / (2 * windowTrain)]
  for (let epoch = 0; epoch < options.epochs; epoch++) {
    for (const k of shuffled(train.length, random)) {
      const sample = train[k]!
      expandInto(row, sample.set, sample.i, d, width)
      learner.learnVector({ values: row }, sample.label, weightOf[sample.label]!)
    }
  }
  const scores = test.map((sample) => {
    expandInto(row, sample.set, sample.i, d, width)
    return learner.predictVector({ values: row })
  })
  const { auc, pValue } = aucPermutationTest(
    scores,
    test.map((sample) => sample.label),
    options.permutations,
    `${options.seed}:permutations`
  )
  return { auc, pValue, permutations: options.permutations, trainRows: train.length, testRows: test.length, inputs }
}
