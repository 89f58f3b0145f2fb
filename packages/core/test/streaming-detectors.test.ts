/**
 * ADWIN and Page-Hinkley against River's published examples: the streams are regenerated exactly
 * by test/golden/generate_streaming.py (Python's Mersenne Twister, as River's docs use it), the
 * expected indices are River's printed outputs (sources named in the JSON).
 */
import { describe, expect, it } from "vitest"
import { makeAdwin } from "../src/drift/streaming/Adwin.js"
import { makePageHinkley } from "../src/drift/streaming/PageHinkley.js"
import { detectionsIn } from "../src/drift/streaming/StreamingDetector.js"
import golden from "./golden/streaming.json" with { type: "json" }

const detectorOf = (name: string) => name === "adwin" ? makeAdwin() : makePageHinkley()

describe("streaming detectors reproduce River's examples", () => {
  for (const c of golden.cases) {
    it(`${c.name}: detections at ${c.detections.join(", ")}`, () => {
      expect(c.detections.map((i) => c.stream[i])).toEqual(c.valuesAtDetections)
      expect(detectionsIn(detectorOf(c.detector), c.stream)).toEqual(c.detections)
    })
  }
})

describe("ADWIN", () => {
  it("keeps the exact sum and width of a stream it never cuts, and checks only every `clock` values", () => {
    const adwin = makeAdwin({ clock: 1_000_000 })
    const values = Array.from({ length: 200 }, (_, i) => i % 7)
    for (const v of values) expect(adwin.update(v)).toBe(false)
    expect(adwin.width()).toBe(200)
    expect(adwin.total()).toBe(values.reduce((a, b) => a + b, 0))
  })

  it("never signals on a constant stream, and restarts after a detection", () => {
    const adwin = makeAdwin()
    expect(detectionsIn(adwin, Array(5000).fill(1))).toEqual([])
    const shifted = makeAdwin({ clock: 1 })
    const stream = [...Array(500).fill(0), ...Array(500).fill(100)]
    const first = stream.findIndex((v) => shifted.update(v))
    expect(first).toBeGreaterThanOrEqual(500)
    expect(first).toBeLessThan(520)
    expect(shifted.width()).toBeLessThan(first + 1)
    shifted.update(50)
    expect(shifted.width()).toBe(1)
  })

  it("names an invalid option or value", () => {
    expect(() => makeAdwin({ delta: 0 })).toThrow(/delta/)
    expect(() => makeAdwin({ clock: 0 })).toThrow(/clock/)
    expect(() => makeAdwin().update(Number.NaN)).toThrow(/value/)
  })
})

describe("Page-Hinkley", () => {
  it("signals a fall when mode allows it, and not when it watches rises only", () => {
    const stream = [...Array(200).fill(10), ...Array(200).fill(0)]
    expect(detectionsIn(makePageHinkley({ mode: "up" }), stream)).toEqual([])
    expect(detectionsIn(makePageHinkley({ mode: "down" }), stream).length).toBeGreaterThan(0)
    expect(detectionsIn(makePageHinkley(), [...Array(29).fill(0), ...Array(10).fill(1000)])[0]).toBe(29)
  })

  it("names an invalid option", () => {
    expect(() => makePageHinkley({ threshold: 0 })).toThrow(/threshold/)
    expect(() => makePageHinkley({ alpha: 1.5 })).toThrow(/alpha/)
  })
})
