/**
 * The initial JavaScript budget (issue 13: at most 200 KB gzipped): what a first visit loads before
 * any section, i.e. index.html's scripts and the modules they preload. Sections and the chart
 * library load later, on demand; bench/dashboard.mjs measures those and the time to render.
 */
import * as fs from "node:fs"
import * as path from "node:path"
import { fileURLToPath } from "node:url"
import { gzipSync } from "node:zlib"
import { describe, expect, it } from "vitest"

const dist = path.join(path.dirname(fileURLToPath(import.meta.url)), "../dist")
const budgetBytes = 200 * 1024

describe("initial JavaScript", () => {
  it("stays within 200 KB gzipped", () => {
    const html = fs.readFileSync(path.join(dist, "index.html"), "utf8")
    const scripts = [...html.matchAll(/<(?:script[^>]*src|link[^>]*rel="modulepreload"[^>]*href)="([^"]+\.js)"/g)]
      .map((match) => match[1]!)
    expect(scripts.length).toBeGreaterThan(0)
    const gzipped = scripts.reduce((sum, src) => sum + gzipSync(fs.readFileSync(path.join(dist, src))).length, 0)
    expect(gzipped).toBeLessThan(budgetBytes)
  })
})
