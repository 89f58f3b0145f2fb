/**
 * The Pipelines section in a real browser against a real server seeded through the SDK: a
 * classifier pipeline with one accepted and one rejected update, and a regressor pipeline waiting
 * for its first. The list, the pipeline page (counters, progressive metrics over time, the holdout
 * comparison, the history) and an update's page show what the API says; rollback from the page
 * takes effect in the API; a viewer is not offered it; unknown pipelines and an empty server show
 * their states; no console errors, no serious axe violations, a narrow window works.
 */
import { createClient, type MlClient, type PipelineStatus, type UpdateRecord } from "@org/ml-sdk"
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

const adminToken = "dashboard-pipelines-admin-token-0123456789"
const pipelineId = "fraud-online"
const regressorId = "demand-online"
/** Clean batches, each followed by an accepted update, before the poisoned batch that is rejected. */
const cleanBatches = 4
const batchLength = 60
const received = cleanBatches * batchLength + 100

/** A learner artifact with zero weights: the registry's format for online-learning base models. */
const zeroLearner = (kind: "logistic" | "linear", names: ReadonlyArray<string>, learningRate: number) =>
  new TextEncoder().encode(JSON.stringify({
    formatVersion: 1,
    config: { kind, optimizer: { type: "sgd", learningRate }, features: { type: "schema", names } },
    weights: names.map(() => 0),
    bias: 0,
    steps: 0,
    accumulators: {},
    standardization: null
  }))

/** Separable samples (label 1 when a + b > 0), or with the label flipped: a poisoned batch. */
const sample = (i: number, flip = false) => {
  const a = Math.sin(i * 1.7) * 2
  const b = Math.cos(i * 0.9) * 2
  const label = a + b > 0 ? 1 : 0
  return { sampleId: `${flip ? "poison" : "s"}${i}`, features: { a, b }, label: flip ? 1 - label : label }
}

let browser: Browser
let server: ListeningServer
let admin: MlClient
let seeded: { readonly base: string; readonly accepted: string; readonly rejected: string }

const seed = async () => {
  admin = createClient({ baseUrl: server.url, token: adminToken, sampleRecorder: { batchSize: 10_000 } })
  const base = await admin.registry.registerModel(
    { name: "fraud-scorer", version: "1.0.0", algorithm: "logistic_regression", framework: "ml-pipeline" },
    zeroLearner("logistic", ["a", "b"], 0.2)
  )
  await admin.learner.createPipeline({
    id: pipelineId,
    name: "fraud scoring",
    modelId: base.id,
    strategy: "mini-batch",
    // Updates only when asked (the test triggers them).
    batchSize: 5_000,
    holdoutShare: 0.3,
    degradationTolerance: 0.05
  })
  let accepted: UpdateRecord | null = null
  for (let batch = 0; batch < cleanBatches; batch++) {
    // Buffered on the client, sent by flush(): the SDK's batching path.
    for (let i = 0; i < batchLength; i++) admin.learner.addSample(pipelineId, sample(batch * batchLength + i))
    await admin.learner.flush()
    accepted = await admin.learner.triggerUpdate(pipelineId)
    expect(accepted, accepted?.reason).toMatchObject({ accepted: true })
  }
  // Flipped labels: the candidate learns the wrong rule and loses on the clean holdout samples.
  await admin.learner.addSamples(
    pipelineId,
    Array.from({ length: 100 }, (_, i) => sample(cleanBatches * batchLength + i, true))
  )
  const rejected = await admin.learner.triggerUpdate(pipelineId)
  expect(rejected).toMatchObject({ accepted: false })

  const regressor = await admin.registry.registerModel(
    { name: "demand", version: "2.0.0", algorithm: "linear_regression", framework: "ml-pipeline" },
    zeroLearner("linear", ["x"], 0.05)
  )
  await admin.learner.createPipeline({ id: regressorId, name: "demand forecast", modelId: regressor.id })
  await admin.learner.addSamples(
    regressorId,
    Array.from({ length: 20 }, (_, i) => ({ sampleId: `d${i}`, features: { x: i / 10 }, label: 3 * (i / 10) + 1 }))
  )
  seeded = { base: base.id, accepted: accepted!.id, rejected: rejected!.id }
}

