/**
 * The Drift section's monitor-level results in a real browser against a real server process: a
 * monitor with both multivariate detectors, a CBPE performance setting and the extra tests, its
 * baseline rows correlated +0.8 and its window rows -0.8 with less confident scores (so the
 * detectors drift and the estimate falls below its level). The monitor page shows the detectors'
 * statistics and verdicts and each metric's estimate with its band, and the `~performance` alert;
 * the feature page lists every test's statistic and p-value from the check's statistics record.
 */
import { createClient, type DriftReport, type MlClient } from "@org/ml-sdk"
import type { Browser } from "playwright-core"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { formatNumber } from "../src/ui/format.js"
import {
  expectAccessible,
  killHard,
  launchBrowser,
  type ListeningServer,
  openPage,
  screenshot,
  startServer,
  temporaryDirectory
} from "./browser.js"

const monitorId = "scored-inputs"
const serverEnv = { ML_DRIFT_SCHEDULER_TICK_MS: "3600000" }

/** A deterministic stream of uniform numbers (a linear congruential generator). */
const uniforms = (seed: number) => {
  let state = seed
  return () => {
    state = (Math.imul(state, 1664525) + 1013904223) >>> 0
    return state / 4294967296
  }
}
const random = uniforms(11)
/** Roughly standard normal (the sum of four uniforms, rescaled). */
const normal = () => (random() + random() + random() + random() - 2) * 1.732

/** Rows of x, y correlated by rho and a calibrated-looking score around `logit`. */
const rows = (n: number, rho: number, logit: number, spread: number) =>
  Array.from({ length: n }, () => {
    const x = normal()
    const y = rho * x + Math.sqrt(1 - rho * rho) * normal()
    return { x, y, score: 1 / (1 + Math.exp(-(logit + spread * normal()))) }
  })

const seed = async (client: MlClient): Promise<DriftReport> => {
  await client.drift.createMonitor({
    id: monitorId,
    features: [
      { name: "x", kind: "feature", type: "numeric" },
      { name: "y", kind: "feature", type: "numeric" },
      { name: "score", kind: "prediction", type: "numeric" }
    ],
    settings: {
      windowSize: 1000,
      minWindow: 100,
      multivariate: { domainClassifier: {}, pca: {} },
      extraTests: ["wasserstein", "energy", "cramer-von-mises", "anderson-darling"]
    },
    performance: { feature: "score", alertBelow: { accuracy: 0.8 } }
  })
  const baseline = rows(3000, 0.8, 1.5, 1.5)
  await client.drift.setBaseline(monitorId, {
    x: baseline.map((r) => r.x),
    y: baseline.map((r) => r.y),
    score: baseline.map((r) => r.score)
  })
  for (const row of rows(1000, -0.8, 0.2, 0.5)) client.drift.recordRow(monitorId, row)
  await client.drift.flush()
  return client.drift.check(monitorId)
}

let browser: Browser

beforeAll(async () => {
  browser = await launchBrowser()
})
afterAll(async () => {
  await browser?.close()
})

describe("a monitor with multivariate detectors and a performance estimate", () => {
  let server: ListeningServer
  let client: MlClient
  let report: DriftReport

  beforeAll(async () => {
    server = await startServer(temporaryDirectory("drift-estimates"), serverEnv)
    client = createClient({ baseUrl: server.url })
    report = await seed(client)
  }, 60_000)
  afterAll(async () => {
    await client?.drift.close()
    if (server) await killHard(server.child)
  })

  it("seeds a check whose detectors drift and whose estimate alerts", () => {
    expect(report.multivariate?.drifted).toBe(true)
    expect(report.performance?.status).toBe("estimated")
    expect(report.alerts.map((a) => a.feature)).toContain("~performance")
  })

  it("shows the multivariate detectors and the estimate with its band on the monitor page", async () => {
    const { errors, page } = await openPage(browser, server.url)
    await page.goto(`/drift/${monitorId}`)
    await page.getByRole("heading", { name: "Multivariate drift" }).waitFor()
    const mv = report.multivariate!
    const classifier = page.locator(`[data-testid="multivariate"] tr[data-detector="domain-classifier"]`)
    expect(await classifier.locator("td").first().textContent()).toBe(formatNumber(mv.domainClassifier!.auc))
    expect(await classifier.textContent()).toContain(formatNumber(mv.domainClassifier!.pValue))
    expect(await classifier.locator(".badge").textContent()).toBe(mv.domainClassifier!.drifted ? "drifted" : "none")
    const pca = page.locator(`[data-testid="multivariate"] tr[data-detector="pca"]`)
    expect(await pca.locator("td").first().textContent()).toBe(formatNumber(mv.pca!.reconstructionError))
    expect(await pca.textContent()).toContain(`[${formatNumber(mv.pca!.lower)}, ${formatNumber(mv.pca!.upper)}]`)

    await page.getByRole("heading", { name: "Estimated performance (CBPE)" }).waitFor()
    for (const m of report.performance!.metrics) {
      const cells = await page.locator(`[data-testid="performance"] tr[data-metric="${m.metric}"] td`).allTextContents()
      expect(cells).toEqual([
        formatNumber(m.estimate),
        `${formatNumber(m.lower)} – ${formatNumber(m.upper)}`,
        formatNumber(m.alertBelow),
        m.alert ? "alerting" : "ok"
      ])
    }
    // The performance alert, linked to its section of the page rather than to a feature.
    const alert = report.alerts.find((a) => a.feature === "~performance")!
    const item = page.locator(`li[data-alert="${alert.id}"]`)
    expect(await item.textContent()).toContain(alert.recommendation)
    const accuracy = alert.performance!.metrics.find((m) => m.metric === "accuracy")!
    expect(await item.textContent()).toContain(`accuracy ${formatNumber(accuracy.estimate)}`)
    expect(await item.getByRole("link", { name: "~performance" }).getAttribute("href")).toBe(
      `/drift/${monitorId}#performance`
    )
    await expectAccessible(page)
    await screenshot(page, "drift-monitor-estimates")
    expect(errors).toEqual([])
  })

  it("lists every test's statistic and p-value on the feature page", async () => {
    const { errors, page } = await openPage(browser, server.url)
    await page.goto(`/drift/${monitorId}/features/x`)
    const table = page.locator(`[data-testid="test-statistics"] tbody tr`)
    await table.first().waitFor()
    const check = report.features.find((f) => f.feature === "x")!
    const expected = Object.entries(check.statistics!).map(([name, r]) => [
      name,
      formatNumber(r.statistic),
      formatNumber(r.pValue)
    ])
    if (check.splitPsi != null) expected.push(["split PSI", formatNumber(check.splitPsi), "—"])
    const shown = await table.evaluateAll((trs) =>
      trs.map((tr) => [...tr.querySelectorAll("th, td")].map((cell) => cell.textContent))
    )
    expect(shown).toEqual(expected)
    // KS, PSI and the four extra tests.
    expect(Object.keys(check.statistics!)).toEqual(
      expect.arrayContaining(["ks", "psi", "wasserstein", "anderson-darling"])
    )
    await expectAccessible(page)
    await screenshot(page, "drift-feature-statistics")
    expect(errors).toEqual([])
  })
})
