// The fixed-rate loader of `ml-server loadtest` (pacedLoad) in a process of its own, so a
// benchmark can pin it to a core apart from the server's (taskset) and the loader's own garbage
// and timers do not share the benchmark's event loop. Argument: one JSON object
// { base, route: "assignments" | "metrics", experiment, models, rate, seconds, connections, tag }.
// Prints one JSON line: pacedLoad's result, plus the loader's CPU µs per request, its event-loop
// delay (p99, max) and its longest GC pause, to tell a slow loader from a slow server.
import { monitorEventLoopDelay, PerformanceObserver } from "node:perf_hooks"
import { pacedLoad } from "../apps/server/dist/LoadTest.js"

const { base, connections, experiment, models, rate, route, seconds, tag } = JSON.parse(process.argv[2])
const path = `/v1/experiments/${experiment}/${route}`
const make = route === "assignments"
  ? (i) => ({ method: "POST", path, body: `{"userId":"${tag}-${i}"}` })
  : (i) => ({
    method: "POST",
    path,
    body: `{"modelId":"${models[i % models.length]}","metric":"conversion","value":${i % 7}}`
  })

const loopDelay = monitorEventLoopDelay({ resolution: 2 })
let gcMaxMs = 0
const gc = new PerformanceObserver((list) => {
  for (const entry of list.getEntries()) gcMaxMs = Math.max(gcMaxMs, entry.duration)
})
gc.observe({ entryTypes: ["gc"] })
loopDelay.enable()
const cpu = process.cpuUsage()
const result = await pacedLoad({ base, connections, make, rate, seconds })
const used = process.cpuUsage(cpu)
loopDelay.disable()
gc.disconnect()
console.log(JSON.stringify({
  ...result,
  loaderCpuUsPerRequest: (used.user + used.system) / Math.max(1, result.requests + result.failures),
  loaderLoopDelayMs: { p99: loopDelay.percentile(99) / 1e6, max: loopDelay.max / 1e6 },
  loaderGcMaxMs: gcMaxMs
}))
