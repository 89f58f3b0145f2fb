/**
 * The drift tests a check runs, registered in one place. For each feature type, the first
 * significance test listed (its corrected p-value decides whether the feature drifted) and the
 * first distance test listed (its statistic sets the severity band) decide, and they must apply
 * to every feature; the tests listed after them add statistics to reports. Extra tests (costlier,
 * over the whole baseline sample) run only for monitors that name them in `settings.extraTests`;
 * they add statistics too and decide nothing.
 * To add a test: write it in its own file next to this one, then list it here.
 */
import { andersonDarlingTest } from "./AndersonDarling.js"
import { chiSquareTest } from "./ChiSquare.js"
import { cramerVonMisesTest } from "./CramerVonMises.js"
import type { CategoricalDriftTest, DriftTest, NumericDriftTest } from "./DriftTest.js"
import { energyTest } from "./Energy.js"
import { categoricalFisherExactTest, numericFisherExactTest } from "./FisherExact.js"
import { categoricalHellingerTest, numericHellingerTest } from "./Hellinger.js"
import { categoricalJensenShannonTest, numericJensenShannonTest } from "./JensenShannon.js"
import { categoricalKlDivergenceTest, numericKlDivergenceTest } from "./KlDivergence.js"
import { ksTest } from "./Ks.js"
import { categoricalPsiTest, numericPsiTest } from "./Psi.js"
import { wassersteinTest } from "./Wasserstein.js"
import { categoricalZTest, numericZTest } from "./ZTest.js"

export const driftTests: ReadonlyArray<DriftTest> = [
  ksTest,
  numericPsiTest,
  chiSquareTest,
  categoricalPsiTest,
  numericJensenShannonTest,
  categoricalJensenShannonTest,
  numericKlDivergenceTest,
  categoricalKlDivergenceTest,
  numericHellingerTest,
  categoricalHellingerTest,
  numericZTest,
  categoricalZTest,
  numericFisherExactTest,
  categoricalFisherExactTest
]

export const numericTests: ReadonlyArray<NumericDriftTest> = driftTests.filter(
  (t): t is NumericDriftTest => t.appliesTo === "numeric"
)
export const categoricalTests: ReadonlyArray<CategoricalDriftTest> = driftTests.filter(
  (t): t is CategoricalDriftTest => t.appliesTo === "categorical"
)

export const extraDriftTests: ReadonlyArray<DriftTest> = [
  wassersteinTest,
  energyTest,
  cramerVonMisesTest,
  andersonDarlingTest
]
