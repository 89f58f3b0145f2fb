// Shared by the benchmarks: the real server as a child process.
import { execFileSync, spawn } from "node:child_process"
import { createHash, randomBytes } from "node:crypto"
import { appendFileSync, readFileSync, rmSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import * as path from "node:path"
import { fileURLToPath } from "node:url"

const here = path.dirname(fileURLToPath(import.meta.url))

/**
 * Starts apps/server/dist/main.js (or another server `script` that prints "listening on <url>")
 * on a free port with `env`; resolves with its URL and process. `nodeArgs` are node flags for it;
 * BENCH_SERVER_NODE_ARGS adds more, e.g. "--cpu-prof --cpu-prof-dir=/tmp/prof" to see where a
 * server spends its time (NODE_OPTIONS does not allow --cpu-prof).
 */
export const startServerProcess = async (
  env,
  script = path.join(here, "../apps/server/dist/main.js"),
  { nodeArgs: extraNodeArgs = [] } = {}
) => {
  const nodeArgs = [
    ...extraNodeArgs,
    ...(process.env.BENCH_SERVER_NODE_ARGS ?? "").split(" ").filter((arg) => arg !== "")
  ]
  const child = spawn(process.execPath, [...nodeArgs, script], {
    env: { ...process.env, ML_PORT: "0", ...env },
    stdio: ["ignore", "pipe", "inherit"]
  })
  const url = await new Promise((resolve, reject) => {
    let out = ""
    // BENCH_SERVER_STDOUT=FILE keeps the server's output (e.g. with BENCH_SERVER_NODE_ARGS=--trace-gc).
    const kept = process.env.BENCH_SERVER_STDOUT
    child.stdout.on("data", (chunk) => {
      if (kept !== undefined) appendFileSync(kept, chunk)
      out += chunk
      const match = /listening on (http:\/\/[^\s]+)/.exec(out)
      if (match) resolve(match[1])
    })
    child.on("exit", (code) => reject(new Error(`server exited ${code}`)))
  })
  const stop = () =>
    new Promise((resolve) => {
      child.on("exit", resolve)
      child.kill("SIGTERM")
    })
  return { url, child, stop }
}

const clockTicksPerSecond = (() => {
  try {
    return Number(execFileSync("getconf", ["CLK_TCK"], { encoding: "utf8" }).trim()) || 100
  } catch {
    return 100
  }
})()

/**
 * CPU time (user + system) process `pid` has used so far, in ms, from /proc; undefined where that
 * is not available. Unlike wall time it hardly changes with the machine's load, so it tells where
 * a server's work goes even on a busy shared machine.
 */
export const processCpuMs = (pid) => {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8")
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ") // fields from 3 (state) on
    return (Number(fields[11]) + Number(fields[12])) * 1000 / clockTicksPerSecond // utime, stime
  } catch {
    return undefined
  }
}

/** Median of a list of numbers. */
/** A seeded 32-bit LCG in [0, 1): the same data in every run and in every bench that takes the seed. */
export const seededUniform = (seed) => {
  let state = seed
  return () => {
    state = (Math.imul(state, 1664525) + 1013904223) >>> 0
    return state / 4294967296
  }
}

/** n roughly normal values (sum of four uniforms, sd 0.58) around loc, from `uniform`. */
export const normalishFrom = (uniform) => (n, loc = 0) =>
  Float64Array.from({ length: n }, () => loc + uniform() + uniform() + uniform() + uniform() - 2)

export const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]

/** Deletes only the keys this run wrote (never FLUSHDB: the Redis may be shared). */
export const deleteKeysWithPrefix = async (redis, prefix) => {
  let cursor = "0"
  do {
    const [next, keys] = await redis.scan(cursor, "MATCH", `${prefix}*`, "COUNT", 1000)
    cursor = next
    if (keys.length) await redis.del(...keys)
  } while (cursor !== "0")
}

