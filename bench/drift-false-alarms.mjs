// Simulated false-alarm rate and power of every registered drift test, at windows of 100, 1,000
// and 10,000, each with the decision rule it would use alone: p < 0.05 for tests with a p-value,
// statistic >= 0.1 for distances (Evidently's default thresholds). Seeded (the core's makeRandom),
// so every run prints the same table; it is the table in README "## Drift detection".
//
// Per replicate, a fresh baseline of 20,000 values (frozen as a monitor freezes it: 10 quantile
// bins) and three windows drawn from:
//   numeric:     N(0, 1), then N(0.1, 1) and N(0.5, 1) (a 0.1 sd and a 0.5 sd mean shift);
//   binary:      0/1 with P(1) = 0.3, then 0.33 and 0.4 (tests on a numeric 0/1 feature);
//   categorical: shares a 0.4, b 0.3, c 0.2, d 0.1, then 0.05 of the share moved from a to d
//                (0.35 / 0.3 / 0.2 / 0.15), then 0.2 moved (0.2 / 0.3 / 0.2 / 0.3).
// A cell is the share of replicates flagged: with no change it is the false-alarm rate, else
// the power. Replicates: 200 at windows of 100 and 1,000, 100 at 10,000 (ML_SIM_REPLICATES
// scales both); a share s has a Monte-Carlo standard error of sqrt(s (1 - s) / replicates).
//
//   node bench/drift-false-alarms.mjs   (after a build)
import { defaultMonitorSettings, driftTests, extraDriftTests, makeBaseline, makeRandom } from "@org/ml-core"

const scale = Number(process.env.ML_SIM_REPLICATES ?? "1")
const baselineSize = 20_000
const windowSizes = [100, 1000, 10_000]
const replicatesFor = (n) => Math.max(10, Math.round((n >= 10_000 ? 100 : 200) * scale))
const settings = defaultMonitorSettings
const allTests = [...driftTests, ...extraDriftTests]

const scenarios = {
  numeric: {
    changes: ["none", "0.1 sd", "0.5 sd"],
    draw: (random, n, change) => {
      const loc = [0, 0.1, 0.5][change]
      return Array.from({ length: n }, () => random.normal(loc, 1))
    },
    tests: allTests.filter((t) => t.appliesTo === "numeric" && !["z-test", "fisher-exact"].includes(t.name))
  },
  binary: {
    changes: ["none", "0.3 → 0.33", "0.3 → 0.4"],
    draw: (random, n, change) => {
      const p = [0.3, 0.33, 0.4][change]
      return Array.from({ length: n }, () => (random.uniform() < p ? 1 : 0))
    },
    tests: allTests.filter((t) => t.appliesTo === "numeric" && ["z-test", "fisher-exact"].includes(t.name))
  },
  categorical: {
    changes: ["none", "0.05 a → d", "0.2 a → d"],
    draw: (random, n, change) => {
      const moved = [0, 0.05, 0.2][change]
      const cumulative = [0.4 - moved, 0.7 - moved, 0.9 - moved]
      return Array.from({ length: n }, () => {
        const u = random.uniform()
        return u < cumulative[0] ? "a" : u < cumulative[1] ? "b" : u < cumulative[2] ? "c" : "d"
      })
    },
    // The binary tests need exactly two categories; they are in the binary rows.
    tests: allTests.filter((t) => t.appliesTo === "categorical" && !["z-test", "fisher-exact"].includes(t.name))
  }
}

const countsOf = (values) => {
  const counts = {}
  for (const v of values) counts[v] = (counts[v] ?? 0) + 1
  return counts
}

const flagged = (test, result) =>
  result !== null && (test.role === "significance" ? result.pValue < 0.05 : result.statistic >= 0.1)

const ruleOf = (test) => (test.role === "significance" ? "p < 0.05" : "statistic >= 0.1")

const started = performance.now()
const sections = []
for (const [type, scenario] of Object.entries(scenarios)) {
  // flags[test][window index][change] = replicates flagged
  const flags = scenario.tests.map(() => windowSizes.map(() => [0, 0, 0]))
  windowSizes.forEach((n, w) => {
    const random = makeRandom(`drift-false-alarms:${type}:${n}`)
    const replicates = replicatesFor(n)
    for (let r = 0; r < replicates; r++) {
      const baseline = makeBaseline({
        monitorId: "sim",
        feature: type,
        type: type === "categorical" ? "categorical" : "numeric",
        values: scenario.draw(random, baselineSize, 0),
        version: r + 1,
        at: "2026-01-01T00:00:00.000Z",
        settings
      })
      for (let change = 0; change < 3; change++) {
        const window = scenario.draw(random, n, change)
        const input = type === "categorical" ? countsOf(window) : window
        scenario.tests.forEach((test, i) => {
          if (flagged(test, test.run(baseline, input, settings))) flags[i][w][change]++
        })
      }
    }
  })
  sections.push({ type, scenario, flags })
}

const percent = (hits, n) => `${(100 * hits / n).toFixed(1)}%`
const lines = [
  `| feature | test | rule | ${
    windowSizes.map((n) => `n = ${n.toLocaleString("en-US")}: false alarms / small / large change`).join(" | ")
  } |`,
  `| --- | --- | --- | ${windowSizes.map(() => "---").join(" | ")} |`
]
for (const { flags, scenario, type } of sections) {
  scenario.tests.forEach((test, i) => {
    const cells = windowSizes.map((n, w) => flags[i][w].map((hits) => percent(hits, replicatesFor(n))).join(" / "))
    lines.push(`| ${type} | \`${test.name}\` | ${ruleOf(test)} | ${cells.join(" | ")} |`)
  })
}
console.log(
  `Changes: numeric ${scenarios.numeric.changes.slice(1).join(", ")}; binary ${
    scenarios.binary.changes.slice(1).join(", ")
  }; categorical ${scenarios.categorical.changes.slice(1).join(", ")}. Baselines of ${baselineSize}; replicates ${
    windowSizes.map((n) => `${replicatesFor(n)} at n = ${n}`).join(", ")
  }.\n`
)
console.log(lines.join("\n"))
console.log(`\n(${((performance.now() - started) / 1000).toFixed(1)} s)`)
