/**
 * Targeting conditions in GrowthBook's condition syntax (MongoDB-like): a condition maps
 * attribute paths ("country", "device.os", "tags.0") to values or operator objects, combined with
 * $and / $or / $nor / $not. `compileCondition` turns a condition into a predicate once per
 * experiment definition (regexes built, version strings padded, $in lists hashed), so a request
 * only runs the predicate. Values are compared as GrowthBook's JavaScript SDK compares them
 * (loose string/number equality for bare values, JavaScript ordering for $gt..., padded version
 * strings for $v...), checked by a differential test against @growthbook/growthbook. Two
 * deliberate differences: paths read only an object's own properties (GrowthBook's `in` also
 * finds inherited ones such as "constructor"), and saved groups ($inGroup, $savedGroup) do not
 * exist here. `conditionIssues` is the creation-time check: unknown operators, bad arguments,
 * invalid regexes and conditions beyond the size limits are refused, naming the path.
 *
 * Pure and free of run-time imports, so the SDK's local evaluation runs the server's code.
 */

/** A condition as stored: attribute paths and logical operators at its top level. */
export type Condition = Readonly<Record<string, unknown>>

/** A compiled condition: whether an attribute object passes. */
export type ConditionPredicate = (attributes: unknown) => boolean

/** How deeply a condition may nest objects and arrays. */
export const MAX_CONDITION_DEPTH = 12
/** How many keys and array items a condition may hold in all. */
export const MAX_CONDITION_NODES = 1000
/** The longest regular expression a $regex may hold. */
export const MAX_REGEX_LENGTH = 512
/** The longest attribute path. */
export const MAX_PATH_LENGTH = 256

const logicalOperators = new Set(["$and", "$or", "$nor", "$not"])
/** The value types $type can ask for. */
export const conditionTypes = ["string", "number", "boolean", "object", "array", "null", "undefined"] as const

const isPlainObject = (value: unknown): value is Readonly<Record<string, unknown>> =>
  typeof value === "object" && value !== null && !Array.isArray(value)

/** An object whose keys all start with "$" (and at least one): operators on one value, not a literal. */
const isOperatorObject = (value: unknown): value is Readonly<Record<string, unknown>> => {
  if (!isPlainObject(value)) return false
  const keys = Object.keys(value)
  return keys.length > 0 && keys.every((k) => k.startsWith("$"))
}

/** The value at a dot path of own properties (array indexes too), or null when any step is missing. */
const pathReader = (path: string): (attributes: unknown) => unknown => {
  const steps = path.split(".")
  return (attributes) => {
    let current = attributes
    for (const step of steps) {
      if (typeof current !== "object" || current === null || !Object.hasOwn(current, step)) return null
      current = (current as Record<string, unknown>)[step]
    }
    return current
  }
}

/** The type name $type compares with. */
const typeOf = (value: unknown): string => {
  if (value === null) return "null"
  if (Array.isArray(value)) return "array"
  const type = typeof value
  return type === "string" || type === "number" || type === "boolean" || type === "object" || type === "undefined"
    ? type
    : "unknown"
}

/**
 * A version as a string that sorts like the version: a leading "v" and build metadata dropped,
 * numeric parts left-padded to 5 characters, and "~" (after every letter) appended to a release
 * x.y.z so it sorts after its pre-releases (1.0.0-rc.1 < 1.0.0). Non-strings count as "0".
 */
export const paddedVersion = (input: unknown): string => {
  const text = typeof input === "number" ? String(input) : input
  const version = typeof text === "string" && text !== "" ? text : "0"
  const parts = version.replace(/^v|\+.*$/g, "").split(/[-.]/)
  if (parts.length === 3) parts.push("~")
  return parts.map((part) => (/^[0-9]+$/.test(part) ? part.padStart(5, " ") : part)).join("-")
}

/** The most versions one comparison remembers padded before it starts again. */
const versionMemoSize = 1024

