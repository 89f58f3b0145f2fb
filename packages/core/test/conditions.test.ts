/**
 * Targeting conditions against GrowthBook: the public conformance vectors' evalCondition cases
 * (test/conformance, copied from the team's shared folder), and a differential test against the
 * @growthbook/growthbook package's own evalCondition on thousands of seeded random conditions
 * (every operator, nested $and/$or/$nor/$not/$elemMatch, dot paths into objects and arrays) and
 * attribute sets of every JSON type.
 */
import { evalCondition as growthbookEvalCondition, paddedVersionString } from "@growthbook/growthbook"
import { describe, expect, it } from "vitest"
import {
  compileCondition,
  conditionIssues,
  conditionOperators,
  MAX_CONDITION_DEPTH,
  MAX_CONDITION_NODES,
  paddedVersion
} from "../src/experiments/Conditions.js"
import { makeRandom } from "../src/index.js"
import cases from "./conformance/growthbook-cases.json" with { type: "json" }

type Json = null | boolean | number | string | Array<Json> | { [key: string]: Json }

/** Conformance cases whose conditions this project refuses at creation instead of evaluating. */
const refused = new Map<string, string>([
  ["$inGroup", "saved groups do not exist here"],
  ["$notInGroup", "saved groups do not exist here"],
  ["$savedGroup", "saved groups do not exist here"],
  ["$regx", "unknown operator"],
  ["invalid regex", "invalid regex"]
])

describe("GrowthBook conformance vectors: evalCondition", () => {
  const evalCases = cases.evalCondition as unknown as Array<[string, Json, Json, boolean, unknown?]>
  it("has the evalCondition section", () => expect(evalCases.length).toBeGreaterThan(200))

  it("evaluates every accepted case as the vector expects; refuses only unsupported ones", () => {
    let evaluated = 0
    const refusedNames: Array<string> = []
    for (const [name, condition, attributes, expected, savedGroups] of evalCases) {
      const issues = conditionIssues(condition)
      if (issues.length > 0) {
        refusedNames.push(name)
        const text = JSON.stringify(condition) + name
        const reason = [...refused.keys()].find((k) => text.includes(k)) ??
          (issues.some((i) => /regular expression/.test(i.message)) ? "invalid regex" : undefined) ??
          (issues.some((i) => /unknown operator|mixes operators|must be/.test(i.message)) ? "malformed" : undefined)
        expect(reason, `${name}: ${JSON.stringify(issues)}`).toBeDefined()
        // A refused condition is one the peer evaluates to false (or cannot evaluate sensibly).
        continue
      }
      if (savedGroups !== undefined) continue
      expect(compileCondition(condition)(attributes), name).toBe(expected)
      evaluated++
    }
    expect(evaluated).toBeGreaterThan(200)
    // The refused cases are few, and each named in the message above when one is not expected.
    expect(refusedNames.length).toBeLessThan(30)
  })
})

describe("paddedVersion", () => {
  it("pads like the peer on versions of every shape", () => {
    const random = makeRandom("versions")
    const part = () => {
      const r = random.nextUint32() % 6
      return r < 3 ? String(random.nextUint32() % 200) : ["rc", "beta", "alpha", "x1"][r - 3]!
    }
    for (let i = 0; i < 5000; i++) {
      const length = 1 + (random.nextUint32() % 5)
      let v = Array.from({ length }, part).join(random.nextUint32() % 4 === 0 ? "-" : ".")
      if (random.nextUint32() % 5 === 0) v = `v${v}`
      if (random.nextUint32() % 7 === 0) v = `${v}+build.${i}`
      expect(paddedVersion(v)).toBe(paddedVersionString(v))
    }
    for (const odd of [0, 7, 1.5, "", null, undefined, true, [], {}]) {
      expect(paddedVersion(odd)).toBe(paddedVersionString(odd))
    }
  })
})

