/**
 * The statistics a drift check computes, alone (`@org/ml-core/drift`): for an edge worker that
 * compares a window with a baseline itself, without monitors, stores or Effect.
 */
export { andersonKSamp } from "./AndersonDarling.js"
export { energyDistance, wassersteinDistance } from "./CdfDistance.js"
export { cramerVonMises2Samp } from "./CramerVonMises.js"
export { hellingerDistance, jensenShannonDistance, klDivergence } from "./Divergence.js"
export { fisherExact } from "./FisherExact.js"
export { benjaminiHochberg, chiSquareIndependence, twoProportionZTest } from "./HypothesisTests.js"
export { ks2Samp } from "./Ks.js"
export { categoricalPsi, psi, psiBins } from "./Psi.js"
export { StatsInputError } from "./StatsError.js"
