/**
 * MemoizedRouter keeps Hono's router answers per method and path: every answer must be the one
 * Hono's own router gives (the same handlers in the same order, the same parameters), on the
 * app's real route table, and the kept answers stay within their bound.
 */
import { Hono } from "hono"
import type { Router } from "hono/router"
import { RegExpRouter } from "hono/router/reg-exp-router"
import { SmartRouter } from "hono/router/smart-router"
import { TrieRouter } from "hono/router/trie-router"
import { describe, expect, it } from "vitest"
import { MemoizedRouter } from "../src/MemoizedRouter.js"
import { makeTestApp } from "./helpers.js"

const honoDefault = <T>(): Router<T> => new SmartRouter<T>({ routers: [new RegExpRouter(), new TrieRouter()] })

const requests: Array<[string, string]> = [
  ["POST", "/v1/experiments/exp_1/assignments"],
  ["POST", "/v1/experiments/exp_2/assignments"],
  ["POST", "/v1/experiments/exp_1/metrics"],
  ["GET", "/v1/experiments/exp_1"],
  ["GET", "/v1/drift/reports/rep_1"],
  ["GET", "/v1/drift/reports/rep_1.html"],
  ["POST", "/v1/drift/monitors/mon_1/observations"],
  ["GET", "/healthz"],
  ["GET", "/metrics"],
  ["GET", "/v1/nowhere"],
  ["DELETE", "/v1/experiments/exp_1/assignments"],
  ["GET", "/"],
  ["GET", "/assets/app.js"]
]

describe("MemoizedRouter", () => {
  it("answers as Hono's default router on the app's routes, first and repeated", async () => {
    const { app, close } = await makeTestApp()
    try {
      const plain = honoDefault<unknown>()
      const memoized = new MemoizedRouter(honoDefault<unknown>())
      for (const route of app.routes) {
        plain.add(route.method, route.path, [route.handler, route])
        memoized.add(route.method, route.path, [route.handler, route])
      }
      for (let round = 0; round < 2; round++) {
        for (const [method, path] of requests) expect(memoized.match(method, path)).toEqual(plain.match(method, path))
      }
      expect(memoized.size).toBe(requests.length)
    } finally {
      await close()
    }
  })

  it("serves the same answers through Hono as the default router", async () => {
    const build = (router?: Router<never>) => {
      const app = router === undefined ? new Hono() : new Hono({ router: router as never })
      app.use("*", async (c, next) => {
        await next()
        c.res.headers.set("x-seen", "1")
      })
      app.get("/items/:id", (c) => c.json({ id: c.req.param("id"), route: c.req.routePath }))
      app.get("/items/:id{[^/]+\\.html}", (c) => c.text(`page ${c.req.param("id")}`))
      app.post("/items/:id/parts/:part", (c) => c.json(c.req.param()))
      return app
    }
    const plain = build()
    const memoized = build(new MemoizedRouter(honoDefault()))
    const calls: Array<[string, string]> = [
      ["GET", "/items/a"],
      ["GET", "/items/b"],
      ["GET", "/items/a.html"],
      ["POST", "/items/a/parts/b%20c"],
      ["GET", "/nowhere"]
    ]
    for (let round = 0; round < 2; round++) {
      for (const [method, path] of calls) {
        const [a, b] = await Promise.all([plain, memoized].map((app) => app.request(path, { method })))
        expect({ status: b!.status, seen: b!.headers.get("x-seen"), body: await b!.text() }).toEqual({
          status: a!.status,
          seen: a!.headers.get("x-seen"),
          body: await a!.text()
        })
      }
    }
  })

  it("keeps at most `limit` answers, none for long paths, and forgets them when a route is added", () => {
    const memoized = new MemoizedRouter<string>(new TrieRouter(), { limit: 2, maxPathLength: 20 })
    memoized.add("GET", "/a/:id", "a")
    memoized.match("GET", "/a/1")
    memoized.match("GET", "/a/2")
    expect(memoized.size).toBe(2)
    memoized.match("GET", "/a/3")
    expect(memoized.size).toBeLessThanOrEqual(2)
    expect(memoized.match("GET", `/a/${"x".repeat(30)}`)[0]).toHaveLength(1)
    expect(memoized.size).toBeLessThanOrEqual(2)
    memoized.add("GET", "/b", "b")
    expect(memoized.size).toBe(0)
  })
})
