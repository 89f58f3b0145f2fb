/**
 * Rules over an experiment's variant list that need more than one field: exactly one control,
 * shares summing to 100, distinct models, and a traffic re-split that keeps those rules. Pure
 * functions returning every issue with its field path, so the use case and the tests share them.
 */
import { Result } from "effect"
import { type FieldIssue, ValidationError } from "../shared/Errors.js"
import type { Experiment, Variant } from "./Experiment.js"

/** Cross-field rules of a variant list; returns every issue, with field paths. */
export const validateVariants = (variants: ReadonlyArray<Variant>): Array<FieldIssue> => {
  const issues: Array<FieldIssue> = []
  if (variants.length < 2) issues.push({ path: ["variants"], message: "needs at least two variants" })
  const controls = variants.filter((v) => v.isControl).length
  if (controls !== 1) issues.push({ path: ["variants"], message: `needs exactly one control, got ${controls}` })
  const total = variants.reduce((sum, v) => sum + v.trafficPct, 0)
  if (Math.abs(total - 100) > 1e-9) {
    issues.push({ path: ["variants"], message: `trafficPct must sum to 100, got ${total}` })
  }
  const seen = new Map<string, number>()
  variants.forEach((v, i) => {
    const first = seen.get(v.modelId)
    if (first !== undefined) {
      issues.push({ path: ["variants", i, "modelId"], message: `repeats the model of variants[${first}]` })
    } else seen.set(v.modelId, i)
  })
  return issues
}

export const controlIndex = (experiment: Pick<Experiment, "variants">): number =>
  experiment.variants.findIndex((v) => v.isControl)

/**
 * Gives variant i the share trafficPct[i]. The list must have one entry per variant, each within
 * [0, 100], summing to 100; the variants' models and control stay as they are (so only the
 * list-level issues of validateVariants apply, not the per-model ones).
 */
export const resplitTraffic = (
  variants: ReadonlyArray<Variant>,
  trafficPct: ReadonlyArray<number>
): Result.Result<Array<Variant>, ValidationError> => {
  if (trafficPct.length !== variants.length) {
    return Result.fail(
      new ValidationError({
        message: `trafficPct needs ${variants.length} entries`,
        issues: [{ path: ["trafficPct"], message: `needs ${variants.length} entries, one per variant` }]
      })
    )
  }
  const resplit = variants.map((v, i) => ({ ...v, trafficPct: trafficPct[i]! }))
  const issues = validateVariants(resplit).filter((i) => !(typeof i.path[2] === "string"))
  const bad = trafficPct.findIndex((p) => !(Number.isFinite(p) && p >= 0 && p <= 100))
  if (bad !== -1) issues.push({ path: ["trafficPct", bad], message: "must be between 0 and 100" })
  return issues.length > 0
    ? Result.fail(
      new ValidationError({ message: `Invalid traffic split: ${issues.map((i) => i.message).join("; ")}`, issues })
    )
    : Result.succeed(resplit)
}
