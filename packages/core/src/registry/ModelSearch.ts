/**
 * The registry's search language, after MLflow's `search_model_versions`: a filter of comparisons
 * joined by AND (`name = 'churn' AND tags.team = 'risk' AND metrics.auc > 0.9 AND status IN
 * ('staging', 'production')`) and an order (`metrics.auc DESC`). A tokenizer and a recursive-descent
 * parser turn the text into a typed query that every store executes the same way (in process, or
 * translated to parameterised SQL); nothing here evaluates anything. Errors name the offending token
 * and its position (0-based character offset), so a 400 can point at it.
 */
import { Data } from "effect"

/** Plain attributes of a version; `created_at` compares as an instant. */
export const searchAttributes = ["name", "version", "status", "algorithm", "framework", "created_at"] as const
export type SearchAttribute = typeof searchAttributes[number]

/** What a condition or an order reads from a model. `labels` are the plain tags (a list of strings). */
export type SearchField =
  | { readonly kind: "attribute"; readonly name: SearchAttribute }
  | { readonly kind: "metric"; readonly key: string }
  | { readonly kind: "param"; readonly key: string }
  | { readonly kind: "tag"; readonly key: string }
  | { readonly kind: "labels" }

export type ComparisonOperator = "=" | "!=" | "<" | "<=" | ">" | ">="
export type SearchValue = string | number

/**
 * One comparison. A field a model lacks (a missing metric, tag or parameter), or one whose value is
 * of another type than the literal (a string parameter against a number), matches no condition,
 * `!=` included. `created_at` literals are normalised to ISO 8601 strings when parsed.
 */
export type SearchCondition =
  | { readonly field: SearchField; readonly op: ComparisonOperator; readonly value: SearchValue }
  | { readonly field: SearchField; readonly op: "LIKE" | "ILIKE"; readonly value: string }
  | { readonly field: SearchField; readonly op: "IN"; readonly values: ReadonlyArray<SearchValue> }

/** Conditions that must all hold. */
export type SearchFilter = ReadonlyArray<SearchCondition>

/** Fields a search may be ordered by: the attributes, a metric (numbers) or a key-value tag (strings). */
export type OrderField = Extract<SearchField, { readonly kind: "attribute" | "metric" | "tag" }>

/** Models are ordered by `field` (missing values last in both directions), then by id ascending. */
export interface SearchOrder {
  readonly field: OrderField
  readonly direction: "ASC" | "DESC"
}

/** Bounds of the language: every one explicit, each refusal names it. */
export const MAX_FILTER_LENGTH = 4096
export const MAX_ORDER_BY_LENGTH = 256
export const MAX_SEARCH_CONDITIONS = 32
export const MAX_IN_VALUES = 100
export const MAX_SEARCH_KEY_LENGTH = 128
export const MAX_SEARCH_STRING_LENGTH = 1024

/** Why a filter or an order does not parse: `issue` is the short form ("unexpected token 'ANDD' at 23"). */
export class SearchSyntaxError extends Data.TaggedError("SearchSyntaxError")<{
  readonly message: string
  readonly issue: string
  readonly position: number
}> {}

type TokenKind = "identifier" | "quoted" | "string" | "number" | "operator" | "punctuation" | "end"

interface Token {
  readonly kind: TokenKind
  /** The value: an identifier's or quoted key's text, a string's content, an operator, or the number's text. */
  readonly text: string
  /** The token as written, for error messages. */
  readonly source: string
  readonly position: number
}

const isDigit = (c: string | undefined) => c !== undefined && c >= "0" && c <= "9"
const isIdentifierStart = (c: string | undefined) =>
  c !== undefined && ((c >= "a" && c <= "z") || (c >= "A" && c <= "Z") || c === "_")
const isIdentifierPart = (c: string | undefined) => isIdentifierStart(c) || isDigit(c)
const isSpace = (c: string) => c === " " || c === "\t" || c === "\n" || c === "\r"

const fail = (issue: string, position: number, expected?: string): never => {
  throw new SearchSyntaxError({ message: expected ? `${issue}: expected ${expected}` : issue, issue, position })
}

