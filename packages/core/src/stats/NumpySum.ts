/**
 * Sums in numpy's order, so results that go through long sums (distances over 100,000 values,
 * rank statistics) agree with scipy to the last bits: numpy adds a contiguous float64 array in
 * blocks of 8,192, each by pairwise summation (eight running sums per 128-value leaf, halving
 * above that), and the block sums one after another.
 */

const pairwise = (values: ArrayLike<number>, start: number, n: number): number => {
  if (n < 8) {
    let sum = 0
    for (let i = start; i < start + n; i++) sum += values[i]!
    return sum
  }
  if (n <= 128) {
    let r0 = values[start]!, r1 = values[start + 1]!, r2 = values[start + 2]!, r3 = values[start + 3]!
    let r4 = values[start + 4]!, r5 = values[start + 5]!, r6 = values[start + 6]!, r7 = values[start + 7]!
    const whole = n - (n % 8)
    let i = 8
    for (; i < whole; i += 8) {
      const at = start + i
      r0 += values[at]!
      r1 += values[at + 1]!
      r2 += values[at + 2]!
      r3 += values[at + 3]!
      r4 += values[at + 4]!
      r5 += values[at + 5]!
      r6 += values[at + 6]!
      r7 += values[at + 7]!
    }
    let sum = ((r0 + r1) + (r2 + r3)) + ((r4 + r5) + (r6 + r7))
    for (; i < n; i++) sum += values[start + i]!
    return sum
  }
  let half = Math.floor(n / 2)
  half -= half % 8
  return pairwise(values, start, half) + pairwise(values, start + half, n - half)
}

/** numpy.sum of the first `length` values (all by default). */
export const numpySum = (values: ArrayLike<number>, length = values.length): number => {
  const block = 8192
  let sum = 0
  for (let start = 0; start < length; start += block) sum += pairwise(values, start, Math.min(block, length - start))
  return sum
}

/** numpy.std (population, ddof = 0): the mean and the mean square deviation both summed as numpy does. */
export const numpyStd = (values: ArrayLike<number>): number => {
  const n = values.length
  const mean = numpySum(values) / n
  const squares = new Float64Array(n)
  for (let i = 0; i < n; i++) {
    const d = values[i]! - mean
    squares[i] = d * d
  }
  return Math.sqrt(numpySum(squares) / n)
}
