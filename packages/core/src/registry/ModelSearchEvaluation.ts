/**
 * What a parsed search means, as plain functions over models: whether a model matches a filter,
 * where it falls in an order, and the keyset cursors that page through an order. The memory, fs
 * and Redis stores search with `searchModelsIn`; the PostgreSQL store translates the same rules to
 * SQL, and the contract suite checks that both agree. Strings compare by code point (PostgreSQL's
 * COLLATE "C" on UTF-8), ILIKE folds ASCII letters only (lower() under "C"), and LIKE's escape is
 * the backslash, as in PostgreSQL.
 */
import type { Model } from "./Model.js"
import type { OrderField, SearchCondition, SearchField, SearchFilter, SearchOrder, SearchValue } from "./ModelSearch.js"
import { MAX_SEARCH_STRING_LENGTH, orderText } from "./ModelSearch.js"

/** Where a page starts: after the model with this order value and id. */
export interface SearchCursor {
  readonly value: SearchValue | null
  readonly id: string
}

/** What a store is asked: the models matching `filter`, in `order`, after `after`, at most `limit`. */
export interface ModelSearchQuery {
  readonly filter: SearchFilter
  readonly order?: SearchOrder | undefined
  readonly after?: SearchCursor | undefined
  readonly limit: number
}

const own = <V>(record: Readonly<Record<string, V>> | undefined, key: string): V | undefined =>
  record !== undefined && Object.hasOwn(record, key) ? record[key] : undefined

/** The value a field reads from a model; undefined when the model has none. */
export const fieldValue = (model: Model, field: SearchField): string | number | boolean | undefined => {
  switch (field.kind) {
    case "attribute":
      return field.name === "created_at" ? model.createdAt : model[field.name]
    case "metric":
      return own(model.metrics, field.key)
    case "param":
      return own(model.parameters, field.key)
    case "tag":
      return own(model.keyValueTags, field.key)
    case "labels":
      return undefined
  }
}

// UTF-16 code units in code point order: surrogates (astral characters) sort after U+E000-U+FFFF.
const codePointRank = (unit: number) =>
  unit >= 0xd800 && unit <= 0xdfff ? unit + 0x2000 : unit >= 0xe000 ? unit - 0x800 : unit

/** Code point order, which is UTF-8 byte order: what PostgreSQL's COLLATE "C" compares. */
export const compareText = (a: string, b: string): number => {
  const length = Math.min(a.length, b.length)
  for (let i = 0; i < length; i++) {
    const x = a.charCodeAt(i)
    const y = b.charCodeAt(i)
    if (x !== y) return codePointRank(x) - codePointRank(y)
  }
  return a.length - b.length
}

const compareValues = (a: SearchValue, b: SearchValue): number =>
  typeof a === "number" && typeof b === "number" ? a - b : compareText(String(a), String(b))

const asciiLower = (text: string) => text.replace(/[A-Z]/g, (c) => c.toLowerCase())

/** LIKE: `%` any run, `_` one character, `\` makes the next character literal. */
export const likeMatches = (text: string, pattern: string): boolean => {
  const chars = [...text]
  const parts: Array<{ readonly kind: "any" | "one" | "char"; readonly char?: string }> = []
  const source = [...pattern]
  for (let i = 0; i < source.length; i++) {
    const c = source[i]!
    if (c === "\\" && i + 1 < source.length) parts.push({ kind: "char", char: source[++i]! })
    else if (c === "%") parts.push({ kind: "any" })
    else if (c === "_") parts.push({ kind: "one" })
    else parts.push({ kind: "char", char: c })
  }
  // Greedy matching with backtracking to the last `%` (linear in practice, no regex built from input).
  let t = 0
  let p = 0
  let star = -1
  let resume = 0
  while (t < chars.length) {
    const part = parts[p]
    if (part !== undefined && (part.kind === "one" || (part.kind === "char" && part.char === chars[t]))) {
      t++
      p++
    } else if (part?.kind === "any") {
      star = p++
      resume = t
    } else if (star >= 0) {
      p = star + 1
      t = ++resume
    } else return false
  }
  while (parts[p]?.kind === "any") p++
  return p === parts.length
}

const compares = (op: SearchCondition["op"], order: number): boolean => {
  switch (op) {
    case "=":
      return order === 0
    case "!=":
      return order !== 0
    case "<":
      return order < 0
    case "<=":
      return order <= 0
    case ">":
      return order > 0
    case ">=":
      return order >= 0
    default:
      return false
  }
}

