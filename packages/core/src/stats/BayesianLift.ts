/**
 * Bayesian comparison of a treatment with a control on the relative lift θ = (μ_t − μ_c) / |μ_c|,
 * GrowthBook's gbstats Gaussian ("effect") model: the data give θ̂ = (m_t − m_c) / |m_c| with the
 * delta-method variance v = s_t²/(n_t m_c²) + s_c² m_t²/(n_c m_c⁴), taken as a normal likelihood;
 * the prior on θ is flat (improper, gbstats' default: the posterior is N(θ̂, v)) or a Gaussian
 * N(mean, variance) combined by precision. From the normal posterior N(μ, σ²), in closed form:
 * the chance to beat the control (in the metric's goal direction), the expected loss (risk) of
 * choosing either arm, and the equal-tailed credible interval of θ.
 */
import { normal } from "./Distributions.js"
import { erfc } from "./Special.js"

/** Mean, sample variance (n − 1 denominator) and size of one arm's metric. */
export interface ArmMoments {
  readonly n: number
  readonly mean: number
  readonly variance: number
}

/** A Gaussian prior on the relative lift (GrowthBook's "proper prior"; e.g. mean 0, sd 0.3). */
export interface LiftPrior {
  readonly mean: number
  readonly variance: number
}

export interface BayesianLift {
  /** Posterior mean and standard deviation of the relative lift. */
  readonly expectedLift: number
  readonly liftSd: number
  /** Posterior probability that the treatment is better in the goal direction. */
  readonly chanceToBeatControl: number
  /**
   * Expected loss in relative lift of each choice: how much worse the chosen arm is than the
   * other, averaged over the posterior (0 where it is better): E[max(loss, 0)].
   */
  readonly riskOfChoosingTreatment: number
  readonly riskOfChoosingControl: number
  /** Equal-tailed posterior interval of the relative lift with mass 1 − alpha. */
  readonly credibleInterval: { readonly lower: number; readonly upper: number }
}

const INV_SQRT_2PI = 0.3989422804014327

/** E[max(X, 0)] for X ~ N(mu, sigma²): mu Φ(mu/σ) + σ φ(mu/σ). */
const positivePartMean = (mu: number, sigma: number): number => {
  const z = mu / sigma
  const density = INV_SQRT_2PI * Math.exp(-0.5 * z * z)
  return mu * 0.5 * erfc(-z * Math.SQRT1_2) + sigma * density
}

/**
 * The posterior summaries, or why there are none: a control mean of 0 (no relative lift), fewer
 * than two values in an arm, or no variance in either arm (a flat prior then has no posterior).
 */
export const bayesianLift = (
  treatment: ArmMoments,
  control: ArmMoments,
  options: { readonly alpha: number; readonly maximize: boolean; readonly prior?: LiftPrior | undefined }
): BayesianLift | string => {
  if (treatment.n < 2 || control.n < 2) return "each arm needs at least two values"
  if (control.mean === 0) return "the control mean is 0, so the relative lift is undefined"
  const mc = control.mean
  const lift = (treatment.mean - mc) / Math.abs(mc)
  const dataVariance = treatment.variance / (treatment.n * mc * mc)
    + (control.variance * treatment.mean * treatment.mean) / (control.n * mc * mc * mc * mc)
  const { prior } = options
  const precision = (dataVariance > 0 ? 1 / dataVariance : 0) + (prior ? 1 / prior.variance : 0)
  if (!(precision > 0) || !Number.isFinite(precision)) {
    return "neither arm varies, so the lift has no posterior spread"
  }
  // No spread in the data (a proper prior alone): gbstats keeps the prior, as here.
  const mu = !prior ? lift : dataVariance > 0
    ? (lift / dataVariance + prior.mean / prior.variance) / precision
    : prior.mean
  const sigma = Math.sqrt(1 / precision)
  if (!Number.isFinite(mu) || !(sigma > 0)) return "the lift's posterior is not finite for these summaries"
  const posterior = normal(mu, sigma)
  // Goal maximize: choosing the control forgoes max(θ, 0), choosing the treatment costs max(−θ, 0).
  const positiveLift = positivePartMean(mu, sigma)
  const negativeLift = positivePartMean(-mu, sigma)
  return {
    expectedLift: mu,
    liftSd: sigma,
    chanceToBeatControl: options.maximize ? posterior.sf(0) : posterior.cdf(0),
    riskOfChoosingTreatment: options.maximize ? negativeLift : positiveLift,
    riskOfChoosingControl: options.maximize ? positiveLift : negativeLift,
    credibleInterval: {
      lower: posterior.quantile(options.alpha / 2),
      upper: posterior.quantileUpper(options.alpha / 2)
    }
  }
}