/**
 * paddedVersion with the last versions seen remembered: an attribute holds few distinct app
 * versions, and padding one (a replace, a split and a pad per part) costs more than the rest of
 * a typical condition.
 */
const memoizedPaddedVersion = (): (input: unknown) => string => {
  const memo = new Map<string, string>()
  return (input) => {
    if (typeof input !== "string") return paddedVersion(input)
    let padded = memo.get(input)
    if (padded === undefined) {
      if (memo.size >= versionMemoSize) memo.clear()
      padded = paddedVersion(input)
      memo.set(input, padded)
    }
    return padded
  }
}

// JavaScript's relational operators on whatever the attribute holds, as GrowthBook applies them.
const below = (a: unknown, b: unknown) => (a as number) < (b as number)
const atMost = (a: unknown, b: unknown) => (a as number) <= (b as number)

const caseFold = (value: unknown) => (typeof value === "string" ? value.toLowerCase() : value)

/** $in: the value is in the list, or (for an array value) shares an element with it. */
const membership = (expected: unknown, insensitive: boolean): (value: unknown) => boolean => {
  if (!Array.isArray(expected)) return () => false
  const fold = insensitive ? caseFold : (x: unknown) => x
  const members = new Set(expected.map(fold))
  return (value) => Array.isArray(value) ? value.some((v) => members.has(fold(v))) : members.has(fold(value))
}

const never = () => false

/** One operator applied to a value. Unknown operators match nothing (GrowthBook's behaviour). */
const compileOperator = (operator: string, expected: unknown): (value: unknown) => boolean => {
  switch (operator) {
    case "$eq":
      return (value) => value === expected
    case "$ne":
      return (value) => value !== expected
    case "$lt":
      return (value) => below(value, expected)
    case "$lte":
      return (value) => atMost(value, expected)
    case "$gt":
      return (value) => below(expected, value)
    case "$gte":
      return (value) => atMost(expected, value)
    case "$veq":
    case "$vne":
    case "$vgt":
    case "$vgte":
    case "$vlt":
    case "$vlte": {
      const version = paddedVersion(expected)
      const padded = memoizedPaddedVersion()
      if (operator === "$veq") return (value) => padded(value) === version
      if (operator === "$vne") return (value) => padded(value) !== version
      if (operator === "$vgt") return (value) => padded(value) > version
      if (operator === "$vgte") return (value) => padded(value) >= version
      if (operator === "$vlt") return (value) => padded(value) < version
      return (value) => padded(value) <= version
    }
    case "$exists":
      return expected
        ? (value) => value !== null && value !== undefined
        : (value) => value === null || value === undefined
    case "$in":
    case "$ini":
      return membership(expected, operator === "$ini")
    case "$nin":
    case "$nini": {
      if (!Array.isArray(expected)) return never
      const isIn = membership(expected, operator === "$nini")
      return (value) => !isIn(value)
    }
    case "$not": {
      const inner = compileValue(expected)
      return (value) => !inner(value)
    }
    case "$size": {
      const inner = compileValue(expected)
      return (value) => Array.isArray(value) && inner(value.length)
    }
    case "$elemMatch": {
      if (!isPlainObject(expected)) return never
      const check = isOperatorObject(expected) ? compileValue(expected) : compileCondition(expected)
      // Null elements are skipped; 0, "" and false are tested.
      return (value) =>
        Array.isArray(value) && value.some((element) => element !== null && element !== undefined && check(element))
    }
    case "$all":
    case "$alli": {
      if (!Array.isArray(expected)) return never
      const each = expected.map((item) => compileValue(item, operator === "$alli"))
      return (value) => Array.isArray(value) && each.every((matches) => value.some(matches))
    }
    case "$regex":
    case "$regexi": {
      const regex = typeof expected === "string" ? compileRegex(expected, operator === "$regexi") : undefined
      // test() reads the value as a string, as GrowthBook's does (null is "null").
      return regex === undefined ? never : (value) => regex.test(value as string)
    }
    case "$type":
      return (value) => typeOf(value) === expected
    default:
      return never
  }
}

