/** The fs experiment journal decodes what it replays: a line that is JSON but not an entry stops start-up, named. */
import { ExperimentStore, summarize } from "@org/ml-core"
import { sampleExperiment } from "@org/ml-core/testing"
import { Effect } from "effect"
import * as fs from "node:fs/promises"
import * as os from "node:os"
import * as path from "node:path"
import { afterAll, describe, expect, it } from "vitest"
import { FsExperimentStore } from "../src/index.js"
import { encodeLine } from "../src/JournalFormat.js"

const root = await fs.mkdtemp(path.join(os.tmpdir(), "ml-fs-experiments-"))
afterAll(() => fs.rm(root, { recursive: true, force: true }))

const use = <A, E>(directory: string, program: Effect.Effect<A, E, ExperimentStore.ExperimentStore>) =>
  Effect.runPromise(Effect.provide(program, FsExperimentStore.layer({ directory })) as Effect.Effect<A, E>)

/**
 * Writes one experiment and one metric merge, then replaces journal line `line` (1 is the header)
 * by `damage` of it, with a matching checksum: the line is intact, its content is not an entry.
 */
const damaged = async (name: string, line: number, damage: (entry: Record<string, any>) => unknown) => {
  const directory = path.join(root, name)
  const experiment = sampleExperiment()
  await use(
    directory,
    ExperimentStore.ExperimentStore.use((s) =>
      Effect.andThen(
        s.insert(experiment),
        s.mergeMetrics(experiment.id, [{ variant: 0, metric: "ctr", summary: summarize([1, 2]) }])
      )
    )
  )
  const file = path.join(directory, "experiments.jsonl")
  const lines = (await fs.readFile(file, "utf8")).split("\n")
  lines[line - 1] = encodeLine(JSON.stringify(damage(JSON.parse(lines[line - 1]!.slice(9))))).trimEnd()
  await fs.writeFile(file, lines.join("\n"))
  // The journal is replayed when the layer is built, so the failure is the layer's.
  const error = await Effect.runPromise(
    Effect.flip(
      Effect.provide(
        ExperimentStore.ExperimentStore.use((s) => s.get(experiment.id)),
        FsExperimentStore.layer({ directory })
      )
    )
  )
  return { error, file }
}

describe("fs experiment journal decoding", () => {
  it("names the file and line of an experiment record that does not decode", async () => {
    const { error, file } = await damaged("bad-experiment", 2, (entry) => ({
      ...entry,
      experiment: { ...entry.experiment, status: "finished" }
    }))
    expect(error._tag).toBe("StorageError")
    expect(error.message).toContain(`${file}:2`)
    expect(error.message).toContain("status")
  })

  it("names the line of a stored summary that does not decode", async () => {
    const { error, file } = await damaged("bad-summary", 3, (entry) => ({
      ...entry,
      updates: [{ ...entry.updates[0], summary: { ...entry.updates[0].summary, count: "2" } }]
    }))
    expect(error.message).toContain(`${file}:3`)
  })

  it("refuses an entry of an unknown kind", async () => {
    const { error, file } = await damaged("bad-op", 3, (entry) => ({ ...entry, op: "truncate" }))
    expect(error.message).toContain(`${file}:3`)
  })
})
