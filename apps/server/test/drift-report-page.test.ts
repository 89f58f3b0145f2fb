/**
 * The shareable drift report page (GET /v1/drift/reports/{id}.html) of a report made through the
 * HTTP API: the numbers and verdicts the JSON report holds, hostile category names escaped, a
 * strict policy of its own, and in a real browser charts that render with no request beyond the
 * page itself.
 */
import { serve } from "@hono/node-server"
import type { AddressInfo } from "node:net"
import { type Browser, chromium } from "playwright-core"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { json, makeTestApp } from "./helpers.js"

let t: Awaited<ReturnType<typeof makeTestApp>>
let server: ReturnType<typeof serve>
let baseUrl: string
let browser: Browser

let state = 11
const uniform = () => {
  state = (Math.imul(state, 1664525) + 1013904223) >>> 0
  return state / 4294967296
}
const normalish = (n: number, loc = 0) =>
  Array.from({ length: n }, () => loc + uniform() + uniform() + uniform() + uniform() - 2)

/** Category names meant to break out of text, attributes and tags if they were not escaped. */
const hostile = [
  "<script>alert(\"owned\")</script>",
  "\"><img src=x onerror=alert(1)>",
  "Tom & Jerry's 'quoted'",
  "</svg><iframe src=//example.com>"
]
/** 20 ordinary categories besides the hostile ones: more than a chart shows, so some become "other". */
const ordinary = Array.from({ length: 20 }, (_, i) => `c${String(i).padStart(2, "0")}`)
const categories = [...hostile, ...ordinary]

interface Check {
  readonly feature: string
  readonly type: string
  readonly severity: string
  readonly psi: number | null
  readonly ksStatistic: number | null
  readonly pValue: number | null
  readonly adjustedPValue: number | null
  readonly windowCount: number
  readonly missingShare: number
  readonly baselineShares: ReadonlyArray<number> | null
}
interface Report {
  readonly id: string
  readonly monitorId: string
  readonly at: string
  readonly features: ReadonlyArray<Check>
}
let report: Report

beforeAll(async () => {
  t = await makeTestApp({ ML_DRIFT_SCHEDULER_TICK_MS: "3600000" })
  server = serve({ fetch: t.app.fetch, port: 0, hostname: "127.0.0.1" })
  await new Promise<void>((resolve) => server.once("listening", () => resolve()))
  baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
  browser = await chromium.launch({
    executablePath: process.env["ML_TEST_CHROMIUM"] ?? "/usr/bin/chromium",
    args: ["--no-sandbox", "--disable-dev-shm-usage"]
  })

  const call = async (path: string, body: unknown, method = "POST") => {
    const response = await t.app.request(path, json(body, { method }))
    expect(response.status, `${path}: ${await response.clone().text()}`).toBeLessThan(300)
    return response.json()
  }
  await call("/v1/drift/monitors", {
    id: "shared-report",
    features: [
      { name: "amount", kind: "feature", type: "numeric" },
      { name: "country", kind: "feature", type: "categorical" },
      { name: "score", kind: "prediction", type: "numeric" }
    ],
    settings: { windowSize: 2000, minWindow: 100 }
  })
  await call("/v1/drift/monitors/shared-report/baseline", {
    amount: normalish(4000),
    country: Array.from({ length: 4800 }, (_, i) => categories[i % categories.length]),
    score: normalish(1000)
  }, "PUT")
  // amount shifts by one unit; country moves to the hostile names; score gets too few values to test.
  await call("/v1/drift/monitors/shared-report/observations", {
    values: {
      amount: [...normalish(1500, 1), null],
      country: Array.from({ length: 1200 }, (_, i) => i % 2 === 0 ? hostile[i % 4]! : categories[i % 24]!),
      score: normalish(20)
    }
  })
  report = (await call("/v1/drift/monitors/shared-report/check", undefined)) as Report
}, 120_000)

afterAll(async () => {
  await browser?.close()
  server?.close()
  await t?.close()
})

const page = () => t.app.request(`/v1/drift/reports/${report.id}.html`)

