import * as fs from "node:fs/promises"
import * as os from "node:os"
import * as path from "node:path"
import { describe, expect, it } from "vitest"
import { InstanceFile } from "../src/index.js"

/** Runs `f` in a temp directory of its own, removed afterwards. */
const inTempDir = async (f: (dir: string) => Promise<void>) => {
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), "ml-instance-file-"))
  try {
    await f(dir)
  } finally {
    await fs.rm(dir, { recursive: true, force: true })
  }
}

describe("InstanceFile", () => {
  it("remembers values by name across opens, keeping the other names, and leaves no temporary file", async () => {
    await inTempDir(async (dir) => {
      const file = path.join(dir, "nested", "redis-instance.json")
      const first = InstanceFile.open(file)
      expect(await first.read("a:")).toBeUndefined()
      await first.write("a:", { id: "one" })
      await first.write("b:", { id: "two" })
      await first.write("a:", { id: "three" })
      const reopened = InstanceFile.open(file)
      expect(await reopened.read("a:")).toEqual({ id: "three" })
      expect(await reopened.read("b:")).toEqual({ id: "two" })
      expect(JSON.parse(await fs.readFile(file, "utf8"))).toEqual({ "a:": { id: "three" }, "b:": { id: "two" } })
      expect(await fs.readdir(path.dirname(file))).toEqual(["redis-instance.json"])
    })
  })

  it("keeps every name when many stores in one process remember at once", async () => {
    await inTempDir(async (dir) => {
      const file = path.join(dir, "redis-instance.json")
      const names = Array.from({ length: 20 }, (_, i) => `prefix-${i}:`)
      // Separate handles on one file, as separate servers in one process hold.
      await Promise.all(names.map((name) => InstanceFile.open(file).write(name, { id: name })))
      const stored = JSON.parse(await fs.readFile(file, "utf8")) as Record<string, unknown>
      expect(Object.keys(stored).sort()).toEqual([...names].sort())
      expect((await fs.readdir(dir)).filter((entry) => entry.endsWith(".tmp"))).toEqual([])
    })
  })

  it("refuses a damaged file, naming it, instead of forgetting what it held", async () => {
    await inTempDir(async (dir) => {
      const file = path.join(dir, "postgres-instance.json")
      await fs.writeFile(file, "{\"id\": \"abc")
      const remembered = InstanceFile.open(file)
      await expect(remembered.read("id")).rejects.toThrow(`${file} (which storage instance`)
      await expect(remembered.write("id", "new")).rejects.toThrow("is not valid JSON")
      expect(await fs.readFile(file, "utf8")).toBe("{\"id\": \"abc")
      await fs.writeFile(file, "[1]")
      await expect(remembered.read("id")).rejects.toThrow("does not hold a JSON object")
    })
  })
})