/**
 * Registers a model on the server at `url`, streams `total` bytes (repeats of `block`) up as its
 * artifact, then downloads it, checking both digests against the client's; returns the model,
 * the upload's answer and both durations in ms, and with `serverPid` the server's CPU ms for each
 * (undefined without /proc).
 */
export const timedArtifactRoundTrip = async (url, total, block, serverPid, declaredSha256) => {
  const serverCpu = () => serverPid === undefined ? undefined : processCpuMs(serverPid)
  const model = await (await fetch(`${url}/v1/models`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({
      name: "bench",
      version: randomBytes(6).toString("hex"),
      algorithm: "none",
      framework: "none"
    })
  })).json()
  let sent = 0
  const clientHash = createHash("sha256")
  const body = new ReadableStream({
    pull(controller) {
      if (sent >= total) return controller.close()
      sent += block.byteLength
      clientHash.update(block)
      controller.enqueue(block.slice())
    }
  }, { highWaterMark: 4 })
  let cpuBefore = serverCpu()
  let started = performance.now()
  const response = await fetch(`${url}/v1/models/${model.id}/artifact`, {
    method: "PUT",
    body,
    duplex: "half",
    headers: {
      "content-type": "application/octet-stream",
      ...(declaredSha256 === undefined ? {} : { "x-artifact-sha256": declaredSha256 })
    }
  })
  const uploaded = await response.json()
  const uploadMs = performance.now() - started
  const uploadCpuMs = cpuBefore === undefined ? undefined : serverCpu() - cpuBefore
  if (response.status !== 200) throw new Error(`upload failed: ${JSON.stringify(uploaded)}`)
  const expected = clientHash.digest("hex")
  if (uploaded.artifact.sha256 !== expected) throw new Error("server digest differs from client digest")

  cpuBefore = serverCpu()
  started = performance.now()
  const download = await fetch(`${url}/v1/models/${model.id}/artifact`)
  const downloadHash = createHash("sha256")
  let received = 0
  for await (const chunk of download.body) {
    received += chunk.byteLength
    downloadHash.update(chunk)
  }
  const downloadMs = performance.now() - started
  const downloadCpuMs = cpuBefore === undefined ? undefined : serverCpu() - cpuBefore
  if (received !== total || downloadHash.digest("hex") !== expected) throw new Error("download differs from upload")
  return { model, uploaded, uploadMs, downloadMs, uploadCpuMs, downloadCpuMs }
}

/** POSTs JSON to `url` + route and returns the JSON answer; a non-2xx answer throws, naming the route. */
export const jsonPoster = (url) => async (route, body) => {
  const response = await fetch(`${url}${route}`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify(body)
  })
  if (response.status >= 300) throw new Error(`${route}: ${response.status} ${await response.text()}`)
  return response.json()
}

/** `count` calls of `make(i)`, `inFlight` at a time; returns calls per second. */
export const callsPerSecond = async (count, inFlight, make) => {
  let next = 0
  const start = performance.now()
  await Promise.all(Array.from({ length: inFlight }, async () => {
    while (next < count) await make(next++)
  }))
  return count / ((performance.now() - start) / 1000)
}

const wrkMs = (out, pattern) => {
  const m = pattern.exec(out)
  return m ? Number(m[1]) * { us: 0.001, ms: 1, s: 1000 }[m[2]] : Number.NaN
}

/**
 * Drives `url` with wrk (a C client, so the client is not the bottleneck) running the Lua
 * `script` (its `request` function builds each request); resolves with req/s, mean, p50, p99 and
 * max in ms, and wrk's whole output (for what a script's `done` prints). Any non-2xx answer or socket error fails the run, so a broken route cannot look fast.
 * Asynchronous on purpose: a baseline server may live in the calling process and must keep serving.
 */
