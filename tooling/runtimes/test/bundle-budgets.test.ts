/**
 * Each edge entry point stays within the budget README states (esbuild, minified, gzip -9), and
 * entries that need no services hold no Effect code: a change that bloats an entry fails here.
 */
import * as fs from "node:fs"
import * as path from "node:path"
import { fileURLToPath } from "node:url"
import { describe, expect, it } from "vitest"
import { entryBudgets, measureEntries } from "../bundle-budgets.mjs"

const readme = fs.readFileSync(
  path.join(path.dirname(fileURLToPath(import.meta.url)), "..", "..", "..", "README.md"),
  "utf8"
)

describe("edge entry points", async () => {
  const measured = await measureEntries()

  it.each(measured.map((m) => [m.entry, m] as const))("%s fits its budget", (_entry, m) => {
    expect(m.bytes, `${m.entry}: ${m.bytes} B min+gz`).toBeLessThanOrEqual(m.budget)
    if (m.effectFree) expect(m.includesEffect, `${m.entry} bundles Effect`).toBe(false)
  })

  it("README states every budget", () => {
    for (const { budget, entry } of entryBudgets) {
      const row = readme.split("\n").find((line) => line.startsWith(`| \`${entry}\` |`))
      expect(row, `README row for ${entry}`).toBeDefined()
      expect(row).toContain(`| ${budget.toLocaleString("en-US")} B |`)
    }
  })
})
