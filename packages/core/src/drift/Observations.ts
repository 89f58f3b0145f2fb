/**
 * What clients send to a monitor: a baseline ({ feature: values[] }) and observations, as
 * columns ({ values: { feature: values[] } }) or rows ({ rows: [{ feature: value }] }). The
 * body schemas check only the envelope; each value is checked once, against its feature's type,
 * by `observationIssues`, so a batch of a million values is walked once and every bad value is
 * named by its path.
 */
import { Schema } from "effect"
import type { FieldIssue } from "../shared/Errors.js"
import type { Monitor } from "./Monitor.js"
import type { WindowValue } from "./ValueArrays.js"

/** How the docs describe one value: a number (numeric feature), a string (categorical) or null (missing). */
const windowValueJson = { anyOf: [{ type: "number" }, { type: "string" }, { type: "null" }] }

/**
 * Values per feature; each value is checked by `observationIssues`, not here. The check below
 * only documents the values (an array per feature) for /openapi.json and generated clients: it
 * runs once per body and walks nothing.
 */
const ValuesByFeature = Schema.Record(Schema.String, Schema.Unknown).check(
  Schema.makeFilter(() => true, {
    toJsonSchema: () => ({ additionalProperties: { type: "array", items: windowValueJson } })
  })
)

/** PUT .../baseline: { feature: values[] }. */
export const BaselineBody = ValuesByFeature

/** POST .../observations: columns or rows. */
export const ObservationsBody = Schema.Union([
  Schema.Struct({ values: ValuesByFeature }),
  Schema.Struct({
    rows: Schema.Array(Schema.Record(Schema.String, Schema.Unknown)).check(
      Schema.isMaxLength(100_000, { message: "must hold at most 100000 rows" })
    )
  })
])
export type ObservationsBody = typeof ObservationsBody.Type

export type ValuePath = (feature: string, index: number) => ReadonlyArray<string | number>

/** Every value that does not fit its feature (unknown features, non-arrays, wrong types), by path. */
export const observationIssues = (
  monitor: Monitor,
  values: Readonly<Record<string, ReadonlyArray<WindowValue>>>,
  path: ValuePath
): Array<FieldIssue> => {
  const issues: Array<FieldIssue> = []
  for (const [feature, list] of Object.entries(values)) {
    const spec = monitor.features.find((f) => f.name === feature)
    if (!spec) {
      issues.push({ path: [feature], message: `is not a feature of monitor ${monitor.id}` })
      continue
    }
    if (!Array.isArray(list)) {
      issues.push({ path: [feature], message: "must be an array of values" })
      continue
    }
    list.forEach((v, i) => {
      if (v === null) return
      if (spec.type === "numeric" && (typeof v !== "number" || !Number.isFinite(v))) {
        issues.push({
          path: path(feature, i),
          message: `must be a finite number or null, got ${JSON.stringify(v) ?? String(v)}`
        })
      }
      if (spec.type === "categorical" && typeof v !== "string") {
        issues.push({ path: path(feature, i), message: `must be a string or null, got ${JSON.stringify(v)}` })
      }
    })
  }
  return issues
}

/** Rows turned into columns: { feature: values[] } in row order. */
export const columnsOf = (
  rows: ReadonlyArray<Readonly<Record<string, WindowValue>>>
): Record<string, Array<WindowValue>> => {
  const columns: Record<string, Array<WindowValue>> = {}
  rows.forEach((row) => {
    for (const [feature, value] of Object.entries(row)) (columns[feature] ??= []).push(value)
  })
  return columns
}

/** The non-missing values and the share of missing ones (0 when there are no values). */
export const splitMissing = <A>(
  values: ReadonlyArray<A | null>
): { readonly present: Array<A>; readonly missingShare: number } => {
  const present = values.filter((v): v is A => v !== null)
  return { present, missingShare: values.length === 0 ? 0 : (values.length - present.length) / values.length }
}
