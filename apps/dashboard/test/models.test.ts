/**
 * The Models section in a real browser against a real server seeded through the SDK: the version
 * list with search, filters and paging in the URL, a name's production version now and at a past
 * instant, one version's facts, lineage (an online-learning child included), audit timeline, the
 * promote / archive / edit actions checked through the SDK, read-only views for a viewer key, a
 * 390 px window, no console errors, and axe with zero serious or critical violations.
 */
import { createClient, type MlClient, type Model } from "@org/ml-sdk"
import { createHash } from "node:crypto"
import * as fs from "node:fs"
import * as path from "node:path"
import { fileURLToPath } from "node:url"
import type { Browser, Page } from "playwright-core"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
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

const adminToken = "dashboard-models-admin-token-0123456789"
const docs = path.join(path.dirname(fileURLToPath(import.meta.url)), "../../../docs")
const bulkVersions = 55

let browser: Browser
let server: ListeningServer
let admin: MlClient

interface Seeded {
  readonly v1: Model
  readonly v2: Model
  readonly online: Model
  readonly candidate: Model
  readonly artifact: Uint8Array
  /** An instant when v1 was in production (v2 replaced it later). */
  readonly v1ProductionAt: string
}
let seeded: Seeded

const bytes = (text: string) => new TextEncoder().encode(text)
const sha256 = (data: Uint8Array) => createHash("sha256").update(data).digest("hex")

const seed = async (client: MlClient): Promise<Seeded> => {
  const artifact = bytes("fraud detector weights ".repeat(200))
  const base = { name: "fraud-detector", algorithm: "gradient_boosting", framework: "xgboost" }
  const v1 = await client.registry.registerModel(
    { ...base, version: "1.0.0", metrics: { auc: 0.912, f1: 0.74 }, tags: ["payments"] },
    artifact
  )
  for (const status of ["testing", "staging", "production"] as const) {
    await client.registry.promoteModel(v1.id, status, { reason: `v1 to ${status}` })
  }
  // The picker has whole seconds: pick the next full second, and replace v1 only after it.
  const v1ProductionAt = new Date(Math.ceil((Date.now() + 1) / 1000) * 1000).toISOString()
  await new Promise((resolve) => setTimeout(resolve, Date.parse(v1ProductionAt) - Date.now() + 50))
  const v2 = await client.registry.registerModel(
    {
      ...base,
      version: "1.1.0",
      metrics: { auc: 0.934, f1: 0.77 },
      parameters: { max_depth: 6, eta: 0.1 },
      training: { dataset: "s3://data/fraud/2026-11", sampleCount: 1_200_000 },
      tags: ["payments", "eu"],
      parentModelId: v1.id
    },
    bytes("fraud detector v2 weights")
  )
  for (const status of ["testing", "staging", "production"] as const) {
    await client.registry.promoteModel(v2.id, status, { reason: "canary passed" })
  }
  // What an online-learning pipeline publishes: a child of the live version, tagged online.
  const online = await client.registry.registerModel(
    {
      ...base,
      version: "1.1.0-online-fraud-pipeline-1",
      description: "Online update 1 of pipeline fraud-pipeline",
      metrics: { holdout_log_loss: 0.31 },
      tags: ["online", "fraud-pipeline"],
      parentModelId: v2.id
    },
    bytes("online weights")
  )
  await client.registry.promoteModel(online.id, "testing", { reason: "online update 1 of pipeline fraud-pipeline" })
  const candidate = await client.registry.registerModel(
    { ...base, version: "2.0.0-rc1", metrics: { auc: 0.95 }, tags: ["payments"] },
    bytes("candidate weights")
  )
  await client.registry.promoteModel(candidate.id, "testing")
  await client.registry.registerModel({
    name: "churn-model",
    version: "0.3.0",
    algorithm: "logistic_regression",
    framework: "sklearn",
    metrics: { auc: 0.81 },
    tags: ["team-b"]
  })
  for (let i = 0; i < bulkVersions; i++) {
    await client.registry.registerModel({
      name: "bulk-ranker",
      version: `0.0.${i}`,
      algorithm: "lambdamart",
      framework: "lightgbm",
      metrics: { ndcg: 0.5 + i / 1000 }
    })
  }
  return { v1, v2, online, candidate, artifact, v1ProductionAt }
}

