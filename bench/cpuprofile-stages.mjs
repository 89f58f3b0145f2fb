// Where a server's CPU time went, by stage of a request: the self time of a `node --cpu-prof`
// profile grouped by the script and function each sample was in (native frames charged to the
// nearest caller a rule names). The one breakdown used by profile-hot-paths.mjs (assignments,
// metrics; bench/PROFILE.md) and for the ingestion routes (bench/PROFILE-ingest.md):
//
//   node bench/cpuprofile-stages.mjs <file.cpuprofile> [requests served] [last SECONDS only]
//
// With SECONDS, only the last SECONDS of the profile count (the load run, not the start-up).
import * as fs from "node:fs"
import { fileURLToPath } from "node:url"

/**
 * The stage a profile frame belongs to, by its script and function name; the first rule that
 * matches wins. Self time of frames no rule names goes to "other".
 */
export const stages = [
  ["idle", (f) => f.functionName === "(idle)"],
  ["startup (module loading; not per request)", (f) => /^node:internal\/modules\//.test(f.url)],
  ["garbage collection", (f) => f.functionName === "(garbage collector)"],
  ["redis client (ioredis, parser, socket writes)", (f) => /ioredis|redis-parser|denque|cluster-key-slot/.test(f.url)],
  ["body reading (web Request, streams)", (f) => /node-server\/dist\/(request|listener)|webstreams|undici/.test(f.url)],
  ["hono routing and context", (f) => /node_modules\/.*hono\/dist/.test(f.url)],
  ["node-server response writing", (f) => /node-server\/dist\/(response|utils)/.test(f.url)],
  ["schema decoding (effect/Schema*)", (f) => /effect\/dist\/.*(Schema|Parser|AST|Issue)/.test(f.url)],
  ["effect runtime (fibers, Effect)", (f) => /effect\/dist/.test(f.url)],
  [
    "ml-core: sample/observation checks",
    (f) => /packages\/core\/dist\/.*(Samples|Observations|InputLimits)\.js/.test(f.url)
  ],
  ["ml-core: learner predictions", (f) => /packages\/core\/dist\/learning\/learners\//.test(f.url)],
  ["ml-core (use cases, hashing, JSON checks)", (f) => /packages\/core\/dist/.test(f.url)],
  ["server (mount, auth, rate limit)", (f) => /apps\/server\/dist/.test(f.url)],
  ["redis adapter", (f) => /packages\/redis\/dist/.test(f.url)],
  ["node http and net", (f) => /^node:(_http|http|net|stream|internal\/(http|streams|stream_base))/.test(f.url)],
  ["json (parse, stringify)", (f) => /JSON/.test(f.functionName)],
  ["program", (f) => f.functionName === "(program)"]
]

/**
 * Self time per stage (µs) from a .cpuprofile, of its last `lastSeconds` only when given. A sample in native code or Node's internals (a
 * socket write, a stream) is charged to the nearest caller a rule names, so a Redis command's
 * write syscall counts as Redis client time and a response's as HTTP time.
 */
export const breakdown = (profile, lastSeconds = Infinity) => {
  const byId = new Map(profile.nodes.map((n) => [n.id, n]))
  const parentOf = new Map()
  for (const n of profile.nodes) for (const child of n.children ?? []) parentOf.set(child, n)
  const stageOf = (node) => {
    const leaf = stages.find(([, test]) => test(node.callFrame))?.[0]
    if (leaf !== undefined && !leaf.startsWith("node ")) return leaf
    for (let up = parentOf.get(node.id); up !== undefined; up = parentOf.get(up.id)) {
      const named = stages.find(([name, test]) => !name.startsWith("node ") && test(up.callFrame))
      if (named !== undefined) return named[0]
    }
    return leaf ?? "other"
  }
  const totals = new Map()
  let busy = 0
  const from = profile.endTime - lastSeconds * 1e6
  let at = profile.startTime
  profile.samples.forEach((id, i) => {
    const us = profile.timeDeltas[i] ?? 0
    at += us
    if (at < from) return
    const stage = stageOf(byId.get(id))
    totals.set(stage, (totals.get(stage) ?? 0) + us)
    if (stage !== "idle" && !stage.startsWith("startup")) busy += us
  })
  return { totals, busy }
}

export const printBreakdown = (totals, busy, requests) => {
  console.table(
    [...totals].filter(([stage]) => stage !== "idle").sort((a, b) => b[1] - a[1]).map(([stage, us]) => ({
      stage,
      "share of busy CPU": stage.startsWith("startup") ? "-" : `${(100 * us / busy).toFixed(1)}%`,
      "µs per request": (us / requests).toFixed(1)
    }))
  )
  console.log(`busy CPU per request (startup excluded): ${(busy / requests).toFixed(1)} µs`)
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const [file, requests, lastSeconds] = process.argv.slice(2)
  const { busy, totals } = breakdown(JSON.parse(fs.readFileSync(file, "utf8")), Number(lastSeconds ?? Infinity))
  printBreakdown(totals, busy, Number(requests ?? 1))
}
