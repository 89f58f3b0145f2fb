/**
 * The dashboard's frame in a real browser against a real server: served at /, four sections with
 * stable URLs and a working back button, sign-in with an API key when auth is on (kept out of URLs),
 * a banner when the server goes away, a narrow window, no console errors, no serious axe violations.
 */
import type { Browser } from "playwright-core"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import {
  expectAccessible,
  killHard,
  launchBrowser,
  openPage,
  screenshot,
  startServer,
  temporaryDirectory
} from "./browser.js"

const adminToken = "dashboard-shell-admin-token-0123456789"
let browser: Browser

beforeAll(async () => {
  browser = await launchBrowser()
})
afterAll(async () => {
  await browser?.close()
})

describe("without authentication", () => {
  it("serves the dashboard at / with four sections, deep links and the back button", async () => {
    const server = await startServer(temporaryDirectory("shell"))
    try {
      const { page, errors } = await openPage(browser, server.url)
      await page.goto("/")
      await page.waitForURL("**/models")
      const nav = page.getByRole("navigation", { name: "Sections" })
      const labels = await nav.getByRole("link").allTextContents()
      expect(labels).toEqual(["Models", "Experiments", "Drift", "Pipelines"])
      for (const label of ["Experiments", "Drift", "Pipelines"]) {
        await nav.getByRole("link", { name: label }).click()
        await page.waitForURL(`**/${label.toLowerCase()}`)
        await expect.poll(() => nav.getByRole("link", { name: label }).getAttribute("aria-current")).toBe("page")
      }
      await page.goBack()
      await page.waitForURL("**/drift")
      // A deep link loads the page directly (the server answers index.html for every dashboard URL).
      await page.goto("/experiments")
      expect(await nav.getByRole("link", { name: "Experiments" }).getAttribute("aria-current")).toBe("page")
      expect(errors).toEqual([])
      // Paths outside the dashboard stay the API's (a JSON 404), not an HTML page.
      const outside = await page.goto("/no-such-page")
      expect(outside?.status()).toBe(404)
      expect(outside?.headers()["content-type"]).toContain("json")
    } finally {
      await killHard(server.child)
    }
  })

  it("works in a narrow window without horizontal scrolling, and passes axe", async () => {
    const server = await startServer(temporaryDirectory("narrow"))
    try {
      const { page, errors } = await openPage(browser, server.url, { viewport: { width: 390, height: 800 } })
      await page.goto("/models")
      await page.getByRole("navigation", { name: "Sections" }).waitFor()
      const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth)
      expect(overflow).toBeLessThanOrEqual(0)
      await expectAccessible(page)
      await screenshot(page, "shell-narrow")
      expect(errors).toEqual([])
    } finally {
      await killHard(server.child)
    }
  })

  it("shows a banner, not a blank page, when the server goes away", async () => {
    const server = await startServer(temporaryDirectory("down"))
    const { page } = await openPage(browser, server.url)
    await page.goto("/models")
    await page.getByRole("navigation", { name: "Sections" }).waitFor()
    await killHard(server.child)
    await expect.poll(() => page.locator(".banner").textContent(), { timeout: 20_000 }).toContain(
      "cannot be reached"
    )
    expect(await page.getByRole("navigation", { name: "Sections" }).isVisible()).toBe(true)
  })
})

describe("with authentication", () => {
  it("asks for an API key, refuses a wrong one, keeps the right one out of the URL", async () => {
    const server = await startServer(temporaryDirectory("auth"), { ML_API_TOKEN: adminToken })
    try {
      const { page, errors } = await openPage(browser, server.url)
      await page.goto("/experiments")
      const keyField = page.getByLabel("API key")
      await keyField.fill("not-a-real-key-0123456789")
      await page.getByRole("button", { name: "Sign in" }).click()
      await expect.poll(() => page.getByRole("alert").first().textContent()).toContain("not accepted")
      await keyField.fill(adminToken)
      await page.getByRole("button", { name: "Sign in" }).click()
      await page.getByRole("heading", { name: "Experiments" }).waitFor()
      expect(page.url()).not.toContain(adminToken)
      // The server says who the key is (GET /v1/whoami); the header shows it.
      await expect.poll(() => page.locator(".account").textContent()).toMatch(/Signed in as .+ \(admin\)/)
      // Kept for the tab: a reload stays signed in.
      await page.reload()
      await page.getByRole("heading", { name: "Experiments" }).waitFor()
      await expectAccessible(page)
      await page.getByRole("button", { name: "Sign out" }).click()
      await page.getByLabel("API key").waitFor()
      // The refused key's 401 is the only console error a browser reports here.
      expect(errors.filter((error) => !error.includes("401"))).toEqual([])
    } finally {
      await killHard(server.child)
    }
  })
})
