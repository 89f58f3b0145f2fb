/**
 * A model version's signature: the input features it expects (name, type, optional range or
 * category list) and the outputs it produces. The registry stores it on the version; monitors and
 * pipelines created from the version take their features from it and refuse observations and
 * samples that contradict it. `signatureChecker` compiles the per-value checks once per
 * definition (a monitor or pipeline record), so the hot ingestion paths look a check up by name
 * instead of re-reading the signature on every request.
 */
import { Schema } from "effect"
import { describeValue, isBoundedNumber } from "../shared/InputLimits.js"
import { SafeLabel } from "../shared/SafeText.js"

export const SignatureType = Schema.Literals(["number", "integer", "boolean", "string", "category"])
export type SignatureType = typeof SignatureType.Type

/** The most inputs (and outputs) one signature may declare: a monitor watches at most 1000 features. */
export const MAX_SIGNATURE_COLUMNS = 1000
/** The most categories one categorical input may list. */
export const MAX_SIGNATURE_CATEGORIES = 1000
const MAX_COLUMN_NAME_LENGTH = 128
const MAX_CATEGORY_LENGTH = 256

export const SignatureColumn = Schema.Struct({
  name: SafeLabel(MAX_COLUMN_NAME_LENGTH, { minLength: 1 }),
  type: SignatureType,
  /** Inclusive [min, max] of a number or integer input. */
  range: Schema.optionalKey(Schema.Tuple([Schema.Finite, Schema.Finite])),
  /** The values a category input may take; absent: any string. */
  categories: Schema.optionalKey(
    Schema.Array(SafeLabel(MAX_CATEGORY_LENGTH)).check(
      Schema.isMinLength(1, { message: "must list at least one category" }),
      Schema.isMaxLength(MAX_SIGNATURE_CATEGORIES, {
        message: `must list at most ${MAX_SIGNATURE_CATEGORIES} categories`
      })
    )
  )
})
export type SignatureColumn = typeof SignatureColumn.Type

const columns = Schema.Array(SignatureColumn).check(
  Schema.isMaxLength(MAX_SIGNATURE_COLUMNS, { message: `must declare at most ${MAX_SIGNATURE_COLUMNS} columns` })
)

/** What a column list's schema cannot state: unique names, ranges and categories only where they apply. */
const columnIssues = (list: ReadonlyArray<SignatureColumn>, field: "inputs" | "outputs") => {
  const issues: Array<{ path: ReadonlyArray<string | number>; issue: string }> = []
  const seen = new Set<string>()
  list.forEach((column, i) => {
    if (seen.has(column.name)) issues.push({ path: [field, i, "name"], issue: `repeats column ${column.name}` })
    seen.add(column.name)
    if (column.range !== undefined) {
      if (column.type !== "number" && column.type !== "integer") {
        issues.push({
          path: [field, i, "range"],
          issue: `applies only to number or integer columns, not ${column.type}`
        })
      } else if (column.range[0] > column.range[1]) {
        issues.push({ path: [field, i, "range"], issue: "must be [min, max] with min <= max" })
      }
    }
    if (column.categories !== undefined && column.type !== "category") {
      issues.push({ path: [field, i, "categories"], issue: `applies only to category columns, not ${column.type}` })
    }
  })
  return issues
}

export const Signature = Schema.Struct({
  inputs: columns.check(Schema.isMinLength(1, { message: "must declare at least one input" })),
  outputs: Schema.optionalKey(columns)
}).check(
  Schema.makeFilter((signature) => [
    ...columnIssues(signature.inputs, "inputs"),
    ...columnIssues(signature.outputs ?? [], "outputs")
  ])
)
export type Signature = typeof Signature.Type

/** One value's problem against its column (naming the limit), or undefined when it fits. */
export type ValueCheck = (value: unknown) => string | undefined

const numberCheck = (column: SignatureColumn, integer: boolean): ValueCheck => {
  const range = column.range
  const what = integer ? "an integer" : "a number"
  return (value) => {
    if (!isBoundedNumber(value) || (integer && !Number.isInteger(value))) {
      return `must be ${what} (signature type ${column.type}), got ${describeValue(value)}`
    }
    if (range !== undefined && (value < range[0] || value > range[1])) {
      return `must be within the signature's range [${range[0]}, ${range[1]}], got ${value}`
    }
    return undefined
  }
}

const categoryCheck = (column: SignatureColumn): ValueCheck => {
  const known = column.categories === undefined ? undefined : new Set(column.categories)
  const listed = column.categories?.slice(0, 10).map((c) => JSON.stringify(c)).join(", ")
  const more = (column.categories?.length ?? 0) > 10 ? ", ..." : ""
  return (value) => {
    if (typeof value !== "string") {
      return `must be a string (signature type ${column.type}), got ${describeValue(value)}`
    }
    if (known !== undefined && !known.has(value)) {
      return `must be one of the signature's categories (${listed}${more}), got ${JSON.stringify(value.slice(0, 64))}`
    }
    return undefined
  }
}

/** The check of one column's values. Booleans travel as 0 and 1, as numeric features do. */
export const columnCheck = (column: SignatureColumn): ValueCheck => {
  switch (column.type) {
    case "number":
      return numberCheck(column, false)
    case "integer":
      return numberCheck(column, true)
    case "boolean":
      return (value) =>
        value === 0 || value === 1 ? undefined : `must be 0 or 1 (signature type boolean), got ${describeValue(value)}`
    case "string":
    case "category":
      return categoryCheck(column)
  }
}

/** The checks of every input and output column by name, built once per signature. */
export type SignatureChecker = ReadonlyMap<string, ValueCheck>

const checkers = new WeakMap<Signature, SignatureChecker>()

/**
 * The compiled checks of `signature`, cached on the signature object: a monitor or pipeline
 * record keeps its signature object for its life (the stores hand out the record they keep), so
 * each definition compiles once, not once per request.
 */
export const signatureChecker = (signature: Signature): SignatureChecker => {
  let checker = checkers.get(signature)
  if (checker === undefined) {
    checker = new Map([...signature.inputs, ...(signature.outputs ?? [])].map((c) => [c.name, columnCheck(c)]))
    checkers.set(signature, checker)
  }
  return checker
}

/** Whether a column is watched as a numeric or a categorical drift feature. */
export const driftTypeOf = (type: SignatureType): "numeric" | "categorical" =>
  type === "string" || type === "category" ? "categorical" : "numeric"
