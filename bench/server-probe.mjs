// Loaded into a benchmarked server with `node --import bench/server-probe.mjs`: tells what the
// server's own process did during a measured window, so a latency tail can be put on the server
// (garbage collection, a blocked event loop) or elsewhere (the loader, the machine). Idle
// between windows, so it costs nothing in runs that do not ask: a SIGUSR2 opens a window, the
// next one closes it and appends it to $ML_BENCH_PROBE_FILE as one JSON line: GC pauses (count,
// total and longest, by kind), event-loop delay (p50, p99, max, sampled every 2 ms), CPU ms, and
// the bytes the JavaScript heap allocated (what each collection freed, from v8.GCProfiler, plus
// the growth of the used heap over the window). An open window costs the server about 15 ms of
// CPU per second (the 2 ms sampling timer).
import { appendFileSync } from "node:fs"
import { constants, monitorEventLoopDelay, PerformanceObserver } from "node:perf_hooks"
import { GCProfiler, getHeapStatistics } from "node:v8"

const file = process.env.ML_BENCH_PROBE_FILE
const kinds = {
  [constants.NODE_PERFORMANCE_GC_MINOR]: "scavenge",
  [constants.NODE_PERFORMANCE_GC_MAJOR]: "mark-compact",
  [constants.NODE_PERFORMANCE_GC_INCREMENTAL]: "incremental marking",
  [constants.NODE_PERFORMANCE_GC_WEAKCB]: "weak callbacks"
}
let window

const start = () => {
  const loopDelay = monitorEventLoopDelay({ resolution: 2 })
  loopDelay.enable()
  const gc = {}
  const observer = new PerformanceObserver((list) => {
    for (const entry of list.getEntries()) {
      const kind = kinds[entry.detail?.kind] ?? "other"
      gc[kind] ??= { count: 0, totalMs: 0, maxMs: 0 }
      gc[kind].count++
      gc[kind].totalMs += entry.duration
      gc[kind].maxMs = Math.max(gc[kind].maxMs, entry.duration)
    }
  })
  observer.observe({ entryTypes: ["gc"] })
  const gcProfiler = new GCProfiler()
  gcProfiler.start()
  return { loopDelay, gc, observer, gcProfiler, usedHeap: getHeapStatistics().used_heap_size, cpu: process.cpuUsage() }
}

/** Bytes allocated on the JavaScript heap since the window opened: freed by collections plus retained. */
const allocatedBytes = ({ gcProfiler, usedHeap }) => {
  const { statistics } = gcProfiler.stop()
  const freed = statistics.reduce(
    (sum, { afterGC, beforeGC }) => sum + beforeGC.heapStatistics.usedHeapSize - afterGC.heapStatistics.usedHeapSize,
    0
  )
  return freed + getHeapStatistics().used_heap_size - usedHeap
}

if (file !== undefined) {
  process.on("SIGUSR2", () => {
    if (window === undefined) window = start()
    else {
      const { cpu, gc, loopDelay, observer } = window
      observer.disconnect()
      loopDelay.disable()
      const used = process.cpuUsage(cpu)
      const allocated = allocatedBytes(window)
      const ms = (ns) => ns / 1e6
      appendFileSync(
        file,
        JSON.stringify({
          gc,
          loopDelayMs: { p50: ms(loopDelay.percentile(50)), p99: ms(loopDelay.percentile(99)), max: ms(loopDelay.max) },
          cpuMs: (used.user + used.system) / 1000,
          allocatedBytes: allocated
        }) + "\n"
      )
      window = undefined
    }
  })
}
