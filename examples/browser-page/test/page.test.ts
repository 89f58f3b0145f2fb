/**
 * The browser example in Chromium against a real server (CORS allowing the page's origin): the
 * page shows the model the server assigns to its visitor, and a click's conversion arrives.
 */
import { createClient } from "@org/ml-sdk"
import { loadConfig, startServer } from "@org/ml-server"
import { build } from "esbuild"
import * as fs from "node:fs"
import * as http from "node:http"
import type { AddressInfo } from "node:net"
import * as os from "node:os"
import * as path from "node:path"
import { fileURLToPath } from "node:url"
import { chromium } from "playwright-core"
import { describe, expect, it } from "vitest"

const example = path.dirname(path.dirname(fileURLToPath(import.meta.url)))

/** index.html and the bundled app.js from memory, on an ephemeral port. */
const servePage = async () => {
  const bundled = await build({
    entryPoints: [path.join(example, "app.mjs")],
    bundle: true,
    format: "esm",
    write: false,
    logLevel: "error"
  })
  const files: Record<string, [string, Uint8Array]> = {
    "/": ["text/html", fs.readFileSync(path.join(example, "index.html"))],
    "/app.js": ["text/javascript", bundled.outputFiles[0]!.contents]
  }
  const server = http.createServer((request, response) => {
    const file = files[new URL(request.url ?? "/", "http://x").pathname]
    if (file === undefined) return void response.writeHead(404).end()
    response.writeHead(200, { "content-type": file[0] }).end(file[1])
  })
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve))
  return { server, origin: `http://127.0.0.1:${(server.address() as AddressInfo).port}` }
}

describe("the browser example in Chromium", () => {
  it("shows the visitor's model and sends the conversion", async () => {
    const page = await servePage()
    const data = fs.mkdtempSync(path.join(os.tmpdir(), "ml-browser-example-"))
    const server = await startServer(
      loadConfig({ ML_MODEL_STORAGE_DIR: data, ML_PORT: "0", ML_HOST: "127.0.0.1", ML_CORS_ORIGINS: page.origin }),
      () => undefined
    )
    const browser = await chromium.launch({
      executablePath: process.env["ML_TEST_CHROMIUM"] ?? "/usr/bin/chromium",
      args: ["--no-sandbox", "--disable-dev-shm-usage"]
    })
    try {
      const ml = createClient({ baseUrl: server.url })
      const models: Array<string> = []
      for (const version of ["1", "2"]) {
        const model = await ml.registry.registerModel(
          { name: "page-ranker", version, algorithm: "a", framework: "f" },
          new Uint8Array([1])
        )
        await ml.registry.promoteModel(model.id, "testing")
        models.push(model.id)
      }
      const experiment = await ml.experiments.create({
        name: "page-ranker",
        targetMetric: "conversion",
        variants: [
          { modelId: models[0]!, isControl: true, trafficPct: 50 },
          { modelId: models[1]!, isControl: false, trafficPct: 50 }
        ]
      })
      await ml.experiments.start(experiment.id)

      const tab = await browser.newPage()
      const errors: Array<string> = []
      tab.on("pageerror", (error) => errors.push(error.message))
      await tab.goto(`${page.origin}/?ml=${encodeURIComponent(server.url)}&experiment=${experiment.id}`)
      await tab.locator("#convert:enabled").waitFor()
      const shown = await tab.locator("#model").textContent()
      const visitor = await tab.evaluate(() => localStorage.getItem("visitor"))
      expect(shown).toBe((await ml.experiments.getModelAssignment(experiment.id, visitor!)).modelId)

      await tab.locator("#convert").click()
      await tab.locator("#status", { hasText: "conversion recorded" }).waitFor()
      const results = await ml.experiments.getExperimentResults(experiment.id)
      const variant = models.indexOf(shown!)
      expect(results.variants[variant]!.metrics.conversion?.n).toBe(1)
      expect(errors).toEqual([])
    } finally {
      await browser.close()
      await server.close()
      page.server.close()
      fs.rmSync(data, { recursive: true, force: true })
    }
  })
})