/** A seeded generator of attribute sets and conditions covering every operator. */
const makeGenerator = (seed: string) => {
  const random = makeRandom(seed)
  const int = (n: number) => random.nextUint32() % n
  const pick = <A>(items: ReadonlyArray<A>): A => items[int(items.length)]!
  const strings = ["US", "us", "CA", "", "1.2.3", "v2.0.0-rc.1", "1.10.0", "10", "2", "hello world", "Firefox", "true"]
  const numbers = [0, 1, -3, 2, 10, 2.5, 100, 1e6]
  const primitive = (): Json => {
    const r = int(10)
    return r < 4 ? pick(strings) : r < 7 ? pick(numbers) : r < 9 ? r === 7 : null
  }
  const value = (depth: number): Json => {
    const r = int(10)
    if (depth > 2 || r < 6) return primitive()
    if (r < 8) return Array.from({ length: int(4) }, () => value(depth + 1))
    return { os: primitive(), version: pick(strings), screen: { w: pick(numbers) } }
  }
  const keys = ["country", "age", "version", "tags", "device", "premium", "score", "name", "empty"]
  const attributes = (): Record<string, Json> => {
    const result: Record<string, Json> = {}
    for (const key of keys) if (int(4) !== 0) result[key] = value(0)
    if (int(2) === 0) result.tags = Array.from({ length: int(5) }, () => int(3) === 0 ? value(1) : pick(strings))
    if (int(2) === 0) result.device = { os: pick(strings), version: pick(strings), screen: { w: pick(numbers) } }
    return result
  }
  const paths = [...keys, "device.os", "device.version", "device.screen.w", "tags.0", "tags.1", "tags.length", "x.y"]
  const regexes = ["^U", "s$", "\\d+", "a|b", "^1\\.", "[A-Z]{2}", "o/w", "^$", "ll", "^(true|null)$"]
  const versions = ["1.2.3", "1.10.0", "v2.0.0", "2.0.0-rc.1", "1.2", "10", "0.9.9-beta+7"]
  const types = ["string", "number", "boolean", "object", "array", "null", "undefined"]
  const scalar = (): Json => int(2) === 0 ? pick(strings) : pick(numbers)
  const operator = (name: string, depth: number): Json => {
    switch (name) {
      case "$eq":
      case "$ne":
        return primitive()
      case "$lt":
      case "$lte":
      case "$gt":
      case "$gte":
        return scalar()
      case "$veq":
      case "$vne":
      case "$vgt":
      case "$vgte":
      case "$vlt":
      case "$vlte":
        return pick(versions)
      case "$in":
      case "$nin":
      case "$ini":
      case "$nini":
        return Array.from({ length: int(4) }, primitive)
      case "$exists":
        return int(2) === 0
      case "$type":
        return pick(types)
      case "$size":
        return int(2) === 0 ? int(4) : { [pick(["$gt", "$lte", "$eq"])]: int(4) }
      case "$not":
        return conditionValue(depth + 1)
      case "$all":
      case "$alli":
        return Array.from({ length: 1 + int(2) }, () => int(3) === 0 ? conditionValue(depth + 1) : pick(strings))
      case "$elemMatch":
        // A condition of only $-keys would be read as operators on the element (GrowthBook's rule), so it gets a path.
        return int(2) === 0 ? operators(depth + 1) : { ...condition(depth + 1), [pick(paths)]: primitive() }
      default:
        return pick(regexes)
    }
  }
  const valueOperators = conditionOperators.filter((o) => !["$and", "$or", "$nor"].includes(o))
  const operators = (depth: number): Record<string, Json> => {
    const result: Record<string, Json> = {}
    for (let i = 0, n = 1 + int(2); i < n; i++) {
      const name = depth > 3 ? pick(["$eq", "$in", "$gt", "$regex", "$exists", "$vgte"]) : pick(valueOperators)
      result[name] = operator(name, depth)
    }
    return result
  }
  const conditionValue = (depth: number): Json => {
    const r = int(10)
    if (r < 3) return primitive()
    if (r < 4) return int(2) === 0 ? [pick(strings)] : { os: pick(strings) }
    return operators(depth)
  }
  const condition = (depth: number): Record<string, Json> => {
    const result: Record<string, Json> = {}
    for (let i = 0, n = 1 + int(3); i < n; i++) {
      const r = int(10)
      if (depth < 3 && r < 3) {
        const logical = pick(["$and", "$or", "$nor", "$not"])
        result[logical] = logical === "$not"
          ? condition(depth + 1)
          : Array.from({ length: int(3) }, () => condition(depth + 1))
      } else result[pick(paths)] = conditionValue(depth)
    }
    return result
  }
  return { attributes, condition: () => condition(0) }
}

