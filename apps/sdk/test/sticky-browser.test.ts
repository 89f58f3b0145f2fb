/**
 * The localStorage sticky store in a real browser (Debian's Chromium through playwright-core): the
 * built module is served from a test origin, keeps a user's variant across page loads (set if
 * absent), keeps users and experiments apart, and in a page whose origin has no storage
 * (a sandboxed document: localStorage throws) still answers with the hashed variant, keeping nothing.
 */
import * as fs from "node:fs/promises"
import * as path from "node:path"
import { fileURLToPath } from "node:url"
import { type Browser, chromium, type Page } from "playwright-core"
import { afterAll, beforeAll, describe, expect, it } from "vitest"

const here = path.dirname(fileURLToPath(import.meta.url))
const origin = "http://sticky.test"
let browser: Browser

beforeAll(async () => {
  browser = await chromium.launch({
    executablePath: process.env["ML_TEST_CHROMIUM"] ?? "/usr/bin/chromium",
    args: ["--no-sandbox", "--disable-dev-shm-usage"]
  })
})
afterAll(() => browser?.close())

/** A page on the test origin serving the built store module, and (sandboxed) a document without storage. */
const openPage = async (context: Awaited<ReturnType<Browser["newContext"]>>): Promise<Page> => {
  const moduleSource = await fs.readFile(path.join(here, "../dist/StickyStore.js"), "utf8")
  await context.route(`${origin}/**`, (route) => {
    const url = new URL(route.request().url())
    if (url.pathname === "/sticky-store.js") {
      return route.fulfill({
        body: moduleSource,
        headers: { "content-type": "text/javascript", "access-control-allow-origin": "*" }
      })
    }
    const sandboxed = url.pathname === "/sandboxed.html"
    return route.fulfill({
      body: "<!doctype html><title>sticky</title>",
      headers: {
        "content-type": "text/html",
        ...(sandboxed ? { "content-security-policy": "sandbox allow-scripts" } : {})
      }
    })
  })
  const page = await context.newPage()
  await page.goto(`${origin}/index.html`)
  return page
}

type Kept = { variant: number; modelId: string } | undefined

/**
 * Runs the store in the page: set if absent for each (experiment, user, variant), then reads. The
 * script is text, so the test runner's transform (which rewrites `import()`) never touches it.
 */
const inPage = (
  page: Page,
  writes: ReadonlyArray<[string, string, number]>,
  reads: ReadonlyArray<[string, string]>
): Promise<{ written: Array<Kept>; read: Array<Kept> }> =>
  page.evaluate(`(async () => {
    const { localStorageStickyStore } = await import(${JSON.stringify(`${origin}/sticky-store.js`)})
    const store = localStorageStickyStore()
    const written = []
    for (const [experimentId, userId, variant] of ${JSON.stringify(writes)}) {
      written.push(await store.setIfAbsent(experimentId, userId, { variant, modelId: "model-" + variant }))
    }
    const read = []
    for (const [experimentId, userId] of ${JSON.stringify(reads)}) read.push(await store.get(experimentId, userId))
    return { written, read }
  })()`)

describe("localStorageStickyStore in Chromium", () => {
  it("keeps a user's variant across page loads, set if absent, per experiment and user", async () => {
    const context = await browser.newContext()
    const page = await openPage(context)
    const first = await inPage(page, [["exp-1", "alice", 1], ["exp-1", "alice", 0], ["exp-2", "alice", 0]], [])
    expect(first.written.map((k) => k?.variant)).toEqual([1, 1, 0])

    // A new page load of the same origin reads what the first one kept.
    await page.reload()
    const second = await inPage(page, [["exp-1", "alice", 0]], [["exp-1", "alice"], ["exp-2", "alice"], [
      "exp-1",
      "bob"
    ]])
    expect(second.written).toEqual([{ variant: 1, modelId: "model-1" }])
    expect(second.read).toEqual([{ variant: 1, modelId: "model-1" }, { variant: 0, modelId: "model-0" }, undefined])
    const raw = await page.evaluate(() => window.localStorage.getItem("ml-sticky:exp-1:alice"))
    expect(JSON.parse(raw!)).toEqual({ variant: 1, modelId: "model-1" })
    // A value edited by hand into something else reads as none.
    await page.evaluate(() => window.localStorage.setItem("ml-sticky:exp-1:carol", "{\"variant\":\"x\"}"))
    expect((await inPage(page, [], [["exp-1", "carol"]])).read).toEqual([undefined])
    await context.close()
  })

  it("answers with the given variant, keeping nothing, where the origin has no storage", async () => {
    const context = await browser.newContext()
    const page = await openPage(context)
    await page.goto(`${origin}/sandboxed.html`)
    const storageThrows = await page.evaluate(() => {
      try {
        void window.localStorage
        return false
      } catch {
        return true
      }
    })
    expect(storageThrows).toBe(true)
    const result = await inPage(page, [["exp-1", "dana", 1], ["exp-1", "dana", 0]], [["exp-1", "dana"]])
    expect(result.written.map((k) => k?.variant)).toEqual([1, 0])
    expect(result.read).toEqual([undefined])
    await context.close()
  })
})