beforeAll(async () => {
  browser = await launchBrowser()
  server = await startServer(temporaryDirectory("pipelines"), { ML_API_TOKEN: adminToken })
  await seed()
})
afterAll(async () => {
  await browser?.close()
  if (server) await killHard(server.child)
})

/** What a 404 for an unknown pipeline logs; nothing else may reach the console. */
const unexpected = (errors: ReadonlyArray<string>) => errors.filter((error) => !error.includes("404"))

/** The number of marks Plot drew in a chart's mark group (`dot`, `link`, ...), arrowhead definitions aside. */
const markCount = (page: Page, testId: string, mark: string) =>
  page.locator(`[data-testid="${testId}"] svg g[data-mark="${mark}"] > :not(defs, marker)`).count()

describe("the pipeline list", () => {
  it("shows every pipeline with its state, strategy and update counts, linking to its page", async () => {
    const { errors, page } = await openPage(browser, server.url, { token: adminToken })
    await page.goto("/pipelines")
    const table = page.getByRole("table")
    const fraud = table.getByRole("row").filter({ hasText: "fraud scoring" })
    await fraud.waitFor()
    expect(await fraud.textContent()).toMatch(/fraud-online.*active.*mini-batch.*every 5000 samples.*classifier/)
    expect((await fraud.getByRole("cell").allTextContents()).slice(4, 6)).toEqual([`${cleanBatches}`, "1"])
    const demand = table.getByRole("row").filter({ hasText: "demand forecast" })
    expect(await demand.textContent()).toMatch(/waiting.*regressor.*judged by RMSE/)
    await expectAccessible(page)
    await fraud.getByRole("link", { name: "fraud scoring" }).click()
    await page.waitForURL(`**/pipelines/${pipelineId}`)
    await page.getByRole("heading", { name: /fraud scoring/ }).waitFor()
    await page.goBack()
    await page.waitForURL("**/pipelines")
    await table.getByRole("row").filter({ hasText: "demand forecast" }).waitFor()
    expect(errors).toEqual([])
  })

  it("says so when there are no pipelines", async () => {
    const empty = await startServer(temporaryDirectory("pipelines-empty"))
    try {
      const { errors, page } = await openPage(browser, empty.url)
      await page.goto("/pipelines")
      await expect.poll(() => page.locator(".state.empty").textContent()).toContain("No pipelines yet")
      await expectAccessible(page)
      expect(errors).toEqual([])
    } finally {
      await killHard(empty.child)
    }
  })
})

