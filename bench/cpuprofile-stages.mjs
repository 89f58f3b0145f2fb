// Where a server's CPU time went, by stage of a request: reads a `node --cpu-prof` profile and
// groups the self time of its last SECONDS seconds (the load run, not the start-up) by the
// script and function each sample was in. Used for bench/PROFILE-ingest.md:
//
//   node bench/cpuprofile-stages.mjs <file.cpuprofile> [seconds, default 6] [requests served]
import * as fs from "node:fs"

const [file, secondsArg, requestsArg] = process.argv.slice(2)
const profile = JSON.parse(fs.readFileSync(file, "utf8"))
const window = Number(secondsArg ?? 6) * 1e6

/** The first rule that matches a frame names its stage; frames no rule names are "other". */
const stages = [
  ["idle", (f) => f.functionName === "(idle)"],
  ["garbage collection", (f) => f.functionName === "(garbage collector)"],
  ["socket writes (syscalls)", (f) => /^(writeUtf8String|writev|writeBuffer|writeLatin1String)$/.test(f.functionName)],
  ["redis client (ioredis, parser)", (f) => /ioredis|redis-parser|denque|cluster-key-slot/.test(f.url)],
  [
    "body reading and JSON.parse (Mount.readJson)",
    (f) =>
      /routes\/Mount\.js/.test(f.url) && f.functionName === "readJson" ||
      /excessiveNesting|collectBytes/.test(f.functionName) ||
      /node-server\/dist\/(request|listener)|webstreams|undici/.test(f.url) || /encoding/.test(f.url)
  ],
  ["hono routing, context, response", (f) => /hono|node-server/.test(f.url)],
  ["schema decoding (effect Schema)", (f) => /effect\/dist\/.*(Schema|Parser|AST|Issue|record)/.test(f.url)],
  ["effect runtime (fibers, spans)", (f) => /effect\/dist/.test(f.url)],
  ["sample/observation checks", (f) => /(Samples|Observations|InputLimits)\.js/.test(f.url)],
  ["learner predictions", (f) => /learners\//.test(f.url)],
  ["store: arguments, JSON.stringify (adapter)", (f) => /packages\/redis\/dist/.test(f.url)],
  ["use cases and routes (ours)", (f) => /packages\/|apps\//.test(f.url)],
  ["node http server", (f) => /_http_|node:net|node:events|stream/.test(f.url)]
]

const byId = new Map(profile.nodes.map((n) => [n.id, n]))
const end = profile.endTime
let at = profile.startTime
const self = new Map()
profile.samples.forEach((id, i) => {
  at += profile.timeDeltas[i] ?? 0
  if (at < end - window) return
  const frame = byId.get(id).callFrame
  const stage = stages.find(([, matches]) => matches(frame))?.[0] ?? "other"
  self.set(stage, (self.get(stage) ?? 0) + (profile.timeDeltas[i + 1] ?? 0))
})
const total = [...self.values()].reduce((a, b) => a + b, 0)
const busy = total - (self.get("idle") ?? 0)
const requests = Number(requestsArg ?? 0)
console.log(`| Stage | share of CPU (busy) |${requests ? " us per request |" : ""}`)
console.log(`| --- | --- |${requests ? " --- |" : ""}`)
for (const [stage, t] of [...self].sort((a, b) => b[1] - a[1])) {
  if (stage === "idle") continue
  const perRequest = requests ? ` ${Math.round(t / requests)} |` : ""
  console.log(`| ${stage} | ${(100 * t / busy).toFixed(1)}% |${perRequest}`)
}
console.log(
  `\nbusy ${(busy / 1000).toFixed(0)} ms of ${(total / 1000).toFixed(0)} ms (idle ${
    (100 * (self.get("idle") ?? 0) / total).toFixed(0)
  }%)`
)
