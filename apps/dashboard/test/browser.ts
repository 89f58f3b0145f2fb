/**
 * The browser side of the dashboard suites: Debian's Chromium driven by playwright-core, a page that
 * records console errors and failed requests, axe-core accessibility checks, and screenshots saved
 * under test-output/ (a few are copied to docs/ for README).
 */
import AxeBuilder from "@axe-core/playwright"
import * as fs from "node:fs"
import * as path from "node:path"
import { fileURLToPath } from "node:url"
import { type Browser, type BrowserContext, chromium, type Page } from "playwright-core"
import { expect } from "vitest"

export { killHard, type ListeningServer, startServer } from "../../server/test/serverProcess.js"

const here = path.dirname(fileURLToPath(import.meta.url))
export const outputDirectory = path.join(here, "../test-output")

export const launchBrowser = (): Promise<Browser> =>
  chromium.launch({
    executablePath: process.env["ML_TEST_CHROMIUM"] ?? "/usr/bin/chromium",
    args: ["--no-sandbox", "--disable-dev-shm-usage"]
  })

export interface OpenedPage {
  readonly page: Page
  readonly context: BrowserContext
  /** Console errors, uncaught exceptions and CSP violations seen so far. */
  readonly errors: Array<string>
}

export interface PageOptions {
  /** An API key put in sessionStorage before the dashboard loads (as signing in does). */
  readonly token?: string
  readonly viewport?: { readonly width: number; readonly height: number }
}

export const openPage = async (browser: Browser, baseUrl: string, options: PageOptions = {}): Promise<OpenedPage> => {
  const context = await browser.newContext({
    baseURL: baseUrl,
    viewport: options.viewport ?? { width: 1280, height: 800 }
  })
  if (options.token !== undefined) {
    await context.addInitScript((token: string) => sessionStorage.setItem("ml-pipeline.api-key", token), options.token)
  }
  const page = await context.newPage()
  const errors: Array<string> = []
  page.on("console", (message) => {
    if (message.type() === "error") errors.push(`console: ${message.text()}`)
  })
  page.on("pageerror", (error) => errors.push(`page error: ${error.message}`))
  return { page, context, errors }
}

/** Fails on any serious or critical axe-core violation, naming the rule and the elements. */
export const expectAccessible = async (page: Page) => {
  const results = await new AxeBuilder({ page }).analyze()
  const severe = results.violations
    .filter((violation) => violation.impact === "serious" || violation.impact === "critical")
    .map((violation) =>
      `${violation.id} (${violation.impact}): ${violation.nodes.map((node) => node.target.join(" ")).join(", ")}`
    )
  expect(severe).toEqual([])
}

export const screenshot = async (page: Page, name: string) => {
  fs.mkdirSync(outputDirectory, { recursive: true })
  await page.screenshot({ path: path.join(outputDirectory, `${name}.png`), fullPage: true })
}

/** A fresh data directory for one suite's server. */
export const temporaryDirectory = (name: string): string =>
  fs.mkdtempSync(path.join(fs.realpathSync(process.env["TMPDIR"] ?? "/tmp"), `ml-dashboard-${name}-`))