describe("a pipeline's page", () => {
  it("shows counters, progressive metrics over time, the holdout comparison and the update history", async () => {
    const status: PipelineStatus = await admin.learner.getPipelineStatus(pipelineId)
    const { errors, page } = await openPage(browser, server.url, { token: adminToken })
    await page.goto(`/pipelines/${pipelineId}`)
    await page.getByRole("heading", { name: /fraud scoring/ }).waitFor()
    expect(await page.getByRole("heading", { level: 1 }).textContent()).toContain("active")

    const counters = page.getByTestId("counters")
    const counter = async (label: string) =>
      (await counters.locator(".card").filter({ hasText: label }).locator(".counter").textContent())?.trim()
    expect(status.counters).toMatchObject({ received, processed: received, buffered: 0 })
    expect(await counter("Received")).toBe(`${received}`)
    expect(await counter("Processed")).toBe(`${received}`)
    expect(await counter("Buffered")).toBe("0")
    expect(await counter("Accepted updates")).toBe(`${cleanBatches}`)
    expect(await counter("Rejected updates")).toBe("1")

    // The current window, as the API reports it.
    expect(await page.getByTestId("progressive-accuracy-now").textContent()).toBe(
      `${(status.progressive.accuracy! * 100).toFixed(1)}%`
    )
    // Over time: one point per record (each carries the window it saw) and one for now.
    expect(status.updates.map((u) => u.progressive?.window)).toEqual([60, 120, 180, 240, received])
    await expect.poll(() => markCount(page, "progressive-accuracy", "dot")).toBe(cleanBatches + 2)
    await expect.poll(() => markCount(page, "progressive-logLoss", "dot")).toBe(cleanBatches + 2)
    // Before -> after arrows for the two judged updates.
    await expect.poll(() => markCount(page, "holdout-comparison", "link")).toBe(cleanBatches + 1)
    const holdoutChart = page.getByTestId("holdout-comparison").locator(".chart-body > [role=img]")
    expect(await holdoutChart.getAttribute("aria-label")).toContain(`${cleanBatches} accepted, 1 rejected`)

    const rows = page.getByTestId("update-history").locator("tbody tr")
    expect(await rows.count()).toBe(cleanBatches + 1)
    // Newest first: the rejected update, with its metrics and reason, then the accepted one.
    const rejected = status.updates[cleanBatches]!
    expect(await rows.nth(0).textContent()).toContain("rejected")
    expect(await rows.nth(0).textContent()).toContain(rejected.reason)
    expect(rejected.reason).toMatch(/^rejected: holdout log_loss .* is worse than live .* by more than 0.05$/)
    expect(await rows.nth(0).getByRole("cell").nth(5).textContent()).toBe(
      Number(rejected.metricBefore!.toPrecision(4)).toLocaleString("en-US", { maximumFractionDigits: 6 })
    )
    expect(await rows.nth(1).textContent()).toContain("accepted")
    expect(await rows.nth(1).getByRole("link", { name: /…/ }).getAttribute("href")).toBe(
      `/models/fraud-scorer/${status.updates[cleanBatches - 1]!.modelId}`
    )

    await expectAccessible(page)
    await screenshot(page, "pipelines-detail")
    // The viewport alone (1280x800), the size README's screenshots share.
    await page.screenshot({ path: path.join(outputDirectory, "pipelines-detail-viewport.png") })
    await page.getByRole("heading", { name: "Progressive metrics" }).evaluate((h) => h.scrollIntoView())
    await page.screenshot({ path: path.join(outputDirectory, "pipelines-charts-viewport.png") })

    // An update's own page, by link; a deep link and reload; the back button.
    await rows.nth(0).getByRole("link").first().click()
    await page.waitForURL(`**/pipelines/${pipelineId}/updates/${seeded.rejected}`)
    const record = page.getByTestId("update-record")
    await record.waitFor()
    expect(await record.textContent()).toContain(rejected.reason)
    expect(await page.getByRole("heading", { level: 1 }).textContent()).toMatch(
      new RegExp(`Update ${cleanBatches + 1} of fraud scoring\\s*rejected`)
    )
    await page.reload()
    await page.getByTestId("update-record").waitFor()
    await expectAccessible(page)
    await screenshot(page, "pipelines-update")
    await page.goBack()
    await page.waitForURL(`**/pipelines/${pipelineId}`)
    await page.getByTestId("update-history").waitFor()
    expect(errors).toEqual([])
  })

  it("rolls back from the page: the API serves the previous version and records it", async () => {
    const before = await admin.learner.getPipelineStatus(pipelineId)
    expect(before.pipeline.liveModelId).not.toBe(seeded.base)
    const { errors, page } = await openPage(browser, server.url, { token: adminToken })
    await page.goto(`/pipelines/${pipelineId}`)
    const form = page.getByRole("form", { name: "Roll back" })
    // Any version the pipeline served can come back; here the base model, before every published one.
    await form.getByLabel("Serve again").selectOption(seeded.base)
    await form.getByRole("button", { name: "Roll back" }).click()
    await expect.poll(() => form.getByRole("status").textContent()).toBe(`Rolled back: now serving ${seeded.base}.`)

    const after = await admin.learner.getPipelineStatus(pipelineId)
    expect(after.pipeline.liveModelId).toBe(seeded.base)
    expect(after.updates.at(-1)).toMatchObject({
      kind: "rollback",
      modelId: seeded.base,
      previousModelId: before.pipeline.liveModelId
    })
    // The page reloads its data: the rollback heads the history.
    const rows = page.getByTestId("update-history").locator("tbody tr")
    await expect.poll(() => rows.count()).toBe(cleanBatches + 2)
    expect(await rows.nth(0).textContent()).toContain("rollback")
    await expect.poll(() => markCount(page, "progressive-accuracy", "dot")).toBe(cleanBatches + 3)
    expect(errors).toEqual([])
  })

  it("shows a regressor's RMSE and an empty history", async () => {
    const { errors, page } = await openPage(browser, server.url, { token: adminToken })
    await page.goto(`/pipelines/${regressorId}`)
    await page.getByRole("heading", { name: /demand forecast/ }).waitFor()
    const status = await admin.learner.getPipelineStatus(regressorId)
    expect(await page.getByTestId("progressive-rmse-now").textContent()).toBe(
      Number(status.progressive.rmse!.toPrecision(4)).toLocaleString("en-US", { maximumFractionDigits: 6 })
    )
    await expect.poll(() => markCount(page, "progressive-rmse", "dot")).toBe(1)
    expect(await page.getByText("No updates yet").isVisible()).toBe(true)
    expect(await page.getByText("No update has been judged").isVisible()).toBe(true)
    await expectAccessible(page)
    expect(errors).toEqual([])
  })

  it("names an unknown pipeline or update instead of a blank page", async () => {
    const { errors, page } = await openPage(browser, server.url, { token: adminToken })
    await page.goto("/pipelines/no-such-pipeline")
    await expect.poll(() => page.getByRole("alert").first().textContent()).toContain("no-such-pipeline does not exist")
    await page.goto(`/pipelines/${pipelineId}/updates/no-such-update`)
    await page.getByRole("heading", { name: "Update not found" }).waitFor()
    await expectAccessible(page)
    expect(unexpected(errors)).toEqual([])
  })

  it("fits a narrow window", async () => {
    const { errors, page } = await openPage(browser, server.url, {
      token: adminToken,
      viewport: { width: 390, height: 800 }
    })
    await page.goto(`/pipelines/${pipelineId}`)
    await page.getByTestId("update-history").waitFor()
    await expect.poll(() => markCount(page, "holdout-comparison", "link")).toBe(cleanBatches + 1)
    const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth)
    expect(overflow).toBeLessThanOrEqual(0)
    await expectAccessible(page)
    await screenshot(page, "pipelines-narrow")
    expect(errors).toEqual([])
  })
})

describe("a viewer", () => {
  it("sees pipelines and their history but is not offered rollback", async () => {
    const viewer = await admin.createKey({ name: "pipelines-viewer", role: "viewer" })
    const { errors, page } = await openPage(browser, server.url, { token: viewer.token })
    await page.goto(`/pipelines/${pipelineId}`)
    await page.getByTestId("update-history").waitFor()
    expect(await page.getByTestId("update-history").locator("tbody tr").count()).toBeGreaterThanOrEqual(2)
    expect(await page.getByRole("form", { name: "Roll back" }).count()).toBe(0)
    expect(await page.getByRole("button", { name: "Roll back" }).count()).toBe(0)
    // The server agrees: the role may not roll back.
    const refused = await createClient({ baseUrl: server.url, token: viewer.token }).learner.rollback(pipelineId)
      .catch((error: unknown) => error)
    expect(refused).toMatchObject({ status: 403 })
    expect(errors).toEqual([])
  })
})