/** `text` read with `quote` as delimiter; a doubled quote stands for itself (SQL style). */
const readQuoted = (input: string, start: number, quote: string): { readonly value: string; readonly end: number } => {
  let value = ""
  let i = start + 1
  for (;;) {
    if (i >= input.length) {
      return fail(
        `unterminated ${quote === "'" ? "string" : "quoted name"} at ${start}`,
        start,
        `a closing ${quote}`
      )
    }
    const c = input[i]!
    if (c === quote) {
      if (input[i + 1] === quote) {
        value += quote
        i += 2
        continue
      }
      return { value, end: i + 1 }
    }
    value += c
    i++
  }
}

const readNumber = (input: string, start: number): number => {
  let i = start
  if (input[i] === "-" || input[i] === "+") i++
  while (isDigit(input[i])) i++
  if (input[i] === "." && isDigit(input[i + 1])) {
    i++
    while (isDigit(input[i])) i++
  }
  if ((input[i] === "e" || input[i] === "E") && (isDigit(input[i + 1]) || /[+-]/.test(input[i + 1] ?? ""))) {
    i++
    if (input[i] === "+" || input[i] === "-") i++
    if (!isDigit(input[i])) fail(`malformed number '${input.slice(start, i)}' at ${start}`, start)
    while (isDigit(input[i])) i++
  }
  return i
}

const operators = ["<=", ">=", "!=", "<>", "=", "<", ">"] as const