export const runWrk = async (url, script, { connections = 32, seconds = 8, threads = 1 } = {}) => {
  const file = path.join(tmpdir(), `ml-wrk-${process.pid}-${randomBytes(4).toString("hex")}.lua`)
  writeFileSync(file, script)
  try {
    const out = await new Promise((resolve, reject) => {
      const args = [
        `-t${threads}`,
        `-c${connections}`,
        `-d${seconds}s`,
        "--timeout",
        "10s",
        "--latency",
        "-s",
        file,
        url
      ]
      const child = spawn("wrk", args)
      let stdout = ""
      let stderr = ""
      child.stdout.on("data", (c) => (stdout += c))
      child.stderr.on("data", (c) => (stderr += c))
      child.on("error", reject)
      child.on(
        "exit",
        (code) => (code === 0 ? resolve(stdout) : reject(new Error(`wrk exited ${code}: ${stdout}${stderr}`)))
      )
    })
    const failed = /Non-2xx or 3xx responses: (\d+)/.exec(out)
    if (failed) throw new Error(`${failed[1]} failed responses from ${url}`)
    const socketErrors = /Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)/.exec(out)
    if (socketErrors && socketErrors.slice(1).some((n) => Number(n) > 0)) {
      throw new Error(`wrk socket errors against ${url}: ${socketErrors[0]}`)
    }
    return {
      output: out,
      reqPerSec: Number(/Requests\/sec:\s+([\d.]+)/.exec(out)[1]),
      requests: Number(/(\d+) requests in/.exec(out)[1]),
      meanMs: wrkMs(out, /Latency\s+([\d.]+)(us|ms|s)/),
      p50Ms: wrkMs(out, /50%\s+([\d.]+)(us|ms|s)/),
      p99Ms: wrkMs(out, /99%\s+([\d.]+)(us|ms|s)/),
      maxMs: wrkMs(out, /Latency\s+\S+\s+\S+\s+([\d.]+)(us|ms|s)/)
    }
  } finally {
    rmSync(file, { force: true })
  }
}

/** A wrk script POSTing JSON: `bodyLua` is a Lua expression of `counter` (1, 2, ...) giving the body text. */
export const wrkPostScript = (bodyLua, headers = {}) =>
  `counter = 0
local headers = { ["content-type"] = "application/json"${
    Object.entries(headers).map(([k, v]) => `, [${JSON.stringify(k)}] = ${JSON.stringify(v)}`).join("")
  } }
request = function()
  counter = counter + 1
  return wrk.format("POST", nil, headers, ${bodyLua})
end
`

/**
 * Lua to append to a wrk script (one thread, -t1) so it sends at a fixed `rate` per second: each
 * connection, when free, takes the next slot of one schedule and waits until it is due (wrk's
 * `delay`, whole ms). wrk times each request from its send; a slot taken more than 1 ms late
 * (every connection was busy: the server stalled) is counted and its lateness kept, and `done`
 * prints "paced: <late slots> <most late ms>", so coordinated omission is visible rather than
 * hidden. Many connections make late slots rare: a stall must outlast connections / rate.
 */
export const wrkPacing = (rate) =>
  `local ffi = require("ffi")
ffi.cdef[[ typedef struct { long tv_sec; long tv_nsec; } ml_timespec; int clock_gettime(int clock, ml_timespec *now); ]]
local clock = ffi.new("ml_timespec")
local function nowMs()
  ffi.C.clock_gettime(1, clock) -- CLOCK_MONOTONIC
  return tonumber(clock.tv_sec) * 1000 + tonumber(clock.tv_nsec) / 1e6
end
local interval = 1000 / ${Number(rate)}
started = nil
slot = 0
late = 0
lateMaxMs = 0
delay = function()
  local now = nowMs()
  if started == nil then started = now end
  local wait = started + slot * interval - now
  slot = slot + 1
  if wait < -1 then
    late = late + 1
    if -wait > lateMaxMs then lateMaxMs = -wait end
  end
  if wait <= 0 then return 0 end
  return math.floor(wait + 0.5)
end
local threads = {}
setup = function(thread) table.insert(threads, thread) end
done = function()
  io.write(string.format("paced: %d %.2f\\n", threads[1]:get("late"), threads[1]:get("lateMaxMs")))
end
`
