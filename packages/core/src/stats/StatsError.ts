/**
 * The one error the statistics functions raise: invalid input (empty sample, NaN or infinite
 * value, negative count, too few bins, probability outside [0, 1], ...) named precisely, so a
 * caller never receives a NaN result instead of an explanation.
 */

/**
 * A plain Error with a `_tag` (Effect's catchTag still finds it): the statistics carry no
 * dependency, so an edge bundle of `@org/ml-core/stats` holds no Effect code.
 */
export class StatsInputError extends Error {
  readonly _tag = "StatsInputError" as const
  /** The argument at fault, e.g. "a", "current[3]", "bins". */
  readonly field: string

  constructor(props: { readonly field: string; readonly message: string }) {
    super(props.message)
    this.name = "StatsInputError"
    this.field = props.field
  }
}

export const invalid = (field: string, problem: string): never => {
  throw new StatsInputError({ field, message: `${field}: ${problem}` })
}

/** Checks a sample: non-empty, every value finite. */
export const checkSample = (values: ArrayLike<number>, field: string, minLength = 1): void => {
  if (values.length < minLength) {
    invalid(field, minLength === 1 ? "must not be empty" : `needs at least ${minLength} values`)
  }
  for (let i = 0; i < values.length; i++) {
    if (!Number.isFinite(values[i])) invalid(`${field}[${i}]`, `must be a finite number, got ${values[i]}`)
  }
}

export const checkFinite = (value: number, field: string): void => {
  if (!Number.isFinite(value)) invalid(field, `must be a finite number, got ${value}`)
}

export const checkPositive = (value: number, field: string): void => {
  if (!(Number.isFinite(value) && value > 0)) invalid(field, `must be a finite number > 0, got ${value}`)
}

export const checkProbability = (value: number, field: string, { open = false } = {}): void => {
  const ok = open ? value > 0 && value < 1 : value >= 0 && value <= 1
  if (!ok || Number.isNaN(value)) invalid(field, `must be a probability in ${open ? "(0, 1)" : "[0, 1]"}, got ${value}`)
}

export const checkCount = (value: number, field: string): void => {
  if (!(Number.isInteger(value) && value >= 0)) invalid(field, `must be a non-negative integer count, got ${value}`)
}