/** Whether one condition holds; a missing field, or a value of another type than the literal, never matches. */
export const matchesCondition = (model: Model, condition: SearchCondition): boolean => {
  if (condition.field.kind === "labels") {
    const has = (label: SearchValue) => model.tags.includes(String(label))
    if (condition.op === "IN") return condition.values.some(has)
    return condition.op === "=" ? has(condition.value) : condition.op === "!=" ? !has(condition.value) : false
  }
  const actual = fieldValue(model, condition.field)
  if (actual === undefined || typeof actual === "boolean") return false
  const sameType = (value: SearchValue) => typeof value === typeof actual
  switch (condition.op) {
    case "IN":
      return condition.values.some((value) => sameType(value) && compareValues(actual, value) === 0)
    case "LIKE":
      return typeof actual === "string" && likeMatches(actual, condition.value)
    case "ILIKE":
      return typeof actual === "string" && likeMatches(asciiLower(actual), asciiLower(condition.value))
    default:
      return sameType(condition.value) && compares(condition.op, compareValues(actual, condition.value))
  }
}

export const matchesFilter = (model: Model, filter: SearchFilter): boolean =>
  filter.every((condition) => matchesCondition(model, condition))

/** A model's value in an order: a metric is a number, the others strings; null when it has none. */
export const orderValue = (model: Model, field: OrderField): SearchValue | null => {
  const value = fieldValue(model, field)
  if (field.kind === "metric") return typeof value === "number" ? value : null
  return typeof value === "string" ? value : null
}

/** Position of (value, id) relative to the cursor's (value, id) in `order`: missing values last, then ids. */
const compareKeys = (
  order: SearchOrder | undefined,
  a: { readonly value: SearchValue | null; readonly id: string },
  b: { readonly value: SearchValue | null; readonly id: string }
): number => {
  if (order !== undefined && a.value !== b.value) {
    if (a.value === null) return 1
    if (b.value === null) return -1
    const byValue = compareValues(a.value, b.value)
    if (byValue !== 0) return order.direction === "ASC" ? byValue : -byValue
  }
  return compareText(a.id, b.id)
}

const keyOf = (model: Model, order: SearchOrder | undefined) => ({
  value: order === undefined ? null : orderValue(model, order.field),
  id: model.id
})

/** The in-process search: filter, order, skip to the cursor, take `limit`. */
export const searchModelsIn = (models: Iterable<Model>, query: ModelSearchQuery): Array<Model> => {
  const { after, order } = query
  return [...models]
    .filter((m) =>
      matchesFilter(m, query.filter) && (after === undefined || compareKeys(order, keyOf(m, order), after) > 0)
    )
    .map((m) => ({ model: m, key: keyOf(m, order) }))
    .sort((a, b) => compareKeys(order, a.key, b.key))
    .slice(0, query.limit)
    .map(({ model }) => model)
}

const toBase64Url = (text: string) =>
  btoa(String.fromCharCode(...new TextEncoder().encode(text))).replace(/\+/g, "-").replace(/\//g, "_").replace(
    /=+$/,
    ""
  )
const fromBase64Url = (text: string) =>
  new TextDecoder("utf-8", { fatal: true }).decode(
    Uint8Array.from(atob(text.replace(/-/g, "+").replace(/_/g, "/")), (c) => c.charCodeAt(0))
  )

/** The opaque cursor of the page after `model`: its order value and id, and the order it belongs to. */
export const encodeSearchCursor = (model: Model, order: SearchOrder | undefined): string => {
  const { id, value } = keyOf(model, order)
  return toBase64Url(JSON.stringify({ o: orderText(order), v: value, id }))
}

const idPattern = /^[0-9A-HJKMNP-TV-Z]{26}$/

/**
 * The cursor's position, or a message saying why it cannot be used: not one of ours, or made for
 * another order (values of one order are meaningless in another).
 */
export const decodeSearchCursor = (text: string, order: SearchOrder | undefined): SearchCursor | string => {
  let parsed: unknown
  try {
    parsed = JSON.parse(fromBase64Url(text))
  } catch {
    return "is not a cursor returned by this search"
  }
  if (typeof parsed !== "object" || parsed === null) return "is not a cursor returned by this search"
  const { id, o, v } = parsed as { id?: unknown; o?: unknown; v?: unknown }
  if (typeof id !== "string" || !idPattern.test(id)) return "is not a cursor returned by this search"
  if (o !== orderText(order)) return `belongs to the order '${String(o)}', not '${orderText(order)}'`
  const expected = order?.field.kind === "metric" ? "number" : "string"
  // A forged value must not carry what storage refuses (PostgreSQL text holds no NUL) or the order never yields.
  const unsafe = typeof v === "string" && (v.includes("\u0000") || v.length > MAX_SEARCH_STRING_LENGTH * 4)
  if (
    v !== null &&
    (order === undefined || typeof v !== expected || unsafe || (typeof v === "number" && !Number.isFinite(v)))
  ) {
    return "is not a cursor returned by this search"
  }
  return { value: v as SearchValue | null, id }
}
