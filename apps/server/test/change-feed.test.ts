/**
 * The change feeds (ChangeFeed.ts, ExperimentFeed.ts) over plain read functions that count their
 * calls: a kept snapshot answers readers while the feed is polled, an invalidation makes the next
 * reader read afresh, equal versions keep one snapshot object (the payload cache's key), and with
 * a definitions token the experiments are listed only when the token moved.
 */
import type { Experiment } from "@org/ml-core"
import { sampleExperiment } from "@org/ml-core/testing"
import { describe, expect, it } from "vitest"
import { makeChangeFeed } from "../src/ChangeFeed.js"
import { makeExperimentFeed } from "../src/ExperimentFeed.js"

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))

describe("change feeds", () => {
  it("answers readers from the kept snapshot while polled; an invalidation reads afresh", async () => {
    let reads = 0
    let version = "a"
    const feed = makeChangeFeed({ name: "test", intervalMs: 60_000, read: async () => ({ version, read: ++reads }) })
    const first = await feed.snapshot()
    expect(reads).toBe(1)
    for (let i = 0; i < 100; i++) expect(await feed.snapshot()).toBe(first)
    expect(reads).toBe(1)
    version = "b"
    feed.invalidate()
    const second = await feed.snapshot()
    expect(second).toMatchObject({ version: "b" })
    expect(reads).toBe(2)
    // An equal version keeps the snapshot object.
    feed.invalidate()
    expect(await feed.snapshot()).toBe(second)
    feed.close()
  })

  it("with a definitions token, lists the experiments only when the token moved", async () => {
    let lists = 0
    let token = "1"
    let experiments: ReadonlyArray<Experiment> = [sampleExperiment()]
    const feed = makeExperimentFeed({
      intervalMs: 10,
      list: async () => {
        lists++
        return experiments
      },
      token: async () => token
    })
    const seen: Array<string> = []
    const stop = feed.subscribe((snapshot) => seen.push(snapshot.version))
    await sleep(300)
    expect(lists).toBe(1)
    const changed = { ...experiments[0]!, revision: 2 }
    experiments = [changed]
    token = "2"
    await sleep(300)
    expect(lists).toBe(2)
    expect(seen).toEqual([`${changed.id}@1`, `${changed.id}@2`])
    stop()
    feed.close()
  })

  it("starts a new listener from a fresh read after an invalidation, never from the kept state", async () => {
    let version = "a"
    const feed = makeChangeFeed({ name: "test", intervalMs: 60_000, read: async () => ({ version }) })
    const stopFirst = feed.subscribe(() => undefined)
    await sleep(20)
    stopFirst()
    // A change answered through this instance, before the kept state was polled again.
    version = "b"
    feed.invalidate()
    const seen: Array<string> = []
    const stop = feed.subscribe((snapshot) => seen.push(snapshot.version))
    await sleep(20)
    expect(seen).toEqual(["b"])
    // With nothing invalidated, a new listener starts from the kept state at once.
    const kept: Array<string> = []
    const stopKept = feed.subscribe((snapshot) => kept.push(snapshot.version))
    expect(kept).toEqual(["b"])
    stop()
    stopKept()
    feed.close()
  })
})
