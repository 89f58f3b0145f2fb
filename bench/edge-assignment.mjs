// Assignment throughput inside workerd against Node, in the same run (issue 20):
//
//   node bench/edge-assignment.mjs [rounds, default 5]      (after a build)
//
// The same workload (makeAssigner from @org/ml-core/assignment over 200,000 users, timed with
// performance.now after a warm-up) runs in Node in this process and in workerd as a worker
// bundled by esbuild. workerd's clock advances only at I/O inside a request (a Spectre
// mitigation), so the worker awaits a zero-length scheduler.wait around the timed loop and
// reports its own figure. Prints assignments per second in each and the ratio workerd / Node,
// per round and as the median of the rounds.
import * as fs from "node:fs"
import * as os from "node:os"
import * as path from "node:path"
import { fileURLToPath } from "node:url"
import { bundleWorker, runWorkerdTests } from "../tooling/runtimes/workerd.mjs"
import { median } from "./lib.mjs"

const rounds = Number(process.argv[2] ?? 5)
const here = path.dirname(fileURLToPath(import.meta.url))
const workload = path.join(here, "edge-assignment-workload.mjs")
const { assignmentsPerSecond } = await import(workload)

const directory = fs.mkdtempSync(path.join(os.tmpdir(), "ml-edge-bench-"))
const entry = path.join(directory, "entry.mjs")
fs.writeFileSync(
  entry,
  `import { assignmentsPerSecond } from ${JSON.stringify(workload)}\n` +
    `const tick = () => new Promise((resolve) => setTimeout(resolve, 0))\n` +
    `export default { async test() { console.log("RATE " + (await assignmentsPerSecond(tick))) } }\n`
)
await bundleWorker(entry, directory, "bench")

const nodeRates = []
const workerdRates = []
for (let round = 1; round <= rounds; round++) {
  const node = await assignmentsPerSecond(async () => {})
  const run = await runWorkerdTests(directory, ["bench"], "pipe")
  const line = run.stdout.split("\n").find((l) => l.startsWith("RATE "))
  if (run.status !== 0 || line === undefined) throw new Error(`workerd failed:\n${run.stderr}`)
  const workerd = Number(line.slice(5))
  nodeRates.push(node)
  workerdRates.push(workerd)
  console.log(
    `round ${round}: Node ${Math.round(node).toLocaleString("en-US")}/s, workerd ${
      Math.round(workerd).toLocaleString("en-US")
    }/s, workerd/Node ${(workerd / node).toFixed(2)}`
  )
}
fs.rmSync(directory, { recursive: true, force: true })
const nodeMedian = median(nodeRates)
const workerdMedian = median(workerdRates)
console.log(
  `median: Node ${Math.round(nodeMedian).toLocaleString("en-US")}/s, workerd ${
    Math.round(workerdMedian).toLocaleString("en-US")
  }/s, workerd/Node ${(workerdMedian / nodeMedian).toFixed(2)}   (load ${os.loadavg()[0].toFixed(1)})`
)
