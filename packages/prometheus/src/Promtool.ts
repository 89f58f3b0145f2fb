/**
 * Test helper (exported as @org/ml-adapter-prometheus/testing). Runs `promtool check metrics`
 * on an exposition and returns its remarks, minus the one the metric contract accepts: the
 * "_total" suffix on the gauges whose names ARCHITECTURE.md fixes.
 * promtool must be installed (CI installs Debian's prometheus package); if it is missing the
 * call throws, so the check fails rather than skips.
 */
import { spawnSync } from "node:child_process"
import { contractGaugesWithTotalSuffix } from "./PrometheusMetrics.js"

export const promtoolRemarks = (exposition: string): Array<string> => {
  const result = spawnSync("promtool", ["check", "metrics"], { input: exposition, encoding: "utf8" })
  if (result.error) throw new Error(`promtool is required for this check: ${result.error.message}`)
  const lines = `${result.stdout}\n${result.stderr}`.split("\n").map((l) => l.trim()).filter(Boolean)
  return lines.filter((line) =>
    !contractGaugesWithTotalSuffix.some((name) => line.startsWith(`${name} `) && line.includes("_total"))
  )
}
