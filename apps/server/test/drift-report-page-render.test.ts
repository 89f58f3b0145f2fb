/**
 * The report page as a pure function, on reports the API would never store: hostile feature and
 * monitor names, many categories, an untested feature and fields a later release might add.
 */
import type { DriftReport, FeatureCheck } from "@org/ml-core"
import { describe, expect, it } from "vitest"
import { MAX_CATEGORY_BARS, renderDriftReportPage } from "../src/DriftReportPage.js"

const hostile = "<script>alert('x')</script>\"&amp;"
const escapedHostile = "&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;&quot;&amp;amp;"

const check = (overrides: Partial<FeatureCheck>): FeatureCheck => ({
  feature: "amount",
  type: "numeric",
  windowCount: 500,
  missingShare: 0,
  psi: 0.31,
  ksStatistic: 0.2,
  pValue: 1.5e-12,
  adjustedPValue: 3e-12,
  severity: "medium",
  baselineVersion: 1,
  edges: [1, 2],
  categories: null,
  baselineShares: [0.3, 0.4, 0.3],
  currentShares: [0.1, 0.4, 0.5],
  unseenCategories: [],
  ...overrides
})

const categories = Array.from({ length: 30 }, (_, i) => `${hostile}${i}`)
const report: DriftReport = {
  id: "check-abc-1",
  monitorId: hostile,
  at: "2026-01-02T03:04:05.000Z",
  features: [
    check({ feature: hostile }),
    check({
      feature: "country",
      type: "categorical",
      ksStatistic: null,
      edges: null,
      categories,
      baselineShares: categories.map((_, i) => (i + 1) / 465),
      currentShares: categories.map((_, i) => (30 - i) / 465),
      unseenCategories: [hostile],
      severity: "critical"
    }),
    check({
      feature: "score",
      psi: null,
      ksStatistic: null,
      pValue: null,
      adjustedPValue: null,
      severity: "none",
      edges: null,
      baselineShares: null,
      currentShares: null
    })
  ],
  alerts: []
}

describe("renderDriftReportPage", () => {
  const html = renderDriftReportPage(
    { ...report, laterField: { share: 0.5, verdict: hostile } } as DriftReport
  )

  it("escapes every name from the data, in text and in attributes", () => {
    expect(html).not.toContain("<script")
    expect(html).not.toContain("alert('x')")
    expect(html).toContain(`Drift report of monitor <code>${escapedHostile}</code>`)
    expect(html).toContain(`<h2><code>${escapedHostile}</code>`)
    // A field the page does not know is shown as escaped JSON, not dropped.
    expect(html).toContain("<dt>laterField</dt>")
    expect(html).not.toMatch(/"verdict":"<script/u)
  })

  it("shows the verdict of the worst feature and counts drifted among tested features", () => {
    expect(html).toContain("<span class=\"sev sev-critical\" data-severity=\"critical\">critical</span> drift: ")
    expect(html).toContain("<span data-drifted=\"2\">2</span> of 2 tested features drifted; 1 not tested")
  })

  it("bounds a chart to the largest categories and one bar for the rest", () => {
    const countryChart = html.split("<svg").find((svg) => svg.includes("country: share"))!
    expect(countryChart.match(/data-series="current"/gu)).toHaveLength(MAX_CATEGORY_BARS + 1)
    // The largest by share (baseline or current) are kept: the first three and the last three.
    for (const i of [0, 1, 2, 27, 28, 29]) expect(countryChart).toContain(`${escapedHostile}${i}: baseline`)
    expect(countryChart).toContain(`other (${30 - MAX_CATEGORY_BARS} categories): current`)
  })

  it("keeps the exact stored numbers machine-readable beside the rounded ones", () => {
    expect(html).toContain("<data value=\"1.5e-12\">1.50e-12</data>")
    expect(html).toContain("<data value=\"0.31\">0.31</data>")
    expect(html).toContain("Not tested")
  })

  it("labels numeric bins by the baseline's edges: open below the first and from the last", () => {
    expect(html).toContain("&lt; 1: baseline 30.0%")
    expect(html).toContain("1 to &lt; 2: current 40.0%")
    expect(html).toContain("≥ 2: current 50.0%")
  })
})