/** The RegExp of a $regex (no flags but "i", as GrowthBook builds it), or undefined when invalid. */
const compileRegex = (pattern: string, insensitive: boolean): RegExp | undefined => {
  try {
    return new RegExp(pattern, insensitive ? "i" : undefined)
  } catch {
    return undefined
  }
}

/**
 * What a path's condition value accepts: a bare string, number, boolean or null compares loosely
 * (GrowthBook: `value + "" === s`, `value * 1 === n`); an array or a plain object compares as
 * JSON; an operator object applies each operator. `insensitive` folds case in string comparison ($alli).
 */
const compileValue = (expected: unknown, insensitive = false): (value: unknown) => boolean => {
  if (typeof expected === "string") {
    if (insensitive) {
      const folded = expected.toLowerCase()
      return (value) => String(value).toLowerCase() === folded
    }
    return (value) => String(value) === expected
  }
  if (typeof expected === "number") return (value) => Number(value) === expected
  if (typeof expected === "boolean") return (value) => value !== null && !!value === expected
  if (expected === null) return (value) => value === null
  if (!isOperatorObject(expected)) {
    const json = JSON.stringify(expected)
    return (value) => JSON.stringify(value) === json
  }
  const operators = Object.entries(expected).map(([operator, argument]) => compileOperator(operator, argument))
  if (operators.length === 1) return operators[0]!
  return (value) => operators.every((matches) => matches(value))
}

const compileAll = (conditions: unknown): Array<ConditionPredicate> =>
  Array.isArray(conditions) ? conditions.map(compileCondition) : []

/** A condition compiled to a predicate over an attribute object. Compile once, run per user. */
export const compileCondition = (condition: unknown): ConditionPredicate => {
  if (!isPlainObject(condition)) return never
  const tests = Object.entries(condition).map(([key, argument]): ConditionPredicate => {
    switch (key) {
      case "$and": {
        const all = compileAll(argument)
        return (attributes) => all.every((test) => test(attributes))
      }
      case "$or": {
        const any = compileAll(argument)
        return (attributes) => any.length === 0 || any.some((test) => test(attributes))
      }
      case "$nor": {
        // An empty $nor fails (GrowthBook: an empty $or passes, and $nor negates it).
        const any = compileAll(argument)
        return (attributes) => !(any.length === 0 || any.some((test) => test(attributes)))
      }
      case "$not": {
        const inner = compileCondition(argument)
        return (attributes) => !inner(attributes)
      }
      default: {
        const read = pathReader(key)
        const matches = compileValue(argument)
        return (attributes) => matches(read(attributes))
      }
    }
  })
  if (tests.length === 0) return () => true
  if (tests.length === 1) return tests[0]!
  return (attributes) => tests.every((test) => test(attributes))
}

/**
 * Whether a condition reads the attribute "id" (a path starting "id" outside $elemMatch): only
 * then do the user's attributes need the user id added (a copy per request otherwise saved).
 */
export const conditionReadsId = (condition: unknown): boolean =>
  isPlainObject(condition) &&
  Object.entries(condition).some(([key, argument]) =>
    key === "$and" || key === "$or" || key === "$nor"
      ? Array.isArray(argument) && argument.some(conditionReadsId)
      : key === "$not"
      ? conditionReadsId(argument)
      : key === "id" || key.startsWith("id.")
  )

/** Evaluates a condition once (compile it with compileCondition to evaluate it many times). */
export const evalCondition = (attributes: unknown, condition: Condition): boolean =>
  compileCondition(condition)(attributes)

/** A problem with a condition, at its path inside the condition. */
export interface ConditionIssue {
  readonly path: ReadonlyArray<string | number>
  readonly message: string
}

