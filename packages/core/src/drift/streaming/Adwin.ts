/**
 * ADWIN (Bifet and Gavaldà 2007, the ADWIN2 variant) as River defines it (`river.drift.ADWIN`):
 * the stream's recent values are kept as an exponential histogram (rows of buckets of 1, 2, 4,
 * ... values, at most `maxBuckets` per row), and every `clock` values, once more than
 * `gracePeriod` arrived, each cut between two buckets splits the window in an older and a newer
 * part; when their means differ by more than the Hoeffding-style bound at confidence `delta`
 * (both parts at least `minWindowLength` long), the oldest bucket is dropped and the cuts are
 * tried again. Memory is O(maxBuckets x log(width)).
 */
import { checkFinite, invalid } from "../../stats/StatsError.js"
import type { StreamingDetector } from "./StreamingDetector.js"

export interface AdwinOptions {
  readonly delta: number
  /** Cuts are checked every `clock` values. */
  readonly clock: number
  readonly maxBuckets: number
  readonly minWindowLength: number
  /** No cut is checked before more than this many values arrived. */
  readonly gracePeriod: number
}

/** River's defaults. */
export const adwinDefaults: AdwinOptions = {
  delta: 0.002,
  clock: 32,
  maxBuckets: 5,
  minWindowLength: 5,
  gracePeriod: 10
}

export interface Adwin extends StreamingDetector {
  /** How many values the window holds. */
  readonly width: () => number
  /** The sum of the window's values. */
  readonly total: () => number
}

/** One row of the histogram: buckets of 2^row values each, oldest first (sums and squared deviations). */
interface Row {
  readonly totals: Array<number>
  readonly variances: Array<number>
}

const checkOptions = (o: AdwinOptions) => {
  if (!(o.delta > 0 && o.delta < 1)) invalid("delta", "must be in (0, 1)")
  for (const key of ["clock", "maxBuckets", "minWindowLength"] as const) {
    if (!Number.isInteger(o[key]) || o[key] < 1) invalid(key, "must be an integer >= 1")
  }
  if (!Number.isInteger(o.gracePeriod) || o.gracePeriod < 0) invalid("gracePeriod", "must be an integer >= 0")
}

export const makeAdwin = (options: Partial<AdwinOptions> = {}): Adwin => {
  const o = { ...adwinDefaults, ...options }
  checkOptions(o)
  let rows: Array<Row> = []
  let width = 0
  let total = 0
  // The sum of squared deviations from the window's mean.
  let variance = 0
  let tick = 0
  let detected = false

  const reset = () => {
    rows = [{ totals: [], variances: [] }]
    width = 0
    total = 0
    variance = 0
    tick = 0
    detected = false
  }
  reset()

  const insert = (value: number) => {
    rows[0]!.totals.push(value)
    rows[0]!.variances.push(0)
    width += 1
    if (width > 1) {
      const previousMean = total / (width - 1)
      variance += (width - 1) * (value - previousMean) * (value - previousMean) / width
    }
    total += value
    // A row holding maxBuckets + 1 buckets merges its two oldest into one bucket of the next row.
    for (let r = 0; r < rows.length; r++) {
      const row = rows[r]!
      if (row.totals.length !== o.maxBuckets + 1) break
      if (r + 1 === rows.length) rows.push({ totals: [], variances: [] })
      const size = 2 ** r
      const t1 = row.totals.shift()!
      const t2 = row.totals.shift()!
      const v1 = row.variances.shift()!
      const v2 = row.variances.shift()!
      const meanGap = t1 / size - t2 / size
      rows[r + 1]!.totals.push(t1 + t2)
      rows[r + 1]!.variances.push(v1 + v2 + size * size * meanGap * meanGap / (2 * size))
      if (rows[r + 1]!.totals.length <= o.maxBuckets) break
    }
  }

  /** Drops the oldest bucket; answers its size. */
  const dropOldest = (): number => {
    const r = rows.length - 1
    const row = rows[r]!
    const size = 2 ** r
    const bucketTotal = row.totals[0]!
    const bucketMean = bucketTotal / size
    width -= size
    total -= bucketTotal
    const windowMean = total / width
    variance -= row.variances[0]! +
      size * width * (bucketMean - windowMean) * (bucketMean - windowMean) / (size + width)
    row.totals.shift()
    row.variances.shift()
    if (row.totals.length === 0) rows.pop()
    return size
  }

  const isCut = (n0: number, n1: number, meanGap: number): boolean => {
    const deltaPrime = Math.log(2 * Math.log(width) / o.delta)
    const reciprocal = 1 / (n0 - o.minWindowLength + 1) + 1 / (n1 - o.minWindowLength + 1)
    const epsilon = Math.sqrt(2 * reciprocal * (variance / width) * deltaPrime) +
      (2 / 3) * deltaPrime * reciprocal
    return Math.abs(meanGap) > epsilon
  }

  /** Tries the cuts from the oldest end; drops the oldest bucket and starts again while one holds. */
  const reduce = (): boolean => {
    let changed = false
    let again = true
    while (again) {
      again = false
      let n0 = 0
      let n1 = width
      let u0 = 0
      let u1 = total
      scan: for (let r = rows.length - 1; r >= 0; r--) {
        const row = rows[r]!
        const size = 2 ** r
        for (let k = 0; k < row.totals.length; k++) {
          n0 += size
          n1 -= size
          u0 += row.totals[k]!
          u1 -= row.totals[k]!
          // The cut after the newest value would leave the newer part empty.
          if (r === 0 && k === row.totals.length - 1) break scan
          if (n1 >= o.minWindowLength && n0 >= o.minWindowLength && isCut(n0, n1, u0 / n0 - u1 / n1)) {
            changed = true
            again = true
            if (width > 0) dropOldest()
            break scan
          }
        }
      }
    }
    return changed
  }

  const update = (value: number): boolean => {
    checkFinite(value, "value")
    if (detected) reset()
    insert(value)
    tick += 1
    detected = tick % o.clock === 0 && width > o.gracePeriod ? reduce() : false
    return detected
  }

  return { update, driftDetected: () => detected, width: () => width, total: () => total }
}
