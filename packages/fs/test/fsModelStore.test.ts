// The registry journal decodes what it replays: a line that is JSON but not a registry entry
// (a foreign or damaged record) stops start-up with a StorageError naming the file and line.
import { ModelStore } from "@org/ml-core"
import { sampleEvent, sampleModel } from "@org/ml-core/testing"
import { Effect, Exit } from "effect"
import * as fs from "node:fs/promises"
import * as os from "node:os"
import * as path from "node:path"
import { afterAll, describe, expect, it } from "vitest"
import { FsModelStore } from "../src/index.js"
import { encodeLine } from "../src/JournalFormat.js"

const root = await fs.mkdtemp(path.join(os.tmpdir(), "ml-fs-model-store-"))
afterAll(() => fs.rm(root, { recursive: true, force: true }))

const useStore = <A, E>(directory: string, program: Effect.Effect<A, E, ModelStore.ModelStore>) =>
  Effect.runPromiseExit(Effect.provide(program, FsModelStore.layer({ directory })) as Effect.Effect<A, E>)

describe("FsModelStore reads its journal through the entry schema", () => {
  it("replays valid entries", async () => {
    const directory = path.join(root, "valid")
    const model = sampleModel()
    await useStore(directory, ModelStore.ModelStore.use((s) => s.insert(model, sampleEvent(model))))
    const exit = await useStore(directory, ModelStore.ModelStore.use((s) => s.get(model.id)))
    expect(exit).toEqual(Exit.succeed(model))
  })

  it("refuses to start on an entry that does not decode, naming registry.jsonl and the line", async () => {
    const directory = path.join(root, "foreign")
    const model = sampleModel()
    await useStore(directory, ModelStore.ModelStore.use((s) => s.insert(model, sampleEvent(model))))
    const foreign = { op: "insert", model: { ...model, status: "retired" }, event: sampleEvent(model) }
    // Intact (its checksum matches), but not a valid entry. Line 1 is the header, 2 the insert.
    await fs.appendFile(path.join(directory, "registry.jsonl"), encodeLine(JSON.stringify(foreign)))
    const exit = await useStore(directory, ModelStore.ModelStore.use((s) => s.ping()))
    expect(Exit.isFailure(exit)).toBe(true)
    const message = JSON.stringify(exit)
    expect(message).toContain("StorageError")
    expect(message).toMatch(/registry\.jsonl:3 is not valid/)
  })
})