/** The argument an operator needs, by operator; undefined means any JSON value. */
type ArgumentCheck = (argument: unknown, path: ReadonlyArray<string | number>, walk: Walker) => void

interface Walker {
  readonly issue: (path: ReadonlyArray<string | number>, message: string) => void
  readonly condition: (value: unknown, path: ReadonlyArray<string | number>, depth: number) => void
  readonly value: (value: unknown, path: ReadonlyArray<string | number>, depth: number) => void
  readonly literal: (value: unknown, path: ReadonlyArray<string | number>, depth: number) => void
  readonly depth: number
}

const stringOrNumber: ArgumentCheck = (argument, path, walk) => {
  if (typeof argument !== "string" && typeof argument !== "number") walk.issue(path, "must be a string or a number")
}
const anyValue: ArgumentCheck = (argument, path, walk) => walk.literal(argument, path, walk.depth + 1)
const list: ArgumentCheck = (argument, path, walk) => {
  if (!Array.isArray(argument)) walk.issue(path, "must be an array")
  else walk.literal(argument, path, walk.depth + 1)
}
const conditionValue: ArgumentCheck = (argument, path, walk) => walk.value(argument, path, walk.depth + 1)
const regex: ArgumentCheck = (argument, path, walk) => {
  if (typeof argument !== "string") return walk.issue(path, "must be a regular expression (a string)")
  if (argument.length > MAX_REGEX_LENGTH) {
    return walk.issue(path, `must be at most ${MAX_REGEX_LENGTH} characters, got ${argument.length}`)
  }
  try {
    new RegExp(argument)
  } catch (error) {
    walk.issue(path, `is not a valid regular expression: ${(error as Error).message}`)
  }
}

const operatorArguments: Readonly<Record<string, ArgumentCheck>> = {
  $eq: anyValue,
  $ne: anyValue,
  $lt: stringOrNumber,
  $lte: stringOrNumber,
  $gt: stringOrNumber,
  $gte: stringOrNumber,
  $veq: stringOrNumber,
  $vne: stringOrNumber,
  $vgt: stringOrNumber,
  $vgte: stringOrNumber,
  $vlt: stringOrNumber,
  $vlte: stringOrNumber,
  $in: list,
  $nin: list,
  $ini: list,
  $nini: list,
  $exists: (argument, path, walk) => {
    if (typeof argument !== "boolean") walk.issue(path, "must be true or false")
  },
  $type: (argument, path, walk) => {
    if (!(conditionTypes as ReadonlyArray<unknown>).includes(argument)) {
      walk.issue(path, `must be one of ${conditionTypes.join(", ")}`)
    }
  },
  $size: conditionValue,
  $not: conditionValue,
  $all: (argument, path, walk) => {
    if (!Array.isArray(argument)) return walk.issue(path, "must be an array")
    argument.forEach((item, i) => walk.value(item, [...path, i], walk.depth + 2))
  },
  $alli: (argument, path, walk) => operatorArguments.$all!(argument, path, walk),
  $elemMatch: (argument, path, walk) => {
    if (!isPlainObject(argument)) return walk.issue(path, "must be an object (a condition or operators)")
    if (isOperatorObject(argument)) walk.value(argument, path, walk.depth + 1)
    else walk.condition(argument, path, walk.depth + 1)
  },
  $regex: regex,
  $regexi: regex
}

/** The operators a condition may use. */
export const conditionOperators: ReadonlyArray<string> = [
  ...new Set([...logicalOperators, ...Object.keys(operatorArguments)])
]

/**
 * Every problem with a condition, each at its path inside it, or none: the top level and each
 * $and/$or/$nor/$not/$elemMatch condition must be an object whose keys are attribute paths (a
 * "$" prefix is allowed, as GrowthBook's "$groups", but not a value operator's name such as
 * "$in") or logical operators; operators on values must be known, with arguments of the right
 * kind; a value object may not mix operators and fields (GrowthBook would silently compare it as
 * a literal); regexes must compile; the whole stays within MAX_CONDITION_DEPTH levels and
 * MAX_CONDITION_NODES keys and items.
 */
