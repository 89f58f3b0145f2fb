/**
 * How baseline and window rows become numbers for the multivariate detectors. Numeric features
 * are standardized with the baseline rows' mean and population standard deviation (as
 * scikit-learn's StandardScaler, which NannyML uses; a constant feature keeps scale 1) and a
 * missing value becomes the baseline mean (0 after standardizing, NannyML's mean imputation).
 * Categorical features become one-hot columns over the baseline's most frequent categories plus
 * one "other" column for the rest and for categories the baseline never saw; missing is all zero.
 */
import type { FeatureSpec } from "../Monitor.js"
import type { WindowValue } from "../ValueArrays.js"

/** Rows as columns: { feature: values[] }, every column the same length. */
export type RowColumns = Readonly<Record<string, ReadonlyArray<WindowValue>>>

/** The most categories of one feature that get their own one-hot column. */
export const MAX_ONE_HOT_CATEGORIES = 20

export interface NumericScaling {
  readonly name: string
  readonly mean: number
  readonly scale: number
}

export interface OneHot {
  readonly name: string
  readonly categories: ReadonlyArray<string>
}

export interface RowEncoding {
  readonly numeric: ReadonlyArray<NumericScaling>
  readonly categorical: ReadonlyArray<OneHot>
}

/** The number of rows of `columns` (the length of its columns; 0 without any). */
export const rowCount = (columns: RowColumns, names: ReadonlyArray<string>): number =>
  names.length === 0 ? 0 : Math.min(...names.map((name) => columns[name]?.length ?? 0))

/** Fits the encoding of `features` on the baseline rows. */
export const fitRowEncoding = (features: ReadonlyArray<FeatureSpec>, baseline: RowColumns): RowEncoding => {
  const numeric: Array<NumericScaling> = []
  const categorical: Array<OneHot> = []
  for (const spec of features) {
    const values = baseline[spec.name] ?? []
    if (spec.type === "numeric") {
      let count = 0
      let sum = 0
      for (const v of values) {
        if (typeof v === "number") {
          count++
          sum += v
        }
      }
      const mean = count === 0 ? 0 : sum / count
      let squares = 0
      for (const v of values) if (typeof v === "number") squares += (v - mean) ** 2
      const sd = count === 0 ? 0 : Math.sqrt(squares / count)
      numeric.push({ name: spec.name, mean, scale: sd > 0 ? sd : 1 })
    } else {
      const counts = new Map<string, number>()
      for (const v of values) if (typeof v === "string") counts.set(v, (counts.get(v) ?? 0) + 1)
      // Most frequent first, ties by name, so the columns do not depend on row order.
      const categories = [...counts].sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0))
        .slice(0, MAX_ONE_HOT_CATEGORIES).map(([category]) => category)
      categorical.push({ name: spec.name, categories })
    }
  }
  return { numeric, categorical }
}

/** The standardized numeric features of `rows` rows, row-major (rows x numeric features). */
export const standardizedNumeric = (encoding: RowEncoding, columns: RowColumns, rows: number): Float64Array => {
  const d = encoding.numeric.length
  const out = new Float64Array(rows * d)
  encoding.numeric.forEach(({ mean, name, scale }, j) => {
    const values = columns[name] ?? []
    for (let i = 0; i < rows; i++) {
      const v = values[i]
      out[i * d + j] = typeof v === "number" ? (v - mean) / scale : 0
    }
  })
  return out
}

/** How many one-hot columns the categorical features take (each: its categories and "other"). */
export const oneHotWidth = (encoding: RowEncoding): number =>
  encoding.categorical.reduce((width, f) => width + f.categories.length + 1, 0)

/** The one-hot columns of `rows` rows, row-major (rows x oneHotWidth). */
export const oneHotColumns = (encoding: RowEncoding, columns: RowColumns, rows: number): Float64Array => {
  const width = oneHotWidth(encoding)
  const out = new Float64Array(rows * width)
  let offset = 0
  for (const { categories, name } of encoding.categorical) {
    const index = new Map(categories.map((c, k) => [c, k]))
    const values = columns[name] ?? []
    for (let i = 0; i < rows; i++) {
      const v = values[i]
      if (typeof v !== "string") continue
      out[i * width + offset + (index.get(v) ?? categories.length)] = 1
    }
    offset += categories.length + 1
  }
  return out
}
