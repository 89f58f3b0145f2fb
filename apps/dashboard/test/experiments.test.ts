/**
 * The Experiments section in a real browser against a real server seeded through the SDK: the list
 * filtered by status through the URL, an experiment's page with model names and versions, the
 * decision, p-values (plain, adjusted, always-valid), an SRM warning, the forest plot, lift,
 * exposures, traffic split and bandit weight charts, a 10-variant page, each action once (checked
 * through the SDK), and a viewer who is offered none of them.
 */
import { createClient, type MlClient } from "@org/ml-sdk"
import * as path from "node:path"
import type { Browser, Page } from "playwright-core"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import {
  expectAccessible,
  killHard,
  launchBrowser,
  type ListeningServer,
  openPage,
  outputDirectory,
  screenshot,
  startServer,
  temporaryDirectory
} from "./browser.js"

let browser: Browser

beforeAll(async () => {
  browser = await launchBrowser()
})
afterAll(async () => {
  await browser?.close()
})

const artifact = new Uint8Array([1, 2, 3, 4])

const register = async (client: MlClient, name: string, version: string) =>
  (await client.registry.registerModel({ name, version, algorithm: "gbdt", framework: "lightgbm" }, artifact)).id

/** n values of 0/1 with `rate` ones, in a fixed order (deterministic results). */
const binary = (modelId: string, metric: string, n: number, rate: number) =>
  Array.from({ length: n }, (_, i) => ({ modelId, metric, value: i < Math.round(rate * n) ? 1 : 0 }))

const spread = (modelId: string, metric: string, n: number, base: number) =>
  Array.from({ length: n }, (_, i) => ({ modelId, metric, value: base + (i % 10) }))

interface Seeded {
  readonly control: string
  readonly fast: string
  readonly deep: string
  readonly arms: ReadonlyArray<string>
}

/**
 * checkout-ranker: a sequential A/B test (3 variants, a latency guardrail) whose "fast" model wins;
 * srm-check: exposures far from its 50/50 split; draft-ranker: a draft to start, pause and re-split;
 * ten-arms: a 10-variant bandit reweighted twice.
 */