/** README's screenshots (1280x800, the visible part): written to docs/ when ML_UPDATE_DOCS=1. */
const docsScreenshot = async (page: Page, name: string) => {
  if (process.env["ML_UPDATE_DOCS"] !== "1") return
  fs.mkdirSync(docs, { recursive: true })
  await page.screenshot({ path: path.join(docs, `${name}.png`) })
}

const rowsOf = async (page: Page) => {
  const table = page.getByTestId("model-versions")
  await table.waitFor()
  return table.locator("tbody tr")
}

/** Waits until the table shows exactly `count` rows (filters and pages load after the URL changes). */
const expectRows = async (page: Page, count: number) =>
  expect.poll(async () => (await rowsOf(page)).count()).toBe(count)

beforeAll(async () => {
  browser = await launchBrowser()
  server = await startServer(temporaryDirectory("models"), { ML_API_TOKEN: adminToken })
  admin = createClient({ baseUrl: server.url, token: adminToken })
  seeded = await seed(admin)
})
afterAll(async () => {
  if (server) await killHard(server.child)
  await browser?.close()
})

describe("the version list", () => {
  it("shows versions with status, metrics and size, and filters and pages through the URL", async () => {
    const { page, errors } = await openPage(browser, server.url, { token: adminToken })
    await page.goto("/models")
    await expectRows(page, 50)
    const firstRow = (await rowsOf(page)).first()
    expect(await firstRow.textContent()).toContain("fraud-detector")
    expect(await firstRow.textContent()).toContain("1.0.0")
    expect(await firstRow.textContent()).toContain("auc 0.912")
    await expectAccessible(page)
    await screenshot(page, "models-list")
    await docsScreenshot(page, "dashboard-models")

    // Name prefix (typed, then Enter): the filter goes into the URL.
    await page.getByLabel("Name starts with").fill("fraud")
    await page.getByLabel("Name starts with").press("Enter")
    await page.waitForURL("**/models?q=fraud")
    await expectRows(page, 4)
    // Status applies on change.
    await page.getByLabel("Status", { exact: true }).selectOption("testing")
    await page.waitForURL("**/models?q=fraud&status=testing")
    await expectRows(page, 2)
    expect(await (await rowsOf(page)).allTextContents()).toEqual([
      expect.stringContaining("1.1.0-online-fraud-pipeline-1"),
      expect.stringContaining("2.0.0-rc1")
    ])
    // Tag and framework.
    await page.goto("/models?tag=online")
    await expectRows(page, 1)
    await page.goto("/models?framework=sklearn")
    await expectRows(page, 1)
    expect(await (await rowsOf(page)).first().textContent()).toContain("churn-model")
    await page.goto("/models?q=nothing-like-this")
    await expect.poll(() => page.locator(".state.empty").textContent()).toContain("No model versions match")

    // Paging: 55 bulk versions are 50 + 5; Back returns to the first page.
    await page.goto("/models?q=bulk")
    await expectRows(page, 50)
    await page.getByRole("link", { name: "Next page" }).click()
    await page.waitForURL(/after=/)
    await expectRows(page, bulkVersions - 50)
    expect(await page.getByRole("link", { name: "Next page" }).count()).toBe(0)
    expect(await (await rowsOf(page)).last().textContent()).toContain(`0.0.${bulkVersions - 1}`)
    await page.reload()
    await expectRows(page, bulkVersions - 50)
    await page.goBack()
    await page.waitForURL("**/models?q=bulk")
    await expectRows(page, 50)
    // A name the API refuses is a 400 naming the field, shown as a message, not a blank page.
    await page.goto("/models?q=no%20spaces")
    await expect.poll(() => page.getByRole("alert").first().textContent()).toContain("namePrefix")
    expect(errors.filter((error) => !error.includes("400"))).toEqual([])
  })
})

