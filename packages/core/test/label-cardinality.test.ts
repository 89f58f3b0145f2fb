/** The cap on user-chosen label values (metric and feature names) given to the metrics sink. */
import { describe, expect, it } from "vitest"
import { MetricsSink } from "../src/index.js"

describe("cappedNames", () => {
  it("keeps the first maxNamesPerScope names in the given order and maps the rest to _other", () => {
    const names = Array.from({ length: MetricsSink.maxNamesPerScope + 10 }, (_, i) => `m${i}`)
    const labelOf = MetricsSink.cappedNames(names)
    expect(names.map(labelOf).filter((label) => label !== MetricsSink.otherNames)).toEqual(
      names.slice(0, MetricsSink.maxNamesPerScope)
    )
    expect(labelOf(names.at(-1)!)).toBe(MetricsSink.otherNames)
    expect(labelOf("never-ranked")).toBe(MetricsSink.otherNames)
  })

  it("counts a repeated name once", () => {
    const labelOf = MetricsSink.cappedNames(["a", "a", ...Array.from({ length: 60 }, (_, i) => `n${i}`)])
    expect(labelOf(`n${MetricsSink.maxNamesPerScope - 2}`)).toBe(`n${MetricsSink.maxNamesPerScope - 2}`)
    expect(labelOf(`n${MetricsSink.maxNamesPerScope - 1}`)).toBe(MetricsSink.otherNames)
  })
})
