// Loaded into a benchmarked server with `node --import bench/heap-sampling.mjs`: where the heap's
// allocations come from, including the garbage (Node's --heap-prof keeps only what is still alive
// when it stops, so short-lived request garbage would not show). A SIGUSR2 starts V8's sampling
// heap profiler (every ML_BENCH_HEAP_INTERVAL bytes, default 4096), the next one writes the
// profile to $ML_BENCH_HEAP_PROFILE (a .heapprofile, readable by Chrome DevTools and by
// `node bench/heap-sampling.mjs FILE REQUESTS`, which prints the bytes per request by allocating
// function and by the nearest frame of our own code).
import * as fs from "node:fs"
import { Session } from "node:inspector/promises"

const file = process.env.ML_BENCH_HEAP_PROFILE
if (file !== undefined && process.argv[1] !== new URL(import.meta.url).pathname) {
  const session = new Session()
  session.connect()
  let sampling = false
  process.on("SIGUSR2", async () => {
    if (!sampling) {
      sampling = true
      await session.post("HeapProfiler.startSampling", {
        samplingInterval: Number(process.env.ML_BENCH_HEAP_INTERVAL ?? 4096),
        // ML_BENCH_HEAP_SURVIVORS=1: only what young-generation GCs did not collect (what was
        // promoted, or is still alive), to find what fills the old generation.
        includeObjectsCollectedByMajorGC: true,
        includeObjectsCollectedByMinorGC: process.env.ML_BENCH_HEAP_SURVIVORS !== "1"
      })
    } else {
      sampling = false
      const { profile } = await session.post("HeapProfiler.stopSampling")
      fs.writeFileSync(file, JSON.stringify(profile))
    }
  })
}

/** Prints a .heapprofile's bytes per request by allocating function and by the nearest frame of our code. */
export const printHeapProfile = (profileFile, requests) => {
  const { head } = JSON.parse(fs.readFileSync(profileFile, "utf8"))
  const short = (f) =>
    `${f.functionName || "(anonymous)"} ${
      f.url.replace(/^file:\/\/.*node_modules\/\.pnpm\/[^/]+\/node_modules\//, "").replace(
        /^file:\/\/.*?\/(apps|packages)\//,
        "$1/"
      )
    }:${f.lineNumber + 1}`
  const ours = (f) => /\/(apps|packages)\/[^/]+\/dist\//.test(f.url) && !/node_modules/.test(f.url)
  const bySite = new Map()
  const byOurs = new Map()
  let total = 0
  const walk = (node, nearestOurs) => {
    const here = ours(node.callFrame) ? short(node.callFrame) : nearestOurs
    const bytes = node.selfSize
    if (bytes > 0) {
      total += bytes
      const site = short(node.callFrame)
      bySite.set(site, (bySite.get(site) ?? 0) + bytes)
      byOurs.set(here, (byOurs.get(here) ?? 0) + bytes)
    }
    for (const child of node.children) walk(child, here)
  }
  walk(head, "(no frame of ours)")
  const print = (title, map) => {
    console.log(`\n${title}`)
    for (const [name, bytes] of [...map].sort((a, b) => b[1] - a[1]).slice(0, 40)) {
      console.log(
        `${Math.round(bytes / requests).toString().padStart(7)} B/req  ${
          (100 * bytes / total).toFixed(1).padStart(5)
        }%  ${name}`
      )
    }
  }
  console.log(`sampled ${Math.round(total / requests)} bytes per request`)
  print("By allocating function", bySite)
  print("By the nearest frame of our code (apps/*, packages/*)", byOurs)
}

if (process.argv[1] === new URL(import.meta.url).pathname) {
  const [profileFile, requestsArg] = process.argv.slice(2)
  printHeapProfile(profileFile, Number(requestsArg ?? 1))
}