describe("GET /v1/drift/reports/{id}.html", () => {
  it("answers the report kept by the check, as JSON by id and as a page with its own strict policy", async () => {
    const stored = await t.app.request(`/v1/drift/reports/${report.id}`)
    expect(stored.status).toBe(200)
    expect(await stored.json()).toEqual(report)

    const response = await page()
    expect(response.status).toBe(200)
    expect(response.headers.get("content-type")).toBe("text/html; charset=UTF-8")
    expect(response.headers.get("x-content-type-options")).toBe("nosniff")
    const policy = response.headers.get("content-security-policy")!
    expect(policy).toMatch(/^default-src 'none'; style-src 'sha256-[A-Za-z0-9+/]+=*'; img-src data:;/u)
    expect(policy).not.toContain("unsafe")
    expect(policy).not.toContain("script-src")
  })

  it("escapes every category name: no markup from the data reaches the page", async () => {
    const html = await (await page()).text()
    // No tag but the page's own, and no event-handler attribute in any tag (as text, "onerror=" is harmless).
    expect(html.match(/<(script|iframe|img)\b/giu)).toBeNull()
    expect(html.match(/<[a-z][^>]*\son[a-z]+\s*=/giu)).toBeNull()
    // Each hostile name is present in full, escaped (in the shares table and the bars' tooltips).
    const escaped = (s: string) =>
      s.replace(/&/gu, "&amp;").replace(/</gu, "&lt;").replace(/>/gu, "&gt;").replace(/"/gu, "&quot;").replace(
        /'/gu,
        "&#39;"
      )
    for (const name of hostile) expect(html).toContain(escaped(name))
  })

  it("shows per feature the verdict and every statistic exactly as the JSON report holds them", async () => {
    expect(report.features.map((f) => [f.feature, f.severity !== "none"])).toEqual([
      ["amount", true],
      ["country", true],
      ["score", false]
    ])
    expect(report.features[2]!.pValue).toBeNull()
    const view = await browser.newPage()
    try {
      await view.goto(`${baseUrl}/v1/drift/reports/${report.id}.html`)
      const rows = await view.$$eval("table.summary tbody tr", (trs) =>
        trs.map((tr) => ({
          feature: tr.querySelector("code")!.textContent,
          severity: tr.querySelector("[data-severity]")!.getAttribute("data-severity"),
          values: [...tr.querySelectorAll("td.n")].map((td) => td.querySelector("data")?.getAttribute("value") ?? null)
        })))
      expect(rows).toEqual(report.features.map((f) => ({
        feature: f.feature,
        severity: f.severity,
        values: [f.psi, f.ksStatistic, f.pValue, f.adjustedPValue, f.windowCount, f.missingShare].map((x) =>
          x === null ? null : String(x)
        )
      })))
      const sections = await view.$$eval("section.feature", (all) =>
        all.map((s) => ({
          feature: s.querySelector("h2 code")!.textContent,
          severity: s.querySelector("h2 [data-severity]")!.getAttribute("data-severity"),
          charts: s.querySelectorAll("svg").length
        })))
      expect(sections).toEqual(report.features.map((f) => ({
        feature: f.feature,
        severity: f.severity,
        charts: f.baselineShares === null ? 0 : 1
      })))
      const worst = ["none", "low", "medium", "high", "critical"]
        .filter((s) => report.features.some((f) => f.severity === s)).pop()
      // The verdict's badge comes first; the dataset drift fact carries its own.
      expect(await view.locator("dl.facts [data-severity]").first().getAttribute("data-severity")).toBe(worst)
      expect(await view.locator("dl.facts [data-drifted]").textContent()).toBe("2")
    } finally {
      await view.close()
    }
  })

  it("draws the distributions as SVG in a real browser without any request beyond the page", async () => {
    const view = await browser.newPage()
    const requests: Array<string> = []
    const problems: Array<string> = []
    view.on("request", (request) => requests.push(request.url()))
    view.on("console", (message) => problems.push(`${message.type()}: ${message.text()}`))
    view.on("pageerror", (error) => problems.push(error.message))
    try {
      const url = `${baseUrl}/v1/drift/reports/${report.id}.html`
      await view.goto(url, { waitUntil: "load" })
      expect(requests).toEqual([url])
      expect(problems).toEqual([]) // a stylesheet the policy refused would be reported here
      expect(await view.evaluate(() => document.querySelectorAll("script, iframe, img, [onerror]").length)).toBe(0)
      // The stylesheet applies (its hash is in the policy): verdict badges get their colour.
      expect(await view.locator("section.feature .sev").first().evaluate((e) => getComputedStyle(e).backgroundColor))
        .not.toBe("rgba(0, 0, 0, 0)")

      const charts = view.locator("svg.distribution")
      expect(await charts.count()).toBe(2)
      for (let i = 0; i < 2; i++) {
        const box = await charts.nth(i).boundingBox()
        expect(box!.width).toBeGreaterThan(200)
        expect(box!.height).toBeGreaterThan(80)
      }
      // amount: one baseline and one current bar per bin, and the tallest current bar has height.
      const amount = report.features[0]!
      const bars = charts.nth(0).locator("rect[data-series=current]")
      expect(await bars.count()).toBe(amount.baselineShares!.length)
      const heights = await bars.evaluateAll((rects) => rects.map((r) => (r as SVGGraphicsElement).getBBox().height))
      expect(Math.max(...heights)).toBeGreaterThan(10)
      // country: 24 categories, the 12 largest shown and the other 12 as one bar.
      expect(await charts.nth(1).locator("rect[data-series=baseline]").count()).toBe(13)
      expect(await charts.nth(1).textContent()).toContain("other (12 categories)")
    } finally {
      await view.close()
    }
  })

  it("answers JSON problems: 404 naming an unknown report, 400 naming the field for a malformed id", async () => {
    const missing = await t.app.request("/v1/drift/reports/check-zzzzzz-1.html")
    expect(missing.status).toBe(404)
    expect(missing.headers.get("content-type")).toContain("application/problem+json")
    expect(await missing.json()).toMatchObject({ detail: expect.stringContaining("check-zzzzzz-1") })
    expect((await t.app.request("/v1/drift/reports/check-zzzzzz-1")).status).toBe(404)

    const malformed = await t.app.request("/v1/drift/reports/%3Cb%3E.html")
    expect(malformed.status).toBe(400)
    expect(JSON.stringify(await malformed.json())).toContain("id")
  })
})