const seed = async (client: MlClient): Promise<Seeded> => {
  const control = await register(client, "ranker-control", "1")
  const fast = await register(client, "ranker-fast", "2")
  const deep = await register(client, "ranker-deep", "3")
  await client.experiments.create({
    id: "checkout-ranker",
    name: "checkout ranker",
    description: "Two new rankers against the current one",
    targetMetric: "conversion",
    metricGoals: { latency_ms: { direction: "minimize", guardrail: true } },
    variants: [
      { modelId: control, isControl: true, trafficPct: 34 },
      { modelId: fast, isControl: false, trafficPct: 33 },
      { modelId: deep, isControl: false, trafficPct: 33 }
    ],
    minSamplesPerVariant: 20,
    sequential: true
  })
  await client.experiments.start("checkout-ranker")
  await client.experiments.recordMetrics("checkout-ranker", [
    ...binary(control, "conversion", 400, 0.1),
    ...binary(fast, "conversion", 400, 0.2),
    ...binary(deep, "conversion", 400, 0.12),
    ...spread(control, "latency_ms", 400, 100),
    ...spread(fast, "latency_ms", 400, 100),
    ...spread(deep, "latency_ms", 400, 100)
  ])
  await client.experiments.recordExposures("checkout-ranker", [
    { modelId: control, count: 410 },
    { modelId: fast, count: 402 },
    { modelId: deep, count: 395 }
  ])

  await client.experiments.create({
    id: "srm-check",
    name: "srm check",
    targetMetric: "conversion",
    metricCaps: { revenue: { upper: 50, lower: 0 } },
    variants: [{ modelId: control, isControl: true, trafficPct: 50 }, {
      modelId: deep,
      isControl: false,
      trafficPct: 50
    }],
    minSamplesPerVariant: 20
  })
  await client.experiments.start("srm-check")
  await client.experiments.recordMetrics("srm-check", [
    ...binary(control, "conversion", 60, 0.1),
    ...binary(deep, "conversion", 60, 0.1),
    // Revenue with each user's pre-experiment revenue (CUPED), clicks per session (a ratio metric).
    ...[control, deep].flatMap((modelId, arm) =>
      Array.from(
        { length: 60 },
        (_, i) => ({ modelId, metric: "revenue", value: 10 + (i % 7) + arm, covariate: 9 + (i % 7) })
      )
    ),
    ...[control, deep].flatMap((modelId, arm) =>
      Array.from(
        { length: 60 },
        (_, i) => ({ modelId, metric: "clicks", value: (i % 3) + arm, denominator: 1 + (i % 4) })
      )
    )
  ])
  await client.experiments.recordExposures("srm-check", [{ modelId: control, count: 1000 }, {
    modelId: deep,
    count: 600
  }])

  await client.experiments.create({
    id: "draft-ranker",
    name: "draft ranker",
    targetMetric: "conversion",
    variants: [{ modelId: control, isControl: true, trafficPct: 50 }, {
      modelId: deep,
      isControl: false,
      trafficPct: 50
    }]
  })

  const arms: Array<string> = []
  for (let i = 0; i < 10; i++) arms.push(await register(client, `arm-${i}`, "1"))
  await client.experiments.create({
    id: "ten-arms",
    name: "ten arms",
    targetMetric: "click",
    mode: "bandit",
    variants: arms.map((modelId, i) => ({ modelId, isControl: i === 0, trafficPct: 10 })),
    minSamplesPerVariant: 20
  })
  await client.experiments.start("ten-arms")
  await client.experiments.recordMetrics(
    "ten-arms",
    arms.flatMap((arm, i) => binary(arm, "click", 150, 0.05 + i * 0.01))
  )
  await client.experiments.recordExposures("ten-arms", arms.map((modelId) => ({ modelId, count: 150 })))
  await client.experiments.reweight("ten-arms")
  await client.experiments.recordMetrics(
    "ten-arms",
    arms.flatMap((arm, i) => binary(arm, "click", 300, i === 9 ? 0.3 : 0.05 + i * 0.01))
  )
  await client.experiments.reweight("ten-arms")
  return { control, fast, deep, arms }
}

/** The marks of one chart: each mark's group is tagged data-mark (`dot`, `rule`, `line`, `bar`). */
const markCount = (page: Page, testId: string, mark: string) =>
  page.getByTestId(testId).locator(`g[data-mark="${mark}"] > *`).count()

/** What a chart says to screen readers: the summary on its root image. */
const chartSummary = (page: Page, testId: string) =>
  page.getByTestId(testId).locator(".chart-body > [role=img]").getAttribute("aria-label")

