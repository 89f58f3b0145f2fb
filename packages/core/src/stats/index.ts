export { StatsInputError } from "./StatsError.js"
export { beta, chiSquare, normal, studentT, type Distribution } from "./Distributions.js"
export { ks1Samp, ks2Samp, kolmogorovSurvival, kstwoCdf, kstwoSf, roundHalfEven, type Ks1Reference, type KsMethod, type KsResult } from "./Ks.js"
export { smirnovSf } from "./Kolmogorov.js"
export { betaIncomplete, erf, erfc, gammaIncomplete, logBeta, logGamma } from "./Special.js"
export {
  categoricalPsi, emptyShareFill, histogram, psi, psiBins, quantile, quantiles,
  type BinStrategy, type CategoricalPsiResult, type PsiBin, type PsiBins, type PsiResult
} from "./Psi.js"
export {
  benjaminiHochberg, chiSquareGoodnessOfFit, chiSquareIndependence, holmBonferroni, sampleSizeForMeans,
  sampleSizeForProportions, twoProportionZTest, welchTTest,
  type ChiSquareResult, type IndependenceResult, type Interval, type ProportionsResult, type SampleSizeOptions, type WelchResult
} from "./HypothesisTests.js"
export { addValue, emptySummary, meanDifference, mergeSummaries, standardDeviation, summarize, variance, type Summary } from "./Summary.js"
export { deterministicExp, deterministicLog, makeRandom, type Random } from "./Random.js"
