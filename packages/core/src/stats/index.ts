export { andersonKSamp, type AndersonKSampResult, andersonKSampSorted, significanceLevels } from "./AndersonDarling.js"
export { type ArmMoments, type BayesianLift, bayesianLift, type LiftPrior } from "./BayesianLift.js"
export { besselK } from "./Bessel.js"
export { energyDistance, energyDistanceSorted, wassersteinDistance, wassersteinDistanceSorted } from "./CdfDistance.js"
export {
  cramerVonMises2Samp,
  cramerVonMises2SampSorted,
  cvmLimitingCdf,
  type CvmMethod,
  type CvmResult
} from "./CramerVonMises.js"
export { beta, chiSquare, type Distribution, normal, studentT } from "./Distributions.js"
export { hellingerDistance, jensenShannonDistance, klDivergence } from "./Divergence.js"
export { fisherExact, type FisherExactResult } from "./FisherExact.js"

export {
  addRatioRow,
  type CupedRatioArm,
  type CupedRatioComparison,
  cupedRatioTest,
  emptyRatioMoments,
  mergeRatioMoments,
  type RatioMoments,
  type RatioRow,
  summarizeRatioRows
} from "./CupedRatio.js"
export { type CdfGap, largestCdfGap, sortedSample } from "./EmpiricalCdf.js"
export {
  benjaminiHochberg,
  chiSquareGoodnessOfFit,
  chiSquareIndependence,
  type ChiSquareResult,
  holmBonferroni,
  type IndependenceResult,
  type Interval,
  type ProportionsResult,
  sampleSizeForMeans,
  sampleSizeForProportions,
  type SampleSizeOptions,
  twoProportionZTest,
  type WelchResult,
  welchTTest
} from "./HypothesisTests.js"
export { smirnovSf } from "./Kolmogorov.js"
export {
  kolmogorovSurvival,
  type Ks1Reference,
  ks1Samp,
  ks2Samp,
  type KsMethod,
  type KsResult,
  kstwoCdf,
  kstwoSf,
  roundHalfEven
} from "./Ks.js"
export { numpyStd, numpySum } from "./NumpySum.js"
export {
  addPair,
  covariance,
  emptyPairedSummary,
  meanDifferenceX,
  meanDifferenceY,
  meanX,
  meanY,
  mergePairedSummaries,
  type PairedSummary,
  summarizePairs,
  varianceX,
  varianceY
} from "./PairedSummary.js"
export {
  type CupedResult,
  cupedTest,
  type RatioEstimate,
  ratioEstimate,
  ratioTest,
  type RatioTestResult
} from "./PairedTests.js"
export {
  type BinStrategy,
  categoricalPsi,
  type CategoricalPsiResult,
  emptyShareFill,
  histogram,
  psi,
  type PsiBin,
  type PsiBins,
  psiBins,
  type PsiResult,
  quantile,
  quantiles,
  splitPsi,
  type SplitPsiResult
} from "./Psi.js"
export { deterministicExp, deterministicLog, makeRandom, type Random } from "./Random.js"
export { type AucPermutationTest, aucPermutationTest, rocAuc } from "./RocAuc.js"
export { betaIncomplete, erf, erfc, gammaIncomplete, logBeta, logGamma } from "./Special.js"
export { StatsInputError } from "./StatsError.js"
export {
  addValue,
  emptySummary,
  meanDifference,
  mergeSummaries,
  standardDeviation,
  summarize,
  type Summary,
  variance
} from "./Summary.js"
export { type SymmetricEigen, symmetricEigen } from "./SymmetricEigen.js"
