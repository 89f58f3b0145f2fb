/** The Deno example (main.ts) run by Deno against a real server prints each feature's verdict. */
import { createClient } from "@org/ml-sdk"
import { loadConfig, startServer } from "@org/ml-server"
import { execFile } from "node:child_process"
import * as fs from "node:fs"
import { createRequire } from "node:module"
import * as os from "node:os"
import * as path from "node:path"
import { fileURLToPath } from "node:url"
import { describe, expect, it } from "vitest"

const example = path.dirname(path.dirname(fileURLToPath(import.meta.url)))
const deno = path.join(
  path.dirname(createRequire(import.meta.url).resolve("@org/runtimes/package.json")),
  "node_modules/.bin/deno"
)

describe("the Deno example", () => {
  it("checks a monitor and prints its features' verdicts", async () => {
    const data = fs.mkdtempSync(path.join(os.tmpdir(), "ml-deno-example-"))
    const server = await startServer(
      loadConfig({ ML_MODEL_STORAGE_DIR: data, ML_PORT: "0", ML_HOST: "127.0.0.1" }),
      () => undefined
    )
    try {
      const ml = createClient({ baseUrl: server.url })
      await ml.drift.createMonitor({ id: "deno-example", features: [{ name: "x", kind: "feature", type: "numeric" }] })
      await ml.drift.setBaseline("deno-example", { x: Array.from({ length: 200 }, (_, i) => i % 20) })
      for (let i = 0; i < 200; i++) ml.drift.recordFeature("deno-example", "x", 50 + (i % 20))
      await ml.drift.close()
      // Asynchronously: the server answering Deno runs on this process's event loop.
      const stdout = await new Promise<string>((resolve, reject) =>
        execFile(
          deno,
          ["run", "--allow-net", "--allow-env", "main.ts", "deno-example"],
          { cwd: example, env: { ...process.env, ML_URL: server.url }, timeout: 60_000 },
          (error, out, err) => (error ? reject(new Error(`${error.message}\n${err}`)) : resolve(out))
        )
      )
      expect(stdout.trim()).toBe("x\tcritical\t200")
    } finally {
      await server.close()
      fs.rmSync(data, { recursive: true, force: true })
    }
  })
})
