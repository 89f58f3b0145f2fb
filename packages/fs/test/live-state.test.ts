// A pipeline's live learner state in the filesystem journal: written as format-2 bytes (base64 in
// the entry), while a format-1 entry written by an earlier release still replays.
import { encodeLearnerState, loadLearner, PipelineStore } from "@org/ml-core"
import { samplePipeline, trainedHashedLearner } from "@org/ml-core/testing"
import { Effect, Exit } from "effect"
import * as fs from "node:fs/promises"
import * as os from "node:os"
import * as path from "node:path"
import { afterAll, describe, expect, it } from "vitest"
import { FsPipelineStore } from "../src/index.js"
import { encodeLine } from "../src/JournalFormat.js"

const root = await fs.mkdtemp(path.join(os.tmpdir(), "ml-fs-live-state-"))
afterAll(() => fs.rm(root, { recursive: true, force: true }))

const use = <A, E>(directory: string, f: (store: PipelineStore.PipelineStoreShape) => Effect.Effect<A, E>) =>
  Effect.runPromiseExit(
    Effect.provide(PipelineStore.PipelineStore.use(f), FsPipelineStore.layer({ directory }))
  )
const ok = async <A, E>(exit: Promise<Exit.Exit<A, E>>): Promise<A> => {
  const done = await exit
  if (Exit.isFailure(done)) throw new Error(String(done.cause))
  return done.value
}
const journalOf = (directory: string) => path.join(directory, "pipelines.jsonl")

describe("live learner state in the fs journal", () => {
  it("is journaled as format-2 bytes: the touched slots of a 2^20-slot learner, not every slot", async () => {
    const directory = path.join(root, "binary")
    const pipeline = samplePipeline()
    const state = trainedHashedLearner(20).learner.state()
    await ok(use(directory, (s) => s.insert(pipeline)))
    const before = (await fs.stat(journalOf(directory))).size
    await ok(use(directory, (s) => s.setLiveState(pipeline.id, state)))
    const lines = (await fs.readFile(journalOf(directory), "utf8")).trimEnd().split("\n")
    const entry = JSON.parse(lines.at(-1)!.slice(9)) as { op: string; encoded?: string; state?: unknown }
    expect(entry.op).toBe("state")
    expect(entry.state).toBeUndefined()
    expect(Buffer.from(entry.encoded!, "base64").equals(encodeLearnerState(state))).toBe(true)
    const growth = (await fs.stat(journalOf(directory))).size - before
    expect(growth * 10).toBeLessThan(JSON.stringify(state).length)
  }, 60_000)

  it("replays a format-1 entry an earlier release wrote, and writes format 2 from then on", async () => {
    const directory = path.join(root, "legacy")
    const pipeline = samplePipeline()
    const { learner, probes } = trainedHashedLearner(12)
    await ok(use(directory, (s) => s.insert(pipeline)))
    await fs.appendFile(
      journalOf(directory),
      encodeLine(JSON.stringify({ op: "state", id: pipeline.id, state: learner.state() }))
    )
    const legacy = await ok(use(directory, (s) => s.liveState(pipeline.id)))
    expect(legacy).toEqual(learner.state())
    const restored = loadLearner(legacy)
    for (const features of probes) expect(restored.predict(features)).toBe(learner.predict(features))
    await ok(use(directory, (s) => s.setLiveState(pipeline.id, legacy!)))
    expect(await ok(use(directory, (s) => s.liveState(pipeline.id)))).toEqual(learner.state())
    const last = (await fs.readFile(journalOf(directory), "utf8")).trimEnd().split("\n").at(-1)!
    expect(JSON.parse(last.slice(9))).toHaveProperty("encoded")
  }, 60_000)

  it("stops start-up at a damaged format-2 state, naming the file and the pipeline", async () => {
    const directory = path.join(root, "damaged")
    const pipeline = samplePipeline()
    await ok(use(directory, (s) => s.insert(pipeline)))
    const bytes = Buffer.from(encodeLearnerState(trainedHashedLearner(8).learner.state()))
    bytes[bytes.length - 10]! ^= 0xff
    // The line's own checksum matches: the damage is inside the state, as a bad writer would leave it.
    await fs.appendFile(
      journalOf(directory),
      encodeLine(JSON.stringify({ op: "state", id: pipeline.id, encoded: bytes.toString("base64") }))
    )
    const exit = await use(directory, (s) => s.list())
    expect(Exit.isFailure(exit)).toBe(true)
    const message = Exit.isFailure(exit) ? String(exit.cause) : ""
    expect(message).toContain(`pipelines.jsonl (live state of pipeline ${pipeline.id})`)
    expect(message).toContain("CRC-32")
  }, 60_000)
})
