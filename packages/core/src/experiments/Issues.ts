/**
 * How the A/B test rules report bad input: every issue with its field path, gathered into one
 * ValidationError whose message lists them all ("Invalid metrics: 1.value: ...; 2.modelId: ..."),
 * so a caller fixes a request in one round trip.
 */
import { type FieldIssue, ValidationError } from "../shared/Errors.js"

export const invalidInput = (what: string, issues: ReadonlyArray<FieldIssue>): ValidationError =>
  new ValidationError({
    message: `Invalid ${what}: ${issues.map((i) => `${i.path.join(".")}: ${i.message}`).join("; ")}`,
    issues
  })
