import { describe, expect, it } from "vitest"
import {
  decodeSearchCursor,
  encodeSearchCursor,
  likeMatches,
  matchesFilter,
  parseFilter,
  parseOrderBy,
  searchModelsIn,
  SearchSyntaxError
} from "../src/index.js"
import { sampleModel } from "../src/testing/index.js"

const issueOf = (f: () => unknown): string => {
  try {
    f()
  } catch (error) {
    if (error instanceof SearchSyntaxError) return error.issue
    throw error
  }
  throw new Error("expected a SearchSyntaxError")
}

describe("search filter parser", () => {
  it("parses the issue's example into typed conditions", () => {
    expect(
      parseFilter("name = 'churn' AND tags.team = 'risk' AND metrics.auc > 0.9 AND status IN ('staging', 'production')")
    ).toEqual([
      { field: { kind: "attribute", name: "name" }, op: "=", value: "churn" },
      { field: { kind: "tag", key: "team" }, op: "=", value: "risk" },
      { field: { kind: "metric", key: "auc" }, op: ">", value: 0.9 },
      { field: { kind: "attribute", name: "status" }, op: "IN", values: ["staging", "production"] }
    ])
  })

  it("parses every operator, with keywords in any case and <> as !=", () => {
    const ops = ["=", "!=", "<", "<=", ">", ">="] as const
    for (const op of ops) {
      expect(parseFilter(`metrics.auc ${op} 1`)).toEqual([{ field: { kind: "metric", key: "auc" }, op, value: 1 }])
    }
    expect(parseFilter("version <> '1'")[0]).toMatchObject({ op: "!=" })
    expect(parseFilter("name like 'ch%' and algorithm ILIKE '%REG%'")).toEqual([
      { field: { kind: "attribute", name: "name" }, op: "LIKE", value: "ch%" },
      { field: { kind: "attribute", name: "algorithm" }, op: "ILIKE", value: "%REG%" }
    ])
    expect(parseFilter("metrics.auc in (1, -2.5, 3e2)")).toEqual([
      { field: { kind: "metric", key: "auc" }, op: "IN", values: [1, -2.5, 300] }
    ])
    expect(parseFilter("labels = 'gpu' AND labels != 'old' AND labels IN ('a')")).toEqual([
      { field: { kind: "labels" }, op: "=", value: "gpu" },
      { field: { kind: "labels" }, op: "!=", value: "old" },
      { field: { kind: "labels" }, op: "IN", values: ["a"] }
    ])
  })

  it("reads quoted strings, backticked keys and parameters of either type", () => {
    expect(parseFilter("tags.`team name` = 'it''s' AND params.`max-depth` >= 6 AND params.penalty = 'l2'")).toEqual([
      { field: { kind: "tag", key: "team name" }, op: "=", value: "it's" },
      { field: { kind: "param", key: "max-depth" }, op: ">=", value: 6 },
      { field: { kind: "param", key: "penalty" }, op: "=", value: "l2" }
    ])
    expect(parseFilter("metrics.`a``b` = 1")[0]).toMatchObject({ field: { kind: "metric", key: "a`b" } })
  })

  it("normalises created_at to an ISO instant, from a date or epoch milliseconds", () => {
    expect(parseFilter("created_at >= '2026-01-01'")[0]).toMatchObject({ value: "2026-01-01T00:00:00.000Z" })
    expect(parseFilter("created_at < 0")[0]).toMatchObject({ value: "1970-01-01T00:00:00.000Z" })
  })

  it("treats a blank filter as no condition", () => {
    expect(parseFilter("")).toEqual([])
    expect(parseFilter("   ")).toEqual([])
  })

  it("names the bad token and its position", () => {
    expect(issueOf(() => parseFilter("name = 'churn' ANDD status = 'draft'"))).toBe("unexpected token 'ANDD' at 15")
    expect(issueOf(() => parseFilter("name = "))).toBe("unexpected end of input at 7")
    expect(issueOf(() => parseFilter("name = 'churn"))).toBe("unterminated string at 7")
    expect(issueOf(() => parseFilter("nme = 'x'"))).toBe("unknown field 'nme' at 0")
    expect(issueOf(() => parseFilter("name == 'x'"))).toBe("unexpected token '=' at 6")
    expect(issueOf(() => parseFilter("name ~ 'x'"))).toBe("unexpected token '~' at 5")
    expect(issueOf(() => parseFilter("metrics.auc > 'high'"))).toBe(
      "metrics.auc compares with numbers: got 'high' at 14"
    )
    expect(issueOf(() => parseFilter("name = 3"))).toBe("name compares with 'quoted strings': got 3 at 7")
    expect(issueOf(() => parseFilter("metrics = 1"))).toBe("'metrics' at 0 needs a key")
    expect(issueOf(() => parseFilter("metrics.auc LIKE '1%'"))).toBe(
      "operator 'LIKE' at 12 does not apply to metrics.auc"
    )
    expect(issueOf(() => parseFilter("labels > 'a'"))).toBe("operator '>' at 7 does not apply to labels")
    expect(issueOf(() => parseFilter("name IN ()"))).toBe("unexpected token ')' at 9")
    expect(issueOf(() => parseFilter("name IN ('a' 'b')"))).toBe("unexpected token ''b'' at 13")
    expect(issueOf(() => parseFilter("name LIKE 'a\\'"))).toBe("pattern at 10 ends with an escape character '\\'")
    expect(issueOf(() => parseFilter("metrics.auc > 1e999"))).toBe("number '1e999' at 14 is out of range")
    expect(issueOf(() => parseFilter("metrics.auc > 0.9x"))).toBe("malformed number '0.9x' at 14")
    expect(issueOf(() => parseFilter("created_at > 'yesterday'"))).toContain("created_at compares with an ISO 8601")
    expect(issueOf(() => parseFilter("name = 'a' OR name = 'b'"))).toBe("unexpected token 'OR' at 11")
  })

  it("enforces its bounds", () => {
    expect(issueOf(() => parseFilter("x".repeat(4097)))).toBe("filter is longer than 4096 characters")
    const many = Array.from({ length: 33 }, () => "name = 'a'").join(" AND ")
    expect(issueOf(() => parseFilter(many))).toMatch(/more than 32 conditions/)
    const values = Array.from({ length: 101 }, (_, i) => `'${i}'`).join(", ")
    expect(issueOf(() => parseFilter(`name IN (${values})`))).toMatch(/more than 100 values/)
    expect(issueOf(() => parseFilter(`tags.\`${"k".repeat(129)}\` = 'a'`))).toMatch(/must be 1 to 128 characters/)
  })
})