describe("a name", () => {
  it("shows the production version now and at a past instant", async () => {
    const { page, errors } = await openPage(browser, server.url, { token: adminToken })
    await page.goto("/models/fraud-detector")
    await expect.poll(() => page.getByTestId("production-answer").first().textContent()).toContain(
      "In production now: 1.1.0"
    )
    await expectRows(page, 4)
    // The picker reads UTC; the answer comes from the audit history.
    await page.getByLabel("Time (UTC)").fill(seeded.v1ProductionAt.slice(0, 19))
    await page.getByRole("button", { name: "Show version in production then" }).click()
    await page.waitForURL(/at=/)
    const answers = page.getByTestId("production-answer")
    await expect.poll(() => answers.nth(1).textContent()).toContain("1.0.0")
    // The instant is in the URL: a reload answers the same.
    await page.reload()
    await expect.poll(() => page.getByTestId("production-answer").nth(1).textContent()).toContain("1.0.0")
    await page.goto(`/models/fraud-detector?at=${encodeURIComponent("2001-01-01T00:00:00.000Z")}`)
    await expect.poll(() => page.getByTestId("production-answer").nth(1).textContent()).toContain(
      "No version was in production at 2001-01-01"
    )
    await expectAccessible(page)
    await page.getByRole("link", { name: "1.1.0-online-fraud-pipeline-1" }).click()
    await page.waitForURL(`**/models/fraud-detector/${seeded.online.id}`)
    await page.getByRole("heading", { name: "fraud-detector 1.1.0-online-fraud-pipeline-1" }).waitFor()
    expect(errors.filter((error) => !error.includes("404"))).toEqual([])
  })
})