/** The tokens of `input`, ending with an `end` token. */
export const tokenize = (input: string): ReadonlyArray<Token> => {
  const tokens: Array<Token> = []
  let i = 0
  while (i < input.length) {
    const c = input[i]!
    if (isSpace(c)) {
      i++
      continue
    }
    const start = i
    if (c === "'" || c === "`") {
      const { end, value } = readQuoted(input, i, c)
      tokens.push({
        kind: c === "'" ? "string" : "quoted",
        text: value,
        source: input.slice(start, end),
        position: start
      })
      i = end
    } else if (isIdentifierStart(c)) {
      while (isIdentifierPart(input[i])) i++
      const text = input.slice(start, i)
      tokens.push({ kind: "identifier", text, source: text, position: start })
    } else if (isDigit(c) || ((c === "-" || c === "+") && isDigit(input[i + 1]))) {
      i = readNumber(input, i)
      if (isIdentifierPart(input[i]) || input[i] === ".") {
        while (i < input.length && !isSpace(input[i]!) && !/[(),=<>!']/.test(input[i]!)) i++
        fail(`malformed number '${input.slice(start, i)}' at ${start}`, start)
      }
      const text = input.slice(start, i)
      tokens.push({ kind: "number", text, source: text, position: start })
    } else if (c === "(" || c === ")" || c === "," || c === ".") {
      tokens.push({ kind: "punctuation", text: c, source: c, position: start })
      i++
    } else {
      const op = operators.find((o) => input.startsWith(o, i))
      if (op === undefined) {
        // The whole run of unexpected characters is the token an error names.
        while (i < input.length && !isSpace(input[i]!) && !isIdentifierPart(input[i]) && input[i] !== "'") i++
        fail(`unexpected token '${input.slice(start, Math.max(i, start + 1))}' at ${start}`, start)
      }
      tokens.push({ kind: "operator", text: op === "<>" ? "!=" : op!, source: op!, position: start })
      i += op!.length
    }
  }
  tokens.push({ kind: "end", text: "", source: "", position: input.length })
  return tokens
}

const keyword = (token: Token, word: string) => token.kind === "identifier" && token.text.toUpperCase() === word

/** A cursor over the tokens with the small vocabulary recursive descent needs. */
class Tokens {
  private index = 0
  constructor(readonly tokens: ReadonlyArray<Token>) {}
  peek(): Token {
    return this.tokens[this.index]!
  }
  next(): Token {
    const token = this.tokens[this.index]!
    if (token.kind !== "end") this.index++
    return token
  }
  unexpected(token: Token, expected: string): never {
    return token.kind === "end"
      ? fail(`unexpected end of input at ${token.position}`, token.position, expected)
      : fail(`unexpected token '${token.source}' at ${token.position}`, token.position, expected)
  }
  expectPunctuation(text: string, expected: string): Token {
    const token = this.next()
    return token.kind === "punctuation" && token.text === text ? token : this.unexpected(token, expected)
  }
}

const fieldPrefixes: Readonly<Record<string, "metric" | "param" | "tag">> = {
  metrics: "metric",
  metric: "metric",
  params: "param",
  param: "param",
  parameters: "param",
  tags: "tag",
  tag: "tag"
}

/** name | version | ... | labels | metrics.<key> | params.<key> | tags.<key>, a key written bare or in backticks. */
const parseField = (tokens: Tokens): { readonly field: SearchField; readonly token: Token } => {
  const token = tokens.next()
  const fieldList = `${searchAttributes.join(", ")}, labels, metrics.<key>, params.<key> or tags.<key>`
  if (token.kind !== "identifier" && token.kind !== "quoted") return tokens.unexpected(token, `a field (${fieldList})`)
  const word = token.text.toLowerCase()
  const prefix = token.kind === "identifier" ? fieldPrefixes[word] : undefined
  if (prefix !== undefined) {
    const dot = tokens.peek()
    if (!(dot.kind === "punctuation" && dot.text === ".")) {
      return fail(`'${token.source}' at ${token.position} needs a key`, token.position, `${word}.<key>`)
    }
    tokens.next()
    const key = tokens.next()
    if (key.kind !== "identifier" && key.kind !== "quoted" && key.kind !== "number") {
      return tokens.unexpected(key, `a key after '${token.source}.' (backticks quote other keys: \`my key\`)`)
    }
    if (key.text.length === 0 || key.text.length > MAX_SEARCH_KEY_LENGTH) {
      return fail(
        `key at ${key.position} must be 1 to ${MAX_SEARCH_KEY_LENGTH} characters`,
        key.position
      )
    }
    return { field: { kind: prefix, key: key.text }, token }
  }
  if (token.kind === "identifier" && word === "labels") return { field: { kind: "labels" }, token }
  if (token.kind === "identifier") {
    const attribute = searchAttributes.find((a) => a === word || a.replace("_", "") === word)
    if (attribute !== undefined) return { field: { kind: "attribute", name: attribute }, token }
  }
  return fail(`unknown field '${token.source}' at ${token.position}`, token.position, fieldList)
}

/** A string or number literal (a leading sign is part of the number). */
const parseValue = (tokens: Tokens): { readonly value: SearchValue; readonly token: Token } => {
  const token = tokens.next()
  if (token.kind === "string") {
    if (token.text.length > MAX_SEARCH_STRING_LENGTH) {
      return fail(
        `string at ${token.position} is longer than ${MAX_SEARCH_STRING_LENGTH} characters`,
        token.position
      )
    }
    return { value: token.text, token }
  }
  if (token.kind === "number") {
    const value = Number(token.text)
    if (!Number.isFinite(value)) {
      return fail(`number '${token.source}' at ${token.position} is out of range`, token.position)
    }
    return { value: Object.is(value, -0) ? 0 : value, token }
  }
  return tokens.unexpected(token, "a value: a 'quoted string' or a number")
}

const describeField = (field: SearchField): string =>
  field.kind === "attribute"
    ? field.name
    : field.kind === "labels"
    ? "labels"
    : `${field.kind === "metric" ? "metrics" : field.kind === "param" ? "params" : "tags"}.${field.key}`

/**
 * The literal as the field compares it, or a refusal naming it: metrics compare with numbers,
 * strings fields with strings, created_at with an ISO 8601 instant or epoch milliseconds.
 */
const typedValue = (field: SearchField, value: SearchValue, token: Token): SearchValue => {
  const refuse = (expected: string): never =>
    fail(`${describeField(field)} compares with ${expected}: got ${token.source} at ${token.position}`, token.position)
  switch (field.kind) {
    case "metric":
      return typeof value === "number" ? value : refuse("numbers")
    case "param":
      return value
    case "attribute": {
      if (field.name !== "created_at") return typeof value === "string" ? value : refuse("'quoted strings'")
      const millis = typeof value === "number" ? value : Date.parse(value)
      const date = new Date(millis)
      return Number.isNaN(date.getTime()) ? refuse("an ISO 8601 instant or epoch milliseconds") : date.toISOString()
    }
    default:
      return typeof value === "string" ? value : refuse("'quoted strings'")
  }
}

/** Checks a LIKE pattern: a backslash escapes the next character, so a trailing one escapes nothing. */
const likePattern = (value: SearchValue, token: Token): string => {
  if (typeof value !== "string") {
    return fail(`LIKE needs a 'quoted pattern': got ${token.source} at ${token.position}`, token.position)
  }
  let escaped = false
  for (const c of value) escaped = !escaped && c === "\\"
  return escaped ? fail(`pattern at ${token.position} ends with an escape character '\\'`, token.position) : value
}

const parseCondition = (tokens: Tokens): SearchCondition => {
  const { field, token: fieldToken } = parseField(tokens)
  const opToken = tokens.next()
  const name = describeField(field)
  const refuseOperator = (): never =>
    fail(`operator '${opToken.source}' at ${opToken.position} does not apply to ${name}`, opToken.position)
  if (keyword(opToken, "IN")) {
    tokens.expectPunctuation("(", "'(' opening the IN list")
    const values: Array<SearchValue> = []
    for (;;) {
      const { token, value } = parseValue(tokens)
      if (values.length === MAX_IN_VALUES) {
        return fail(`IN list at ${opToken.position} has more than ${MAX_IN_VALUES} values`, token.position)
      }
      values.push(typedValue(field, value, token))
      const separator = tokens.next()
      if (separator.kind === "punctuation" && separator.text === ")") break
      if (!(separator.kind === "punctuation" && separator.text === ",")) tokens.unexpected(separator, "',' or ')'")
    }
    return { field, op: "IN", values }
  }
  if (keyword(opToken, "LIKE") || keyword(opToken, "ILIKE")) {
    const stringField = field.kind === "tag" || field.kind === "param" ||
      (field.kind === "attribute" && field.name !== "created_at")
    if (!stringField) refuseOperator()
    const { token, value } = parseValue(tokens)
    return { field, op: keyword(opToken, "LIKE") ? "LIKE" : "ILIKE", value: likePattern(value, token) }
  }
  if (opToken.kind !== "operator") {
    return tokens.unexpected(
      opToken,
      `an operator after ${name} at ${fieldToken.position} (=, !=, <, <=, >, >=, LIKE, ILIKE, IN)`
    )
  }
  const op = opToken.text as ComparisonOperator
  if (field.kind === "labels" && op !== "=" && op !== "!=") refuseOperator()
  const { token, value } = parseValue(tokens)
  return { field, op, value: typedValue(field, value, token) }
}

const boundedInput = (input: string, what: string, max: number) => {
  if (input.length > max) fail(`${what} is longer than ${max} characters`, max)
}

/** Parses a filter; the empty (or blank) filter matches every model. */
export const parseFilter = (input: string): SearchFilter => {
  boundedInput(input, "filter", MAX_FILTER_LENGTH)
  const tokens = new Tokens(tokenize(input))
  const conditions: Array<SearchCondition> = []
  if (tokens.peek().kind === "end") return conditions
  for (;;) {
    const start = tokens.peek()
    if (conditions.length === MAX_SEARCH_CONDITIONS) {
      return fail(`filter has more than ${MAX_SEARCH_CONDITIONS} conditions (at ${start.position})`, start.position)
    }
    conditions.push(parseCondition(tokens))
    const next = tokens.next()
    if (next.kind === "end") return conditions
    if (!keyword(next, "AND")) tokens.unexpected(next, "AND or the end of the filter")
  }
}

/** Parses an order: `<field> [ASC|DESC]` (ascending by default); the empty order is by id. */
export const parseOrderBy = (input: string): SearchOrder | undefined => {
  boundedInput(input, "orderBy", MAX_ORDER_BY_LENGTH)
  const tokens = new Tokens(tokenize(input))
  if (tokens.peek().kind === "end") return undefined
  const { field, token } = parseField(tokens)
  if (field.kind === "labels" || field.kind === "param") {
    return fail(
      `cannot order by '${describeField(field)}' at ${token.position}`,
      token.position,
      "an attribute, metrics.<key> or tags.<key>"
    )
  }
  const next = tokens.next()
  const direction = keyword(next, "DESC") ? "DESC" : keyword(next, "ASC") || next.kind === "end" ? "ASC" : undefined
  if (direction === undefined) return tokens.unexpected(next, "ASC, DESC or the end of the order")
  if (next.kind !== "end") {
    const end = tokens.next()
    if (end.kind !== "end") tokens.unexpected(end, "the end of the order")
  }
  return { field, direction }
}

/** The text form of an order, as written back (e.g. in a cursor, to check it belongs to the same order). */
export const orderText = (order: SearchOrder | undefined): string =>
  order === undefined ? "id" : `${describeField(order.field)} ${order.direction}`
