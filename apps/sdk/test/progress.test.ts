/** Upload and download progress, counted as the bytes really move through fetch. */
import { randomBytes } from "node:crypto"
import { describe, expect, it } from "vitest"
import { createClient } from "../src/index.js"
import { useServer } from "./serverFixture.js"

const server = useServer()
const size = 3 * 1024 * 1024 + 17

const recorder = () => {
  const calls: Array<[number, number | undefined]> = []
  return { calls, listener: (done: number, total: number | undefined) => void calls.push([done, total]) }
}

const expectRising = (calls: ReadonlyArray<[number, number | undefined]>, total: number | undefined) => {
  expect(calls.length).toBeGreaterThan(1)
  for (let i = 1; i < calls.length; i++) expect(calls[i]![0]).toBeGreaterThan(calls[i - 1]![0])
  expect(calls.at(-1)).toEqual([size, total])
}

describe("progress", () => {
  it("reports an upload of known size, one of unknown size, and a download", async () => {
    const ml = createClient({ baseUrl: server.url })
    const bytes = new Uint8Array(randomBytes(size))
    const model = await ml.registry.registerModel({
      name: "progress",
      version: "1.0.0",
      algorithm: "logreg",
      framework: "sklearn"
    })

    const known = recorder()
    await ml.registry.uploadArtifact(model.id, bytes, { onProgress: known.listener })
    expectRising(known.calls, size)

    const second = await ml.registry.registerModel({
      name: "progress",
      version: "1.0.1",
      algorithm: "logreg",
      framework: "sklearn"
    })
    const unknown = recorder()
    const chunks = async function*() {
      for (let i = 0; i < size; i += 256 * 1024) yield bytes.subarray(i, i + 256 * 1024)
    }
    await ml.registry.uploadArtifact(second.id, chunks(), { onProgress: unknown.listener })
    expectRising(unknown.calls, undefined)

    const downloaded = recorder()
    const download = await ml.registry.downloadArtifact(model.id, { onProgress: downloaded.listener })
    // Buffer.equals: vitest's deep equality takes most of a minute on 3 MiB.
    expect(Buffer.from(await download.bytes()).equals(bytes)).toBe(true)
    expectRising(downloaded.calls, size)
  })
})