describe("agreement with @growthbook/growthbook's evalCondition", () => {
  it("on 4,000 seeded conditions x 25 attribute sets, covering every operator", () => {
    const generate = makeGenerator("conditions-differential")
    const attributeSets = Array.from({ length: 25 }, generate.attributes)
    const seen = new Set<string>()
    let passed = 0
    let compared = 0
    for (let i = 0; i < 4000; i++) {
      const condition = generate.condition()
      const text = JSON.stringify(condition)
      for (const operator of conditionOperators) if (text.includes(`"${operator}"`)) seen.add(operator)
      expect(conditionIssues(condition), text).toEqual([])
      const predicate = compileCondition(condition)
      for (const attributes of attributeSets) {
        const theirs = growthbookEvalCondition(attributes, condition as never)
        const ours = predicate(attributes)
        if (ours !== theirs) expect({ condition, attributes, ours }).toEqual({ condition, attributes, ours: theirs })
        if (ours) passed++
        compared++
      }
    }
    expect(compared).toBe(100_000)
    expect([...seen].sort()).toEqual([...conditionOperators].sort())
    // Both outcomes occur often, so agreement is not a constant answer.
    expect(passed / compared).toBeGreaterThan(0.1)
    expect(passed / compared).toBeLessThan(0.9)
  })
})

describe("conditionIssues", () => {
  it("names the path of unknown operators, bad arguments and invalid regexes", () => {
    expect(conditionIssues({ country: { $inn: ["US"] } })).toEqual([
      { path: ["country", "$inn"], message: expect.stringContaining("unknown operator $inn") }
    ])
    expect(conditionIssues({ $and: [{ name: { $regex: "(" } }] })[0]!.path).toEqual(["$and", 0, "name", "$regex"])
    expect(conditionIssues({ age: { $in: 3 } })[0]).toEqual({ path: ["age", "$in"], message: "must be an array" })
    expect(conditionIssues({ $in: [1] })[0]!.path).toEqual(["$in"])
    // GrowthBook reads other "$" keys at the top level as attribute names.
    expect(conditionIssues({ $groups: { $elemMatch: { $eq: "a" } } })).toEqual([])
    expect(conditionIssues({ a: { $eq: 1, b: 2 } })[0]!.message).toMatch(/mixes operators/)
    expect(conditionIssues([])[0]!.message).toMatch(/must be an object/)
    expect(conditionIssues({ a: { $type: "date" } })[0]!.path).toEqual(["a", "$type"])
    expect(conditionIssues({ tags: { $elemMatch: 3 } })[0]!.path).toEqual(["tags", "$elemMatch"])
  })

  it("refuses conditions beyond the depth and size limits, naming the limit", () => {
    let deep: Json = { a: 1 }
    for (let i = 0; i < MAX_CONDITION_DEPTH; i++) deep = { $not: deep }
    expect(conditionIssues(deep)[0]!.message).toBe(`nests deeper than ${MAX_CONDITION_DEPTH} levels`)
    const wide = { a: { $in: Array.from({ length: MAX_CONDITION_NODES }, (_, i) => i) } }
    expect(conditionIssues(wide)[0]!.message).toMatch(String(MAX_CONDITION_NODES))
    const fits = { a: { $in: Array.from({ length: MAX_CONDITION_NODES - 3 }, (_, i) => i) } }
    expect(conditionIssues(fits)).toEqual([])
  })
})
