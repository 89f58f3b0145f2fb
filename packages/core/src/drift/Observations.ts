/**
 * What clients send to a monitor: a baseline ({ feature: values[] }) and observations, as
 * columns ({ values: { feature: values[] } }) or rows ({ rows: [{ feature: value }] }). The
 * body schemas check only the envelope and its sizes; each value is checked once, against its
 * feature's type, by `observationIssues`, so a batch is walked once and every bad value is named
 * by its path.
 */
import { Schema } from "effect"
import { signatureChecker } from "../registry/Signature.js"
import type { FieldIssue } from "../shared/Errors.js"
import { boundedValueMessage, describeValue, isBoundedNumber, tooManyItems } from "../shared/InputLimits.js"
import { isPlainObject, plainKeyCount } from "../shared/PlainJson.js"
import { MAX_FEATURES_PER_MONITOR, type Monitor } from "./Monitor.js"
import type { WindowValue } from "./ValueArrays.js"

/** The most values one observations request may carry per feature. */
export const MAX_VALUES_PER_FEATURE = 100_000
/** The most values one baseline may be frozen from per feature (larger ones keep a reservoir sample). */
export const MAX_BASELINE_VALUES = 1_000_000
/** The most rows one observations request may carry. */
export const MAX_ROWS_PER_BATCH = 100_000

/** How the docs describe one value: a number (numeric feature), a string (categorical) or null (missing). */
const windowValueJson = { anyOf: [{ type: "number" }, { type: "string" }, { type: "null" }] }

/** The per-feature arrays longer than `maxValues`, each named by its feature (one pass over the keys). */
const overlongArrays = (maxValues: number) => (input: Readonly<Record<string, unknown>>) => {
  const issues: Array<{ path: [string]; issue: string }> = []
  for (const feature of Object.keys(input)) {
    const list = input[feature]
    const problem = Array.isArray(list) ? tooManyItems(list.length, maxValues, "values") : undefined
    if (problem !== undefined) issues.push({ path: [feature], issue: problem })
  }
  return issues
}

/**
 * Values per feature; each value is checked by `observationIssues`, not here. The checks below
 * bound the number of features and of values per feature (one pass over the keys, no value is
 * walked) and document the shape for /openapi.json and generated clients.
 */
const valuesByFeature = (maxValues: number) =>
  Schema.Record(Schema.String, Schema.Unknown).check(
    Schema.isMaxProperties(MAX_FEATURES_PER_MONITOR, {
      message: `must hold at most ${MAX_FEATURES_PER_MONITOR} features`
    }),
    Schema.makeFilter(overlongArrays(maxValues), {
      toJsonSchema: () => ({ additionalProperties: { type: "array", items: windowValueJson, maxItems: maxValues } })
    })
  )

/** PUT .../baseline: { feature: values[] }. */
export const BaselineBody = valuesByFeature(MAX_BASELINE_VALUES)

/** One row of observations: { feature: value }, at most one value per feature of the monitor. */
const ObservationRow = Schema.Record(Schema.String, Schema.Unknown).check(
  Schema.isMaxProperties(MAX_FEATURES_PER_MONITOR, {
    message: `must hold at most ${MAX_FEATURES_PER_MONITOR} features`
  })
)

/** POST .../observations: columns or rows. */
export const ObservationsBody = Schema.Union([
  Schema.Struct({ values: valuesByFeature(MAX_VALUES_PER_FEATURE) }),
  Schema.Struct({
    rows: Schema.Array(ObservationRow).check(
      Schema.isMaxLength(MAX_ROWS_PER_BATCH, { message: `must hold at most ${MAX_ROWS_PER_BATCH} rows` })
    )
  })
])
export type ObservationsBody = typeof ObservationsBody.Type

/**
 * Whether a parsed JSON body is a rows body `ObservationsBody` accepts exactly as it is: an object
 * whose only key is `rows`, an array of at most MAX_ROWS_PER_BATCH plain objects with at most
 * MAX_FEATURES_PER_MONITOR keys each. Allocates nothing; true only where decoding would succeed
 * with an equal value (test/observations-body.test.ts compares it with the schema), so Mount hands
 * such a body over without the schema's walk over every row (BodySpec.acceptsAsIs).
 */
export const isRowsBodyAsIs = (body: unknown): boolean => {
  if (!isPlainObject(body) || plainKeyCount(body) !== 1) return false
  const rows: unknown = (body as { readonly rows?: unknown }).rows
  if (!Array.isArray(rows) || rows.length > MAX_ROWS_PER_BATCH) return false
  for (let i = 0; i < rows.length; i++) {
    const row: unknown = rows[i]
    if (!isPlainObject(row)) return false
    const keys = plainKeyCount(row)
    if (keys < 0 || keys > MAX_FEATURES_PER_MONITOR) return false
  }
  return true
}

