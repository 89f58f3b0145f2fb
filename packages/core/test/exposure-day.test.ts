/**
 * The exposure day of an instant is remembered between calls (every exposure of a day asks for
 * the same one): whatever order instants come in, the answer is the UTC date that Date gives.
 */
import { describe, expect, it } from "vitest"
import { exposureDayOf } from "../src/experiments/ExperimentStore.js"

const dayMillis = 86_400_000
const isoDay = (ms: number) => new Date(ms).toISOString().slice(0, 10)

describe("exposureDayOf", () => {
  it("answers the UTC date of each instant, around midnights, back and forth between days", () => {
    const midnight = Date.UTC(2026, 11, 2)
    const instants = [
      midnight - 1,
      midnight,
      midnight + 1,
      midnight - 1,
      midnight + dayMillis - 1,
      midnight + dayMillis,
      midnight,
      midnight + 12 * 3_600_000,
      Date.UTC(1969, 11, 31, 23, 59, 59, 999),
      Date.UTC(1970, 0, 1),
      -1,
      0,
      Date.UTC(2028, 1, 29, 23, 59, 59, 999),
      Date.UTC(2028, 2, 1)
    ]
    for (const ms of instants) expect(exposureDayOf(ms), String(ms)).toBe(isoDay(ms))
  })

  it("agrees with Date on random instants over two centuries", () => {
    let seed = 12345
    const next = () => {
      seed = (Math.imul(seed, 1664525) + 1013904223) >>> 0
      return seed / 4294967296
    }
    const from = Date.UTC(1900, 0, 1)
    const span = Date.UTC(2100, 0, 1) - from
    for (let i = 0; i < 2000; i++) {
      // Runs of nearby instants (same day, next day) between jumps, as a live server sees them.
      const base = from + Math.floor(next() * span)
      for (let j = 0; j < 5; j++) {
        const ms = base + Math.floor((next() - 0.3) * dayMillis)
        expect(exposureDayOf(ms)).toBe(isoDay(ms))
      }
    }
  })
})
