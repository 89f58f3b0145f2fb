/**
 * The drift tests a check runs, registered in one place. Each feature type needs exactly one
 * significance test (its corrected p-value decides whether the feature drifted) and one distance
 * test (its statistic sets the severity band); further tests of either type add statistics.
 * To add a test: write it in its own file next to this one, then list it here. Extra tests run
 * only for monitors that name them in `settings.extraTests`; they add statistics per feature to
 * reports and decide nothing.
 */
import { andersonDarlingTest } from "./AndersonDarling.js"
import { chiSquareTest } from "./ChiSquare.js"
import { cramerVonMisesTest } from "./CramerVonMises.js"
import type { CategoricalDriftTest, DriftTest, NumericDriftTest } from "./DriftTest.js"
import { energyTest } from "./Energy.js"
import { ksTest } from "./Ks.js"
import { categoricalPsiTest, numericPsiTest } from "./Psi.js"
import { wassersteinTest } from "./Wasserstein.js"

export const driftTests: ReadonlyArray<DriftTest> = [ksTest, numericPsiTest, chiSquareTest, categoricalPsiTest]

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