export const conditionIssues = (condition: unknown): Array<ConditionIssue> => {
  const issues: Array<ConditionIssue> = []
  let nodes = 0
  let tooBig = false
  const issue = (path: ReadonlyArray<string | number>, message: string) => {
    if (issues.length < 20) issues.push({ path, message })
  }
  /** Counts a node; false once the condition is too deep or too big (then nothing deeper is walked). */
  const enter = (path: ReadonlyArray<string | number>, depth: number, size: number) => {
    if (depth > MAX_CONDITION_DEPTH) {
      issue(path, `nests deeper than ${MAX_CONDITION_DEPTH} levels`)
      return false
    }
    nodes += size
    if (nodes > MAX_CONDITION_NODES) {
      if (!tooBig) issue(path, `the condition holds more than ${MAX_CONDITION_NODES} keys and array items`)
      tooBig = true
      return false
    }
    return true
  }
  const walker = (depth: number): Walker => ({ issue, condition: walkCondition, value: walkValue, literal, depth })
  const literal = (value: unknown, path: ReadonlyArray<string | number>, depth: number): void => {
    if (typeof value !== "object" || value === null) return
    const entries = Array.isArray(value) ? value.map((v, i) => [i, v] as const) : Object.entries(value)
    if (!enter(path, depth, entries.length)) return
    for (const [key, item] of entries) literal(item, [...path, key], depth + 1)
  }
  const walkCondition = (value: unknown, path: ReadonlyArray<string | number>, depth: number): void => {
    if (!isPlainObject(value)) {
      return issue(path, "must be an object of attribute paths and $and, $or, $nor or $not")
    }
    const entries = Object.entries(value)
    if (!enter(path, depth, entries.length)) return
    for (const [key, argument] of entries) {
      const at = [...path, key]
      if (key === "$and" || key === "$or" || key === "$nor") {
        if (!Array.isArray(argument)) issue(at, "must be an array of conditions")
        else if (enter(at, depth + 1, argument.length)) {
          argument.forEach((item, i) => walkCondition(item, [...at, i], depth + 2))
        }
      } else if (key === "$not") walkCondition(argument, at, depth + 1)
      else if (Object.hasOwn(operatorArguments, key)) {
        // Legal in GrowthBook (an attribute named "$in"), but always a misplaced operator in practice.
        issue(at, `${key} applies to a value: write { "<attribute>": { "${key}": ... } }`)
      } else if (key.length > MAX_PATH_LENGTH) {
        issue(at, `attribute paths must be at most ${MAX_PATH_LENGTH} characters`)
      } else walkValue(argument, at, depth + 1)
    }
  }
  const walkValue = (value: unknown, path: ReadonlyArray<string | number>, depth: number): void => {
    if (!isPlainObject(value)) return literal(value, path, depth)
    const keys = Object.keys(value)
    const operators = keys.filter((k) => k.startsWith("$"))
    if (operators.length === 0) return literal(value, path, depth)
    if (operators.length !== keys.length) {
      return issue(path, `mixes operators (${operators.join(", ")}) with fields; use one or the other`)
    }
    if (!enter(path, depth, keys.length)) return
    for (const operator of operators) {
      const check = operatorArguments[operator]
      if (check === undefined) {
        const hint = logicalOperators.has(operator)
          ? `: ${operator} combines conditions, so it belongs at a condition's top level ` +
            "(in $elemMatch, add an attribute path beside it)"
          : `; known: ${conditionOperators.join(", ")}`
        issue([...path, operator], `unknown operator ${operator} on a value${hint}`)
      } else check(value[operator], [...path, operator], walker(depth))
    }
  }
  walkCondition(condition, [], 1)
  return issues
}
