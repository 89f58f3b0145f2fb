/**
 * The Drift section in a real browser against a real server process, seeded through the SDK: a
 * monitor with a numeric and a categorical feature, a baseline, a calm window then a drifted one
 * (so the second report has severities and alerts), a webhook on a local HTTP receiver (so
 * deliveries exist), and a monitor never checked. Every page is checked for the seeded numbers,
 * its charts, deep links, the back button, no console errors and axe; "Check now", adding and
 * deleting a webhook are performed once and checked through the API; a viewer's key is offered none.
 */
import { createClient, type DriftReport, type MlClient } from "@org/ml-sdk"
import * as fs from "node:fs"
import * as http from "node:http"
import type { AddressInfo } from "node:net"
import type { Browser } from "playwright-core"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { formatNumber, formatPercent } from "../src/ui/format.js"
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

const monitorId = "checkout-inputs"
const quietMonitorId = "quiet-monitor"
const webhookSecret = "dashboard-drift-webhook-secret"
// No scheduled checks during the suite: the reports are exactly the seeded ones and "Check now".
const serverEnv = { ML_WEBHOOK_ALLOW_PRIVATE: "true", ML_DRIFT_SCHEDULER_TICK_MS: "3600000" }

/** A deterministic stream of uniform numbers (a linear congruential generator), so severities repeat. */
const uniforms = (seed: number) => {
  let state = seed
  return () => {
    state = (Math.imul(state, 1664525) + 1013904223) >>> 0
    return state / 4294967296
  }
}
const random = uniforms(7)
/** Roughly normal around `mean` (the sum of four uniforms), spread about `scale`. */
const amount = (mean: number, scale = 10) =>
  Math.round((mean + scale * 1.7 * (random() + random() + random() + random() - 2)) * 100) / 100
const country = (shares: ReadonlyArray<readonly [string, number]>) => {
  let u = random()
  for (const [name, share] of shares) {
    if ((u -= share) < 0) return name
  }
  return shares[shares.length - 1]![0]
}
const calmCountries = [["de", 0.5], ["fr", 0.3], ["us", 0.2]] as const
// "br" is new: the baseline never saw it.
const driftedCountries = [["de", 0.2], ["fr", 0.2], ["us", 0.2], ["br", 0.4]] as const

interface Seeded {
  readonly calm: DriftReport
  readonly drifted: DriftReport
}

const seed = async (client: MlClient, receiverUrl: string): Promise<Seeded> => {
  const model = await client.registry.registerModel({
    name: "fraud-detector",
    version: "3.0.0",
    algorithm: "gradient_boosting",
    framework: "xgboost"
  })
  await client.drift.createMonitor({
    id: monitorId,
    modelId: model.id,
    features: [
      { name: "amount", kind: "feature", type: "numeric" },
      { name: "country", kind: "feature", type: "categorical" }
    ],
    settings: { windowSize: 1000, minWindow: 100, psiBins: 5 }
  })
  await client.drift.createMonitor({
    id: quietMonitorId,
    features: [{ name: "latency_ms", kind: "feature", type: "numeric" }]
  })
  await client.drift.setBaseline(monitorId, {
    amount: Array.from({ length: 4000 }, () => amount(50)),
    country: Array.from({ length: 4000 }, () => country(calmCountries))
  })
  await client.drift.webhooks.create({ url: receiverUrl, secret: webhookSecret, monitorId, minSeverity: "low" })
  const record = async (mean: number, shares: ReadonlyArray<readonly [string, number]>) => {
    for (let i = 0; i < 1000; i++) client.drift.recordRow(monitorId, { amount: amount(mean), country: country(shares) })
    await client.drift.flush()
  }
  await record(50, calmCountries)
  const calm = await client.drift.check(monitorId)
  await record(60, driftedCountries)
  const drifted = await client.drift.check(monitorId)
  // Deliveries run in the background after the check: wait until the receiver's answers are recorded.
  const [hook] = await client.drift.webhooks.list()
  for (let attempt = 0; attempt < 200; attempt++) {
    if ((await client.drift.webhooks.deliveries(hook!.id)).length >= drifted.alerts.length) break
    await new Promise((resolve) => setTimeout(resolve, 50))
  }
  return { calm, drifted }
}