describe("an admin (authentication off)", () => {
  let server: ListeningServer
  let client: MlClient
  let seeded: Seeded

  beforeAll(async () => {
    server = await startServer(temporaryDirectory("experiments"), { ML_AB_REWEIGHT_INTERVAL: "0" })
    client = createClient({ baseUrl: server.url })
    seeded = await seed(client)
  })
  afterAll(async () => {
    if (server) await killHard(server.child)
  })

  it("lists experiments filtered by status through the URL, with working deep links and back button", async () => {
    const { errors, page } = await openPage(browser, server.url)
    await page.goto("/experiments")
    const table = page.getByRole("table", { name: "All experiments" })
    await table.waitFor()
    expect(await table.locator("tbody tr").count()).toBe(4)
    const filters = page.getByRole("navigation", { name: "Filter by status" })
    expect(await filters.getByRole("link").allTextContents()).toEqual([
      "All (4)",
      "draft (1)",
      "running (3)",
      "paused (0)",
      "completed (0)"
    ])
    await expectAccessible(page)
    await screenshot(page, "experiments-list")
    await filters.getByRole("link", { name: "running (3)" }).click()
    await page.waitForURL("**/experiments?status=running")
    const running = page.getByRole("table", { name: "Experiments with status running" })
    expect(await running.locator("tbody tr").count()).toBe(3)
    expect(await running.textContent()).not.toContain("draft ranker")
    await filters.getByRole("link", { name: "paused (0)" }).click()
    await page.getByText("No paused experiments.").waitFor()
    await page.goBack()
    await page.waitForURL("**/experiments?status=running")
    await running.waitFor()
    // A filtered list is a link of its own.
    await page.goto("/experiments?status=draft")
    const drafts = page.getByRole("table", { name: "Experiments with status draft" })
    await drafts.waitFor()
    expect(await drafts.locator("tbody tr").allTextContents()).toEqual([expect.stringContaining("draft ranker")])
    await drafts.getByRole("link", { name: "draft ranker" }).click()
    await page.waitForURL("**/experiments/draft-ranker")
    await page.getByRole("heading", { name: /draft ranker/ }).waitFor()
    expect(errors).toEqual([])
  })

  it("shows an experiment's variants by model name, the decision, p-values and the charts", async () => {
    const { errors, page } = await openPage(browser, server.url)
    await page.goto("/experiments/checkout-ranker")
    await page.getByRole("heading", { name: /checkout ranker/ }).waitFor()
    const variants = page.getByTestId("variants")
    await variants.waitFor()
    const rows = await variants.locator("tbody tr").allTextContents()
    expect(rows).toHaveLength(3)
    expect(rows[0]).toContain("ranker-control v1")
    expect(rows[0]).toContain("control")
    expect(rows[1]).toContain("ranker-fast v2")
    expect(rows[2]).toContain("ranker-deep v3")
    // n and mean of the target metric per variant.
    expect(rows[1]).toContain("400")
    expect(rows[1]).toContain("0.2")
    const decision = page.getByTestId("decision")
    expect(await decision.textContent()).toContain("Decision if completed now: winner")
    expect(await decision.textContent()).toContain("Winner: ranker-fast v2")
    expect(await decision.textContent()).toContain("ranker-fast v2 is better on conversion (adjusted p =")
    const results = await client.experiments.getExperimentResults("checkout-ranker")
    const fastComparison = results.comparisons.find((c) => c.modelId === seeded.fast)!
    const comparisons = page.getByTestId("comparisons")
    const headers = await comparisons.locator("thead th").allTextContents()
    expect(headers).toEqual(expect.arrayContaining(["p-value", "Adjusted p", "Always-valid p", "Lift"]))
    const fastRow = comparisons.locator("tbody tr", { hasText: "ranker-fast v2" })
    expect(await fastRow.textContent()).toContain("significantly better")
    expect(await fastRow.textContent()).toContain(`${(fastComparison.relativeLift! * 100).toFixed(1)}%`)
    expect(await page.getByTestId("guardrails").locator("tbody tr").count()).toBe(2)
    expect(await page.getByTestId("srm-warning").count()).toBe(0)
    // Charts: one dot and one interval per variant in the forest plot, one per treatment in the lift chart.
    await expect.poll(() => markCount(page, "forest-plot", "dot")).toBe(3)
    expect(await markCount(page, "forest-plot", "rule")).toBeGreaterThanOrEqual(3)
    await expect.poll(() => markCount(page, "lift-chart", "dot")).toBe(2)
    await expect.poll(() => markCount(page, "exposures-chart", "bar")).toBe(3)
    await expect.poll(() => markCount(page, "traffic-split-chart", "line")).toBe(3)
    // Traffic over time: the exposures reported today, one stacked bar per variant.
    await expect.poll(() => markCount(page, "daily-exposures-chart", "rect")).toBe(3)
    const today = new Date().toISOString().slice(0, 10)
    expect(await chartSummary(page, "daily-exposures-chart")).toContain(
      `on ${today}: ranker-control v1 410, ranker-fast v2 402, ranker-deep v3 395`
    )
    expect(await chartSummary(page, "forest-plot")).toContain(
      "ranker-fast v2 0.2"
    )
    await expectAccessible(page)
    await screenshot(page, "experiment-detail")
    // The first screen at 1280x800, for README (docs/dashboard-experiments.png).
    await page.screenshot({ path: path.join(outputDirectory, "experiment-detail-1280x800.png") })
    expect(errors).toEqual([])
  })

  it("warns of a sample-ratio mismatch", async () => {
    const { errors, page } = await openPage(browser, server.url)
    await page.goto("/experiments/srm-check")
    const warning = page.getByTestId("srm-warning")
    await warning.waitFor()
    expect(await warning.textContent()).toContain("Sample-ratio mismatch")
    expect(await page.getByTestId("decision").textContent()).toContain("srm detected")
    // CUPED, the ratio metric and the cap, as the results report them.
    const results = await client.experiments.getExperimentResults("srm-check")
    const cuped = page.getByTestId("cuped").locator("tbody tr")
    expect(await cuped.count()).toBe(1)
    expect(await cuped.textContent()).toContain(
      `${(results.covariateAdjusted[0]!.varianceReduction! * 100).toFixed(1)}%`
    )
    const ratio = page.getByTestId("ratio-metrics").locator("tbody tr")
    expect(await ratio.textContent()).toContain("clicks")
    expect(await page.getByTestId("metric-caps").textContent()).toContain("revenue to 0 … 50")
    expect(errors).toEqual([])
  })

  it("renders a 10-variant bandit with its weight history, also in a narrow window", async () => {
    for (const viewport of [{ width: 1280, height: 800 }, { width: 390, height: 800 }]) {
      const { errors, page } = await openPage(browser, server.url, { viewport })
      await page.goto("/experiments/ten-arms")
      await page.getByTestId("variants").waitFor()
      expect(await page.getByTestId("variants").locator("tbody tr").count()).toBe(10)
      expect(await page.getByTestId("variants").textContent()).toContain("arm-9 v1")
      await expect.poll(() => markCount(page, "forest-plot", "dot")).toBe(10)
      await expect.poll(() => markCount(page, "lift-chart", "dot")).toBe(9)
      // Two reweightings held until now: 10 series of 3 points each.
      await expect.poll(() => markCount(page, "bandit-chart", "line")).toBe(10)
      expect(await markCount(page, "bandit-chart", "dot")).toBe(30)
      const stored = await client.experiments.get("ten-arms")
      const latest = stored.banditHistory[1]!.weights
      expect(await chartSummary(page, "bandit-chart")).toContain(
        `arm-9 v1 ${(latest[9]! * 100).toFixed(1)}%`
      )
      const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth)
      expect(overflow).toBeLessThanOrEqual(0)
      await expectAccessible(page)
      await screenshot(page, `experiment-ten-arms-${viewport.width}`)
      if (viewport.width === 1280) {
        // The charts at 1280x800, for README (docs/dashboard-experiments-charts.png).
        await page.getByTestId("forest-plot").evaluate((figure) => figure.scrollIntoView({ block: "start" }))
        await page.screenshot({ path: path.join(outputDirectory, "experiment-ten-arms-charts-1280x800.png") })
      }
      expect(errors).toEqual([])
    }
  })

  it("draws a long bandit history as lines only (no dot per point)", async () => {
    await client.experiments.create({
      id: "long-bandit",
      name: "long bandit",
      targetMetric: "click",
      mode: "bandit",
      variants: seeded.arms.map((modelId, i) => ({ modelId, isControl: i === 0, trafficPct: 10 }))
    })
    await client.experiments.start("long-bandit")
    await client.experiments.recordMetrics(
      "long-bandit",
      seeded.arms.flatMap((arm, i) => binary(arm, "click", 120, 0.05 + i * 0.01))
    )
    // 101 reweightings held until now: 102 snapshots of 10 variants, past the 1000 points that get dots.
    for (let round = 0; round < 101; round++) await client.experiments.reweight("long-bandit")
    const { errors, page } = await openPage(browser, server.url)
    await page.goto("/experiments/long-bandit")
    await expect.poll(() => markCount(page, "bandit-chart", "line")).toBe(10)
    expect(await markCount(page, "bandit-chart", "dot")).toBe(0)
    expect(await chartSummary(page, "bandit-chart")).toContain("101 reweightings")
    expect(errors).toEqual([])
  })

  it("starts, pauses and re-splits a draft, checked through the SDK", async () => {
    const { errors, page } = await openPage(browser, server.url)
    await page.goto("/experiments/draft-ranker")
    const actions = page.getByRole("group", { name: "Experiment actions" })
    await actions.getByRole("button", { name: "Start" }).click()
    await actions.getByRole("button", { name: "Pause" }).waitFor()
    expect((await client.experiments.get("draft-ranker")).status).toBe("running")
    await actions.getByRole("button", { name: "Pause" }).click()
    await actions.getByRole("button", { name: "Resume" }).waitFor()
    expect((await client.experiments.get("draft-ranker")).status).toBe("paused")

    await actions.getByText("Re-split traffic").click()
    const form = page.getByRole("form", { name: "Re-split traffic" })
    await form.getByLabel("ranker-control v1 (control) %").fill("70")
    // 70 + 50 is not 100: the form says so and does not submit.
    await expect.poll(() => form.textContent()).toContain("must sum to 100 (now 120)")
    expect(await form.getByRole("button", { name: "Save split" }).isDisabled()).toBe(true)
    await form.getByLabel("ranker-deep v3 %").fill("30")
    await form.getByRole("button", { name: "Save split" }).click()
    await expect.poll(async () => (await client.experiments.get("draft-ranker")).variants.map((v) => v.trafficPct))
      .toEqual([70, 30])
    const stored = await client.experiments.get("draft-ranker")
    expect(stored.trafficHistory.map((change) => change.trafficPct)).toEqual([[50, 50], [70, 30]])
    await page.getByText("Traffic split changes (2)").waitFor()
    await expectAccessible(page)
    expect(errors).toEqual([])
  })

  it("completes an experiment and promotes the winner, checked through the SDK", async () => {
    const { errors, page } = await openPage(browser, server.url)
    await page.goto("/experiments/checkout-ranker")
    const actions = page.getByRole("group", { name: "Experiment actions" })
    await actions.getByText("Complete…").click()
    const form = page.getByRole("form", { name: "Complete the experiment" })
    await form.getByLabel("Promote ranker-fast v2 to production").check()
    await form.getByRole("button", { name: "Complete experiment" }).click()
    await expect.poll(() => page.getByTestId("decision").textContent()).toContain("Decision: winner")
    const completed = await client.experiments.get("checkout-ranker")
    expect(completed.status).toBe("completed")
    expect(completed.decision?.winnerModelId).toBe(seeded.fast)
    expect((await client.registry.getModel(seeded.fast)).status).toBe("production")
    // Nothing is left to do on a completed experiment.
    expect(await page.getByRole("group", { name: "Experiment actions" }).count()).toBe(0)
    await page.goto("/experiments?status=completed")
    expect(await page.getByRole("table", { name: "Experiments with status completed" }).textContent()).toContain(
      "checkout ranker"
    )
    expect(errors).toEqual([])
  })

  it("names an unknown experiment instead of showing a blank page", async () => {
    const { errors, page } = await openPage(browser, server.url)
    await page.goto("/experiments/no-such-experiment")
    await expect.poll(() => page.getByRole("alert").first().textContent()).toContain("HTTP 404")
    // The browser reports the 404 response itself; nothing else may fail.
    expect(errors.filter((error) => !error.includes("404"))).toEqual([])
  })
})

describe("a viewer (authentication on)", () => {
  const adminToken = "dashboard-experiments-admin-token-0123456789"

  it("sees results but is offered no action", async () => {
    const server = await startServer(temporaryDirectory("experiments-viewer"), {
      ML_API_TOKEN: adminToken,
      ML_AB_REWEIGHT_INTERVAL: "0"
    })
    try {
      const admin = createClient({ baseUrl: server.url, token: adminToken })
      await seed(admin)
      const viewer = await admin.createKey({ name: "dashboard-viewer", role: "viewer" })
      for (const id of ["checkout-ranker", "draft-ranker"]) {
        const { errors, page } = await openPage(browser, server.url, { token: viewer.token })
        await page.goto(`/experiments/${id}`)
        await page.getByTestId("variants").waitFor()
        expect(await page.getByTestId("variants").textContent()).toContain("ranker-control v1")
        expect(await page.getByRole("group", { name: "Experiment actions" }).count()).toBe(0)
        expect(await page.getByRole("button", { name: /Start|Pause|Resume|Save split|Complete/ }).count()).toBe(0)
        await expectAccessible(page)
        expect(errors).toEqual([])
      }
    } finally {
      await killHard(server.child)
    }
  })
})