/**
 * A monitor's features by name, built once per monitor record (a monitor never changes once
 * created, and stores hand out the record they keep), not once per request.
 */
const featureMaps = new WeakMap<Monitor, ReadonlyMap<string, Monitor["features"][number]>>()
const featuresByName = (monitor: Monitor): ReadonlyMap<string, Monitor["features"][number]> => {
  let specs = featureMaps.get(monitor)
  if (specs === undefined) {
    specs = new Map(monitor.features.map((f) => [f.name, f]))
    featureMaps.set(monitor, specs)
  }
  return specs
}

export type ValuePath = (feature: string, index: number) => ReadonlyArray<string | number>

/**
 * Every value that does not fit its feature (unknown features, non-arrays, wrong types, numbers
 * beyond the bound, too many values), by path. Only own keys are read and features are looked
 * up in a Map, so `constructor` or `__proto__` is an ordinary (declared or unknown) feature name.
 */
export const observationIssues = (
  monitor: Monitor,
  values: Readonly<Record<string, ReadonlyArray<WindowValue>>>,
  path: ValuePath,
  maxValues: number = MAX_VALUES_PER_FEATURE
): Array<FieldIssue> => {
  const issues: Array<FieldIssue> = []
  const specs = featuresByName(monitor)
  for (const feature of Object.keys(values)) {
    const list = values[feature]
    const spec = specs.get(feature)
    if (!spec) {
      issues.push({ path: [feature], message: `is not a feature of monitor ${monitor.id}` })
      continue
    }
    if (!Array.isArray(list)) {
      issues.push({ path: [feature], message: "must be an array of values" })
      continue
    }
    const tooMany = tooManyItems(list.length, maxValues, "values")
    if (tooMany !== undefined) {
      issues.push({ path: [feature], message: tooMany })
      continue
    }
    // The type is tested once per feature, not per value.
    if (spec.type === "numeric") {
      for (let i = 0; i < list.length; i++) {
        const v: unknown = list[i]
        if (v !== null && !isBoundedNumber(v)) {
          issues.push({ path: path(feature, i), message: `${boundedValueMessage} or null, got ${describeValue(v)}` })
        }
      }
    } else {
      for (let i = 0; i < list.length; i++) {
        const v: unknown = list[i]
        if (v !== null && typeof v !== "string") {
          issues.push({ path: path(feature, i), message: `must be a string or null, got ${describeValue(v)}` })
        }
      }
    }
    // A monitor created from a model also holds each value to the signature (compiled once per monitor).
    const signatureCheck = monitor.signature === undefined
      ? undefined
      : signatureChecker(monitor.signature).get(feature)
    if (signatureCheck !== undefined) {
      for (let i = 0; i < list.length; i++) {
        const v: unknown = list[i]
        const problem = v === null || (spec.type === "numeric" ? !isBoundedNumber(v) : typeof v !== "string")
          ? undefined
          : signatureCheck(v)
        if (problem !== undefined) issues.push({ path: path(feature, i), message: problem })
      }
    }
  }
  return issues
}

/**
 * Rows turned into columns: { feature: values[] } in row order. The result has no prototype, so
 * a row key such as `constructor` or `__proto__` is a column like any other.
 */
export const columnsOf = (
  rows: ReadonlyArray<Readonly<Record<string, WindowValue>>>
): Record<string, Array<WindowValue>> => {
  const columns: Record<string, Array<WindowValue>> = Object.create(null)
  for (const row of rows) {
    // Keys and indexed reads: Object.entries would allocate a pair per value.
    const features = Object.keys(row)
    for (let j = 0; j < features.length; j++) {
      const feature = features[j]!
      const column = columns[feature]
      if (column === undefined) columns[feature] = [row[feature]!]
      else column.push(row[feature]!)
    }
  }
  return columns
}

/** How often each category occurs; no prototype, so a category named `toString` is counted like any other. */
export const countCategories = (values: ReadonlyArray<string>): Record<string, number> => {
  const counts: Record<string, number> = Object.create(null)
  for (const v of values) counts[v] = (counts[v] ?? 0) + 1
  return counts
}

/** A category's count in `counts`, reading own properties only (stored counts are plain objects). */
export const countOf = (counts: Readonly<Record<string, number>>, category: string): number =>
  Object.hasOwn(counts, category) ? counts[category]! : 0

/** The non-missing values and the share of missing ones (0 when there are no values). */
export const splitMissing = <A>(
  values: ReadonlyArray<A | null>
): { readonly present: Array<A>; readonly missingShare: number } => {
  const present = values.filter((v): v is A => v !== null)
  return { present, missingShare: values.length === 0 ? 0 : (values.length - present.length) / values.length }
}