let browser: Browser

beforeAll(async () => {
  browser = await launchBrowser()
})
afterAll(async () => {
  await browser?.close()
})

describe("with a drifted monitor (authentication off)", () => {
  let server: ListeningServer
  let client: MlClient
  let seeded: Seeded
  let receiver: http.Server
  const received: Array<string> = []

  beforeAll(async () => {
    receiver = http.createServer((request, response) => {
      let body = ""
      request.on("data", (chunk) => (body += chunk))
      request.on("end", () => {
        received.push(body)
        response.writeHead(200).end()
      })
    })
    await new Promise<void>((resolve) => receiver.listen(0, "127.0.0.1", resolve))
    server = await startServer(temporaryDirectory("drift"), serverEnv)
    client = createClient({ baseUrl: server.url })
    seeded = await seed(client, `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/alerts`)
  }, 60_000)
  afterAll(async () => {
    await client?.drift.close()
    if (server) await killHard(server.child)
    receiver?.close()
  })

  const check = (feature: string) => seeded.drifted.features.find((f) => f.feature === feature)!

  it("seeds a drift the detector reports: a calm check, then alerts for both features and the dataset", () => {
    expect(seeded.calm.alerts).toEqual([])
    expect(seeded.drifted.alerts.map((a) => a.feature).sort()).toEqual(["amount", "country", "~dataset"])
    expect(check("country").unseenCategories).toEqual(["br"])
    expect(received.length).toBe(3)
  })

  it("lists the monitors with their latest check and the webhooks", async () => {
    const { errors, page } = await openPage(browser, server.url)
    await page.goto("/drift")
    const row = page.locator(`tr[data-monitor="${monitorId}"]`)
    await row.waitFor()
    const worst = ["critical", "high", "medium", "low"].find((s) =>
      seeded.drifted.features.some((f) => f.severity === s)
    )!
    expect(await row.locator(".badge").textContent()).toBe(worst)
    expect(await row.locator("td").last().textContent()).toBe("3")
    expect(await page.locator(`tr[data-monitor="${quietMonitorId}"]`).textContent()).toContain("never checked")
    expect(await page.locator(`[data-testid="webhooks"] tbody tr`).allTextContents()).toEqual([
      expect.stringMatching(/^http:\/\/127\.0\.0\.1:\d+\/alerts/)
    ])
    await expectAccessible(page)
    await screenshot(page, "drift-list")
    expect(errors).toEqual([])
  })

  it("shows a monitor's features, severity and PSI over time, alerts and webhook deliveries", async () => {
    const { errors, page } = await openPage(browser, server.url)
    await page.goto("/drift")
    await page.locator(`tr[data-monitor="${monitorId}"]`).getByRole("link", { name: monitorId }).click()
    await page.waitForURL(`**/drift/${monitorId}`)
    await page.getByRole("heading", { name: `Monitor ${monitorId}` }).waitFor()
    for (const feature of ["amount", "country"]) {
      const row = page.locator(`[data-testid="feature-table"] tr[data-feature="${feature}"]`)
      expect(await row.locator(".badge").textContent()).toBe(check(feature).severity)
      expect(await row.textContent()).toContain(formatNumber(check(feature).psi))
    }
    expect(await page.locator(`tr[data-feature="country"]`).textContent()).toContain("br")
    // One dot per feature per tested check.
    await expect.poll(() => page.locator(`[data-testid="severity-timeline"] svg [data-mark="dot"] circle`).count())
      .toBe(4)
    await expect.poll(() => page.locator(`[data-testid="psi-chart"] svg [data-mark="line"] path`).count()).toBe(2)
    const alerts = page.locator(`[data-testid="alerts"] li`)
    expect(await alerts.count()).toBe(3)
    expect(await page.locator(`[data-testid="dataset-drift"]`).textContent()).toContain(
      "2 of 2 tested features drifted"
    )
    expect(await page.locator(`li[data-alert] a[href$="#dataset"]`).textContent()).toBe("~dataset")
    for (const alert of seeded.drifted.alerts) {
      expect(await page.locator(`li[data-alert="${alert.id}"]`).textContent()).toContain(alert.recommendation)
    }
    const deliveries = page.locator(`[data-testid="delivery-log"] tbody tr`)
    expect(await deliveries.count()).toBe(3)
    expect(await deliveries.first().textContent()).toContain("delivered HTTP 200")
    // The latest report saved as the server's page: the same document GET .../{id}.html answers.
    const [download] = await Promise.all([
      page.waitForEvent("download"),
      page.getByRole("button", { name: "Save latest report as HTML" }).click()
    ])
    expect(download.suggestedFilename()).toBe(`drift-report-${seeded.drifted.id}.html`)
    expect(fs.readFileSync((await download.path())!, "utf8")).toBe(
      await client.drift.getDriftReportHtml(seeded.drifted.id)
    )
    await expectAccessible(page)
    await screenshot(page, "drift-monitor")
    expect(errors).toEqual([])
  })

  it("shows a feature's baseline vs current bins, its statistics over time; deep links and back work", async () => {
    const { errors, page } = await openPage(browser, server.url)
    await page.goto(`/drift/${monitorId}`)
    await page.locator(`[data-testid="feature-table"]`).getByRole("link", { name: "amount" }).click()
    await page.waitForURL(`**/drift/${monitorId}/features/amount`)
    const amountCheck = check("amount")
    const bins = amountCheck.edges!.length + 1
    const table = page.locator(`[data-testid="distribution-table"] tbody tr`)
    await table.first().waitFor()
    expect(await table.count()).toBe(bins)
    expect(await table.first().locator("td").first().textContent()).toBe(formatPercent(amountCheck.baselineShares![0]))
    expect(await table.last().locator("td").nth(1).textContent()).toBe(
      formatPercent(amountCheck.currentShares![bins - 1])
    )
    // Two bars per bin: the baseline's and the current window's.
    await expect.poll(() => page.locator(`[data-testid="distribution-chart"] svg [data-mark="bar"] rect`).count())
      .toBe(2 * bins)
    await expect.poll(() => page.locator(`[data-testid="psi-chart"] svg [data-mark="line"] path`).count()).toBe(1)
    // The raw and the adjusted p-value.
    await expect.poll(() => page.locator(`[data-testid="p-value-chart"] svg [data-mark="line"] path`).count()).toBe(2)
    expect(await page.locator(`[data-testid="check-table"] tbody tr`).count()).toBe(2)
    expect(await page.locator(`[data-testid="alerts"]`).textContent()).toContain(
      seeded.drifted.alerts.find((a) => a.feature === "amount")!.recommendation
    )
    await expectAccessible(page)
    await screenshot(page, "drift-feature-amount")
    await page.goBack()
    await page.waitForURL(`**/drift/${monitorId}`)
    await page.getByRole("heading", { name: `Monitor ${monitorId}` }).waitFor()

    // A deep link to the categorical feature, reloaded: category shares and the unseen category.
    await page.goto(`/drift/${monitorId}/features/country`)
    await page.reload()
    await page.locator(`[data-testid="unseen-categories"]`).waitFor()
    expect(await page.locator(`[data-testid="unseen-categories"]`).textContent()).toBe("br")
    const countryCheck = check("country")
    const rows = page.locator(`[data-testid="distribution-table"] tbody tr th`)
    expect((await rows.allTextContents()).map((t) => t.replace(" unseen", ""))).toEqual(countryCheck.categories)
    await expectAccessible(page)
    await screenshot(page, "drift-feature-country")
    expect(errors).toEqual([])
  })

  it("runs a check now, and the new report is stored", async () => {
    const { errors, page } = await openPage(browser, server.url)
    await page.goto(`/drift/${monitorId}`)
    await page.getByRole("button", { name: "Check now" }).click()
    await expect.poll(() => page.getByRole("status").filter({ hasText: "Checked at" }).count()).toBe(1)
    const reports = await client.drift.getDriftReports({ monitorId })
    expect(reports.length).toBe(3)
    // The page reloads its reports: three dots per feature now.
    await expect.poll(() => page.locator(`[data-testid="severity-timeline"] svg [data-mark="dot"] circle`).count())
      .toBe(6)
    expect(errors).toEqual([])
  })

  it("shows a monitor never checked, an unknown monitor and feature as states, not blank pages", async () => {
    const { errors, page } = await openPage(browser, server.url)
    await page.goto(`/drift/${quietMonitorId}`)
    await page.getByText("Not checked yet").waitFor()
    await page.getByText("No webhook receives this monitor's alerts.").waitFor()
    await expectAccessible(page)
    await page.goto(`/drift/${monitorId}/features/no_such_feature`)
    await page.getByText("does not watch a feature named no_such_feature").waitFor()
    await page.goto("/drift/no-such-monitor")
    await expect.poll(() => page.getByRole("alert").first().textContent()).toContain("does not exist")
    await expectAccessible(page)
    // The unknown monitor's 404 is the only console error a browser reports here.
    expect(errors.filter((error) => !error.includes("404"))).toEqual([])
  })

  it("adds a webhook for one monitor from a minimum severity, then deletes it", async () => {
    const { errors, page } = await openPage(browser, server.url)
    const url = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/quiet`
    await page.goto("/drift")
    const form = page.getByRole("form", { name: "Add a webhook" })
    await form.getByLabel("URL").fill(url)
    await form.getByLabel("Secret (16+ characters)").fill("another-webhook-secret-0123")
    await form.getByLabel("Alerts of").selectOption(quietMonitorId)
    await form.getByLabel("Minimum severity").selectOption("high")
    await form.getByRole("button", { name: "Add webhook" }).click()
    await page.locator(`tr[data-webhook="${url}"]`).waitFor()
    const added = (await client.drift.webhooks.list()).find((w) => w.url === url)
    expect(added).toMatchObject({ monitorId: quietMonitorId, minSeverity: "high", secret: "***" })
    await expectAccessible(page)

    await page.getByRole("button", { name: `Delete webhook ${url}` }).click()
    await page.locator(`tr[data-webhook="${url}"]`).getByRole("button", { name: "Confirm delete" }).click()
    await page.locator(`tr[data-webhook="${url}"]`).waitFor({ state: "detached" })
    expect((await client.drift.webhooks.list()).map((w) => w.url)).not.toContain(url)
    expect(errors).toEqual([])
  })

  it("fits a narrow window without horizontal scrolling", async () => {
    const { errors, page } = await openPage(browser, server.url, { viewport: { width: 390, height: 800 } })
    for (const url of [`/drift`, `/drift/${monitorId}`, `/drift/${monitorId}/features/amount`]) {
      await page.goto(url)
      await page.locator(`svg, [data-monitor]`).first().waitFor()
      const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth)
      expect(overflow, url).toBeLessThanOrEqual(0)
    }
    await screenshot(page, "drift-monitor-narrow")
    expect(errors).toEqual([])
  })
})

describe("with authentication, as a viewer", () => {
  it("shows the monitor but offers neither Check now nor webhook changes", async () => {
    const adminToken = "dashboard-drift-admin-token-0123456789"
    const server = await startServer(temporaryDirectory("drift-viewer"), { ...serverEnv, ML_API_TOKEN: adminToken })
    try {
      const admin = createClient({ baseUrl: server.url, token: adminToken })
      await admin.drift.createMonitor({
        id: monitorId,
        features: [{ name: "amount", kind: "feature", type: "numeric" }]
      })
      const viewer = await admin.createKey({ name: "drift-viewer", role: "viewer" })
      const { errors, page } = await openPage(browser, server.url, { token: viewer.token })
      await page.goto(`/drift/${monitorId}`)
      await page.getByRole("heading", { name: `Monitor ${monitorId}` }).waitFor()
      await page.getByText("Not checked yet").waitFor()
      expect(await page.getByRole("button", { name: "Check now" }).count()).toBe(0)
      await expectAccessible(page)
      await page.goto("/drift")
      await page.locator(`tr[data-monitor="${monitorId}"]`).waitFor()
      expect(await page.getByRole("form", { name: "Add a webhook" }).count()).toBe(0)
      expect(errors).toEqual([])
    } finally {
      await killHard(server.child)
    }
  })
})
