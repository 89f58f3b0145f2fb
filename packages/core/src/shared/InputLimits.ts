/**
 * The bounds every request value is held to, in one place, so the schemas (and /openapi.json),
 * the use cases' checks and the README state the same numbers.
 *
 * Numbers that feed sums (metric values, drift observations, sample features, labels and
 * weights) are bounded in magnitude: summaries keep M2 and merge with `delta² · n_a · n_b / n`
 * (also in the Redis Lua script), so with |x| <= 1e120 and counts up to 2^53 the largest
 * intermediate, (2 · 1e120)² · 2^53 · 2^53 ≈ 3e272, stays far below the double range (1.8e308).
 */
import { Schema } from "effect"
import { describeValue } from "./DescribeValue.js"

export { describeValue }

/** The largest magnitude accepted for a number that feeds sums, means or variances. */
export const MAX_VALUE_MAGNITUDE = 1e120

/** How deeply a JSON request body may nest arrays and objects. */
export const MAX_JSON_DEPTH = 64

/** The message of a value beyond MAX_VALUE_MAGNITUDE (or not a finite number), naming the limit. */
export const boundedValueMessage = `must be a finite number from -${MAX_VALUE_MAGNITUDE} to ${MAX_VALUE_MAGNITUDE}`

/** Whether `value` is a finite number within ±MAX_VALUE_MAGNITUDE. */
export const isBoundedNumber = (value: unknown): value is number =>
  typeof value === "number" && value >= -MAX_VALUE_MAGNITUDE && value <= MAX_VALUE_MAGNITUDE

/** The issue with a number that feeds sums, naming the limit and the value; undefined when fine. */
export const boundedValueIssue = (value: unknown): string | undefined =>
  isBoundedNumber(value) ? undefined : `${boundedValueMessage}, got ${describeValue(value)}`

/** A finite number within ±MAX_VALUE_MAGNITUDE; the bound is documented as minimum and maximum. */
export const BoundedNumber = Schema.Finite.check(
  Schema.isBetween({ minimum: -MAX_VALUE_MAGNITUDE, maximum: MAX_VALUE_MAGNITUDE }, { message: boundedValueMessage })
)

/** The issue with an array longer than `max` items, naming the limit; undefined when fine. */
export const tooManyItems = (length: number, max: number, what: string): string | undefined =>
  length > max ? `must hold at most ${max} ${what}, got ${length}` : undefined

/**
 * The first position where `text` nests arrays and objects deeper than `maxDepth`, or -1. One
 * pass over the characters with a counter (brackets inside strings do not count), so hostile
 * nesting is refused before any recursive parser or formatter walks it.
 */
export const excessiveNesting = (text: string, maxDepth: number = MAX_JSON_DEPTH): number => {
  let depth = 0
  let inString = false
  for (let i = 0; i < text.length; i++) {
    const code = text.charCodeAt(i)
    if (inString) {
      if (code === 92 /* \ */) i++
      else if (code === 34 /* " */) inString = false
    } else if (code === 34) inString = true
    else if (code === 91 /* [ */ || code === 123 /* { */) {
      if (++depth > maxDepth) return i
    } else if (code === 93 /* ] */ || code === 125 /* } */) depth--
  }
  return -1
}