describe("search order parser", () => {
  it("parses a field and a direction", () => {
    expect(parseOrderBy("metrics.auc DESC")).toEqual({ field: { kind: "metric", key: "auc" }, direction: "DESC" })
    expect(parseOrderBy("created_at")).toEqual({ field: { kind: "attribute", name: "created_at" }, direction: "ASC" })
    expect(parseOrderBy("tags.team asc")).toEqual({ field: { kind: "tag", key: "team" }, direction: "ASC" })
    expect(parseOrderBy("")).toBeUndefined()
  })

  it("refuses what it cannot order by, naming the token", () => {
    expect(issueOf(() => parseOrderBy("labels"))).toBe("cannot order by 'labels' at 0")
    expect(issueOf(() => parseOrderBy("params.C"))).toBe("cannot order by 'params.C' at 0")
    expect(issueOf(() => parseOrderBy("name DOWN"))).toBe("unexpected token 'DOWN' at 5")
    expect(issueOf(() => parseOrderBy("name ASC, version"))).toBe("unexpected token ',' at 8")
  })
})

describe("search evaluation", () => {
  it("implements LIKE with %, _ and backslash escapes", () => {
    expect(likeMatches("churn-v2", "churn%")).toBe(true)
    expect(likeMatches("churn-v2", "%v_")).toBe(true)
    expect(likeMatches("churn-v2", "%v")).toBe(false)
    expect(likeMatches("100%", "100\\%")).toBe(true)
    expect(likeMatches("1000", "100\\%")).toBe(false)
    expect(likeMatches("a_b", "a\\_b")).toBe(true)
    expect(likeMatches("axb", "a\\_b")).toBe(false)
    expect(likeMatches("aaa", "%a%a%a%")).toBe(true)
    expect(likeMatches("😀x", "_x")).toBe(true)
  })

  it("never matches a missing field or a value of another type, not even with !=", () => {
    const model = sampleModel({ metrics: { auc: 0.9 }, parameters: { C: 1, penalty: "l2" } })
    expect(matchesFilter(model, parseFilter("metrics.f1 != 1"))).toBe(false)
    expect(matchesFilter(model, parseFilter("tags.team != 'x'"))).toBe(false)
    expect(matchesFilter(model, parseFilter("params.C = '1'"))).toBe(false)
    expect(matchesFilter(model, parseFilter("params.C = 1 AND params.penalty = 'l2'"))).toBe(true)
    expect(matchesFilter(model, parseFilter("metrics.constructor > 0"))).toBe(false)
  })

  it("orders with missing values last in both directions and pages with cursors", () => {
    const models = [0.5, undefined, 0.9, 0.7, undefined, 0.9].map((auc) =>
      sampleModel({ metrics: auc === undefined ? {} : { auc } })
    )
    for (const direction of ["ASC", "DESC"] as const) {
      const order = parseOrderBy(`metrics.auc ${direction}`)!
      const all = searchModelsIn(models, { filter: [], order, limit: 100 })
      const aucs = all.map((m) => m.metrics.auc)
      expect(aucs).toEqual(
        direction === "ASC" ? [0.5, 0.7, 0.9, 0.9, undefined, undefined] : [
          0.9,
          0.9,
          0.7,
          0.5,
          undefined,
          undefined
        ]
      )
      const paged: Array<string> = []
      let after = undefined
      for (;;) {
        const page = searchModelsIn(models, { filter: [], order, after, limit: 2 })
        paged.push(...page.map((m) => m.id))
        if (page.length < 2) break
        const cursor = decodeSearchCursor(encodeSearchCursor(page[1]!, order), order)
        if (typeof cursor === "string") throw new Error(cursor)
        after = cursor
      }
      expect(paged).toEqual(all.map((m) => m.id))
    }
  })

  it("refuses a cursor of another order or one it did not make", () => {
    const model = sampleModel()
    const byAuc = parseOrderBy("metrics.auc DESC")
    expect(decodeSearchCursor(encodeSearchCursor(model, byAuc), parseOrderBy("name"))).toBe(
      "belongs to the order 'metrics.auc DESC', not 'name ASC'"
    )
    expect(decodeSearchCursor("not-a-cursor", byAuc)).toBe("is not a cursor returned by this search")
    const forged = btoa(JSON.stringify({ o: "name ASC", v: "a\u0000", id: model.id }))
    expect(decodeSearchCursor(forged, parseOrderBy("name"))).toBe("is not a cursor returned by this search")
    expect(decodeSearchCursor(encodeSearchCursor(model, byAuc), byAuc)).toEqual({ value: 0.91, id: model.id })
  })
})