describe("a version", () => {
  it("shows facts, metrics, lineage and the audit timeline", async () => {
    const { page, errors } = await openPage(browser, server.url, { token: adminToken })
    await page.goto(`/models/fraud-detector/${seeded.v1.id}`)
    await page.getByRole("heading", { name: "fraud-detector 1.0.0" }).waitFor()
    const facts = page.getByTestId("model-facts")
    expect(await page.getByTestId("artifact-sha256").textContent()).toBe(sha256(seeded.artifact))
    expect(await facts.textContent()).toContain(`${seeded.artifact.byteLength.toLocaleString("en-US")} bytes`)
    expect(await facts.textContent()).toContain("archived")
    expect(await page.getByTestId("model-metrics").textContent()).toContain("0.912")
    // v1 was replaced by v2 and archived: the timeline says so, with the reasons given.
    const history = page.getByTestId("history")
    await history.waitFor()
    const events = await history.locator("li").allTextContents()
    expect(events[0]).toContain("Registered")
    expect(events.join("\n")).toContain("Promoted from staging to production")
    expect(events.join("\n")).toContain("Reason: v1 to production")
    expect(events.at(-1)).toMatch(/Archived|Demoted/)
    await expect.poll(() => page.getByTestId("lineage").textContent()).toContain("1.1.0")

    // The online version: its parent chain runs back to v1.
    await page.goto(`/models/fraud-detector/${seeded.online.id}`)
    const lineage = page.getByTestId("lineage")
    await lineage.getByRole("link", { name: "fraud-detector 1.0.0" }).waitFor()
    const chain = await lineage.locator("ol li").allTextContents()
    expect(chain.map((item) => item.split(" ")[1])).toEqual(["1.0.0", "1.1.0", "1.1.0-online-fraud-pipeline-1"])
    expect(await page.getByTestId("model-facts").textContent()).toContain("online, fraud-pipeline")
    await expectAccessible(page)
    await screenshot(page, "models-version")
    await docsScreenshot(page, "dashboard-models-version")
    expect(errors).toEqual([])
  })

  it("promotes with a reason, archives and edits, with the effects visible through the API", async () => {
    const { page, errors } = await openPage(browser, server.url, { token: adminToken })
    await page.goto(`/models/fraud-detector/${seeded.candidate.id}`)
    const actions = page.getByTestId("model-actions")
    await actions.waitFor()
    await expect.poll(() => page.getByLabel("Promote to").inputValue()).toBe("staging")
    await page.getByLabel("Reason", { exact: true }).fill("offline evaluation passed")
    await page.getByRole("button", { name: "Promote" }).click()
    await expect.poll(async () => (await admin.registry.getModel(seeded.candidate.id)).status).toBe("staging")
    const promoted = (await admin.registry.getHistory(seeded.candidate.id)).at(-1)!
    expect(promoted).toMatchObject({ action: "promoted", from: "testing", to: "staging" })
    expect(promoted.reason).toBe("offline evaluation passed")
    // The page follows: the timeline shows the reason, the next step offered is production.
    await expect.poll(() => page.getByTestId("history").textContent()).toContain("offline evaluation passed")
    await expect.poll(() => page.getByLabel("Promote to").inputValue()).toBe("production")

    await page.getByLabel("Description", { exact: true }).fill("Release candidate with calibrated scores")
    await page.getByLabel("Tags (comma-separated)").fill("payments, rc, payments")
    await page.getByRole("button", { name: "Save" }).click()
    await expect.poll(async () => (await admin.registry.getModel(seeded.candidate.id)).tags).toEqual([
      "payments",
      "rc"
    ])
    expect((await admin.registry.getModel(seeded.candidate.id)).description).toBe(
      "Release candidate with calibrated scores"
    )
    await expect.poll(() => page.getByTestId("model-facts").textContent()).toContain("payments, rc")

    await page.getByLabel("Reason for archiving").fill("superseded")
    await page.getByRole("button", { name: "Archive" }).click()
    await expect.poll(async () => (await admin.registry.getModel(seeded.candidate.id)).status).toBe("archived")
    expect((await admin.registry.getHistory(seeded.candidate.id)).at(-1)).toMatchObject({
      action: "archived",
      reason: "superseded"
    })
    // Archived is final: nothing left to promote or archive.
    await expect.poll(() => page.getByTestId("model-facts").locator(".badge").textContent()).toBe("archived")
    expect(await page.getByRole("button", { name: "Archive" }).count()).toBe(0)
    expect(await page.getByRole("button", { name: "Promote" }).count()).toBe(0)
    expect(errors).toEqual([])
  })

  it("offers a viewer no actions, and an editor no production step", async () => {
    const viewer = await admin.createKey({ name: "models-viewer", role: "viewer" })
    const editor = await admin.createKey({ name: "models-editor", role: "editor" })
    const seen = await openPage(browser, server.url, { token: viewer.token })
    await seen.page.goto(`/models/fraud-detector/${seeded.online.id}`)
    await seen.page.getByTestId("history").waitFor()
    await seen.page.getByTestId("lineage").waitFor()
    expect(await seen.page.getByTestId("model-actions").count()).toBe(0)
    expect(await seen.page.getByRole("button").filter({ hasNotText: "Sign out" }).count()).toBe(0)
    await expectAccessible(seen.page)
    expect(seen.errors).toEqual([])

    const staged = await admin.registry.registerModel(
      { name: "fraud-detector", version: "2.0.0-rc2", algorithm: "gbm", framework: "xgboost" },
      bytes("rc2")
    )
    await admin.registry.promoteModel(staged.id, "testing")
    await admin.registry.promoteModel(staged.id, "staging")
    const edited = await openPage(browser, server.url, { token: editor.token })
    await edited.page.goto(`/models/fraud-detector/${staged.id}`)
    await edited.page.getByTestId("model-actions").waitFor()
    // staging -> production and archive need models:promote-production (admin); editing does not.
    expect(await edited.page.getByRole("button", { name: "Promote" }).count()).toBe(0)
    expect(await edited.page.getByRole("button", { name: "Archive" }).count()).toBe(0)
    expect(await edited.page.getByRole("button", { name: "Save" }).count()).toBe(1)
    expect(edited.errors).toEqual([])
  })
})

describe("a narrow window", () => {
  it("keeps the list and a version page within 390 px", async () => {
    const { page, errors } = await openPage(browser, server.url, {
      token: adminToken,
      viewport: { width: 390, height: 800 }
    })
    for (const url of ["/models", `/models/fraud-detector/${seeded.v2.id}`, "/models/fraud-detector"]) {
      await page.goto(url)
      await page.locator("main h1").first().waitFor()
      await page.locator("main .state.loading").first().waitFor({ state: "detached" })
      const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth)
      // Named in the failure: the elements that stick out of the window.
      const wide = await page.evaluate(() =>
        [...document.querySelectorAll("main *")]
          .filter((element) => element.getBoundingClientRect().right > window.innerWidth + 1)
          .map((element) => `${element.tagName.toLowerCase()}.${element.className}`)
          .slice(0, 5)
      )
      expect(overflow, `${url}: ${wide.join(", ")}`).toBeLessThanOrEqual(0)
    }
    await expectAccessible(page)
    expect(errors.filter((error) => !error.includes("404"))).toEqual([])
  })
})
