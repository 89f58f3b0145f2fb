// What an edge user pays per entry point: each entry bundled alone by esbuild (ES module,
// minified) and gzipped (level 9), against its budget and, where GrowthBook's SDK does the same
// job, GrowthBook's bundle for it. The budgets are the contract README states (a test checks both).
import { build } from "esbuild"
import { createRequire } from "node:module"
import * as path from "node:path"
import { gzipSync } from "node:zlib"

const require = createRequire(import.meta.url)
const growthbookEsm = path.join(path.dirname(require.resolve("@growthbook/growthbook/package.json")), "dist/esm")

/** Entry, what it is for, its budget (bytes min+gz), whether it may hold Effect, GrowthBook's equivalent. */
export const entryBudgets = [
  {
    entry: "@org/ml-core/assignment",
    job: "hash a user into a variant",
    budget: 1024,
    effectFree: true,
    peer: { name: "hash, getBucketRanges, chooseVariation, inNamespace", from: "util.mjs" }
  },
  {
    entry: "@org/ml-core/targeting",
    job: "targeting conditions, namespaces, holdouts",
    budget: 4096,
    effectFree: true,
    peer: { name: "evalCondition", from: "index.mjs" }
  },
  {
    entry: "@org/ml-core/drift",
    job: "drift statistics (KS, PSI, chi-square, distances)",
    budget: 15360,
    effectFree: true
  },
  { entry: "@org/ml-core/stats", job: "every statistic of the core", budget: 20480, effectFree: true },
  {
    entry: "@org/ml-sdk",
    job: "the SDK client, batchers and local evaluation",
    budget: 12288,
    effectFree: true,
    peer: { name: "GrowthBook", from: "index.mjs" }
  },
  {
    entry: "@org/ml-core/learn",
    job: "online learners (make, learn, predict, load)",
    budget: 8192,
    effectFree: true
  }
]

const bundle = async (contents, resolveDir) => {
  const result = await build({
    stdin: { contents, resolveDir, loader: "js" },
    bundle: true,
    minify: true,
    format: "esm",
    platform: "neutral",
    mainFields: ["module", "main"],
    conditions: ["worker", "browser"],
    write: false,
    metafile: true,
    logLevel: "error"
  })
  const code = result.outputFiles[0].contents
  const inputs = Object.keys(result.metafile.inputs)
  return {
    bytes: gzipSync(code, { level: 9 }).length,
    includesEffect: inputs.some((i) => /node_modules\/effect\//.test(i))
  }
}

/** Every entry's gzipped size, whether Effect is in it, and GrowthBook's size for the same job. */
export const measureEntries = async (resolveDir = path.dirname(new URL(import.meta.url).pathname)) =>
  Promise.all(entryBudgets.map(async (e) => {
    const ours = await bundle(`export * from ${JSON.stringify(e.entry)}`, resolveDir)
    const peer = e.peer === undefined
      ? undefined
      : await bundle(
        `export { ${e.peer.name} } from ${JSON.stringify(path.join(growthbookEsm, e.peer.from))}`,
        resolveDir
      )
    return { ...e, bytes: ours.bytes, includesEffect: ours.includesEffect, peerBytes: peer?.bytes }
  }))

if (import.meta.url === `file://${process.argv[1]}`) {
  for (const e of await measureEntries()) {
    const peer = e.peerBytes === undefined ? "" : `  GrowthBook ${e.peerBytes} B (${e.peer.name})`
    console.log(
      `${e.entry.padEnd(26)} ${String(e.bytes).padStart(7)} B of ${String(e.budget).padStart(6)}${
        e.includesEffect ? "  (holds Effect)" : ""
      }${peer}`
    )
  }
}
