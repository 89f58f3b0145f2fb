/**
 * `ml-server loadtest`: drives a running server's hot routes (health, assignments, metrics) for
 * a bounded time and prints throughput and latency percentiles per route, so an operator can see
 * what their deployment sustains. Bounded on purpose: loopback addresses only (it is a load
 * generator, not a way to flood another host), at most 60 s per route, 256 connections and
 * 50,000 requests/s. Without --rate each route runs closed loop (as fast as the connections
 * allow); with --rate, at that fixed rate, each request timed from when it was due, so a stall
 * shows in the latencies instead of silently lowering the rate. Assignments and metrics are
 * recorded for real: use an experiment made for the test.
 */
import { LoadConnection, requestText } from "./LoadConnection.js"

export const loadTestUsage = `ml-server loadtest --experiment ID [options]: load a running server's hot routes

Options:
  --url URL            the server (default http://127.0.0.1:8080; loopback addresses only)
  --experiment ID      a running experiment made for the test (assignments and metrics are recorded)
  --routes LIST        comma-separated: health,assignments,metrics (default: all three)
  --duration SECONDS   per route, 1 to 60 (default 10; "10s" works too)
  --connections N      1 to 256 (default 32)
  --rate N             requests per second per route, 1 to 50000 (default: as fast as possible)
  --token TOKEN        API key (default: ML_LOADTEST_TOKEN)

With --rate, latencies run from when each request was due; "lag p99" is how late the loader
itself noticed requests were due (its timers and event loop), a part of those latencies.
`

/** Latencies in ms of one run, summarized. */
export interface LoadResult {
  readonly requests: number
  readonly failures: number
  readonly reqPerSec: number
  readonly meanMs: number
  readonly p50Ms: number
  readonly p90Ms: number
  readonly p99Ms: number
  readonly maxMs: number
  /**
   * At a fixed rate, p99 of how late the loader's own timer noticed that a request was due (0 in
   * closed loop). The latencies include it; when it is a large part of p99, the loader (its
   * timers, its event loop, its share of the CPU) rather than the server made the tail.
   */
  readonly loaderLagP99Ms: number
}

export interface LoadRequest {
  readonly method: string
  readonly path: string
  readonly body?: string | undefined
}

export interface LoadOptions {
  readonly base: string
  readonly connections: number
  readonly seconds: number
  /** The i-th request. */
  readonly make: (i: number) => LoadRequest
  readonly headers?: Readonly<Record<string, string>> | undefined
  /** How long answers still missing when the run ends are awaited before they count as failures (default 10 s). */
  readonly drainMillis?: number | undefined
}

const defaultDrainMillis = 10_000

const quantile = (sorted: Float64Array, q: number) =>
  sorted.length === 0 ? Number.NaN : sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]!

export const summarize = (
  latencies: ArrayLike<number>,
  seconds: number,
  failures: number,
  loaderLags: ArrayLike<number> = []
): LoadResult => {
  const sorted = Float64Array.from(latencies).sort()
  return {
    requests: sorted.length,
    failures,
    reqPerSec: sorted.length / seconds,
    meanMs: sorted.reduce((a, b) => a + b, 0) / Math.max(1, sorted.length),
    p50Ms: quantile(sorted, 0.5),
    p90Ms: quantile(sorted, 0.9),
    p99Ms: quantile(sorted, 0.99),
    maxMs: sorted.length === 0 ? Number.NaN : sorted[sorted.length - 1]!,
    loaderLagP99Ms: loaderLags.length === 0 ? 0 : quantile(Float64Array.from(loaderLags).sort(), 0.99)
  }
}

/**
 * A run's connections (opened when first needed, at most `connections`, reused in turn so none
 * sits idle until the server's keep-alive timeout closes it under a request) and its tally.
 * Answers of 400 and above and failed connections count as failures; latency runs from the time
 * the request was due. `onAnswer` runs after each answer.
 */
const makeRun = (options: LoadOptions, onAnswer: () => void) => {
  const url = new URL(options.base)
  const host = url.hostname.replace(/^\[(.*)\]$/, "$1")
  const port = Number(url.port || 80)
  const headers = options.headers ?? {}
  const all: Array<LoadConnection> = []
  const idle: Array<LoadConnection> = []
  const latencies: Array<number> = []
  let failures = 0
  let inFlight = 0
  let finished = false
  const free = () => {
    if (idle.length > 0) return idle.shift()!
    if (all.length >= options.connections) return undefined
    const connection = new LoadConnection(port, host)
    all.push(connection)
    return connection
  }
  return {
    /** Sends the i-th request, due at `dueAt`, on a free connection; false (nothing sent) when all are busy. */
    trySend: (i: number, dueAt: number): boolean => {
      if (finished) return false
      const connection = free()
      if (connection === undefined) return false
      const request = options.make(i)
      inFlight++
      connection.send(requestText(request.method, request.path, url.host, headers, request.body), (status) => {
        inFlight--
        if (status === 0 || status >= 400) failures++
        else latencies.push(performance.now() - dueAt)
        idle.push(connection)
        if (!finished) onAnswer()
      })
      return true
    },
    inFlight: () => inFlight,
    /** Closes every connection and summarizes from `startedAt`; answers still awaited and `unsent` requests fail. */
    finish: (startedAt: number, loaderLags?: ArrayLike<number>, unsent = 0): LoadResult => {
      const seconds = (performance.now() - startedAt) / 1000
      finished = true
      for (const connection of all) connection.destroy() // a request in flight reports status 0: a failure
      return summarize(latencies, seconds, failures + unsent, loaderLags)
    }
  }
}

/** As many requests as `connections` closed loops make in `seconds`, each sent when the previous answer came. */
export const closedLoad = (options: LoadOptions): Promise<LoadResult> =>
  new Promise((resolve) => {
    const startedAt = performance.now()
    const deadline = startedAt + options.seconds * 1000
    let next = 0
    let ended = false
    const end = () => {
      if (ended) return
      ended = true
      clearTimeout(giveUp)
      resolve(run.finish(startedAt))
    }
    const step = () => {
      const now = performance.now()
      if (now < deadline) { while (run.trySend(next, now)) next++ }
      else if (run.inFlight() === 0) end()
    }
    const run = makeRun(options, step)
    const giveUp = setTimeout(end, options.seconds * 1000 + (options.drainMillis ?? defaultDrainMillis))
    step()
  })

/**
 * Requests at a fixed `rate` per second for `seconds`, each timed from when it was due (a stall
 * shows in the latencies instead of lowering the rate). A due request waits in order for a free
 * connection.
 */
export const pacedLoad = (options: LoadOptions & { readonly rate: number }): Promise<LoadResult> =>
  new Promise((resolve) => {
    const total = Math.round(options.rate * options.seconds)
    const interval = 1000 / options.rate
    const loaderLags = new Float64Array(total)
    const startedAt = performance.now()
    const dueAt = (i: number) => startedAt + i * interval
    let due = 0 // requests whose time has come: sent, or waiting for a connection
    let sent = 0
    let ended = false
    let giveUp: ReturnType<typeof setTimeout> | undefined
    const end = () => {
      if (ended) return
      ended = true
      clearTimeout(giveUp)
      // Requests that never got a connection count as failures too.
      resolve(run.finish(startedAt, loaderLags, total - sent))
    }
    const dispatch = () => {
      while (sent < due && run.trySend(sent, dueAt(sent))) sent++
      if (sent === total && run.inFlight() === 0) end()
    }
    const tick = () => {
      const now = performance.now()
      for (; due < total && dueAt(due) <= now; due++) loaderLags[due] = now - dueAt(due)
      dispatch()
      if (due < total) setTimeout(tick, dueAt(due) - performance.now())
      else if (!ended) giveUp = setTimeout(end, options.drainMillis ?? defaultDrainMillis)
    }
    const run = makeRun(options, dispatch)
    tick()
  })

const loopbackHosts = new Set(["localhost", "127.0.0.1", "[::1]"])

/** Why `url` is refused as a target (not http, not loopback), or undefined. */
export const targetProblem = (url: string): string | undefined => {
  let parsed: URL
  try {
    parsed = new URL(url)
  } catch {
    return `--url ${url} is not a URL`
  }
  if (parsed.protocol !== "http:") return `--url must be http://, got ${parsed.protocol}`
  const host = parsed.hostname
  return loopbackHosts.has(host) || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(host)
    ? undefined
    : `--url must be a loopback address (127.0.0.0/8, ::1, localhost), got ${host}: ` +
      "the load test only runs on this machine"
}

const routeNames = ["health", "assignments", "metrics"] as const
type RouteName = typeof routeNames[number]

export interface LoadTestArgs {
  readonly url: string
  readonly experiment: string | undefined
  readonly routes: ReadonlyArray<RouteName>
  readonly seconds: number
  readonly connections: number
  readonly rate: number | undefined
  readonly token: string | undefined
}

const integerIn = (name: string, text: string | undefined, min: number, max: number): number => {
  const value = Number(text?.replace(/s$/, ""))
  if (!Number.isInteger(value) || value < min || value > max) {
    throw new Error(`${name} must be an integer from ${min} to ${max}, got ${text ?? "nothing"}`)
  }
  return value
}

/** The token, refused if it could end the Authorization header and start another. */
const checkedToken = (token: string | undefined) => {
  if (token !== undefined && /[\r\n]/.test(token)) {
    throw new Error("--token (or ML_LOADTEST_TOKEN) must not contain CR or LF")
  }
  return token
}

/** The command line as LoadTestArgs; throws an Error naming the option and its bound. */
export const parseLoadTestArgs = (argv: ReadonlyArray<string>, env: NodeJS.ProcessEnv): LoadTestArgs => {
  const values = new Map<string, string>()
  for (let i = 0; i < argv.length; i += 2) {
    const name = argv[i]!
    if (!["--url", "--experiment", "--routes", "--duration", "--connections", "--rate", "--token"].includes(name)) {
      throw new Error(`Unknown option ${name}`)
    }
    if (argv[i + 1] === undefined) throw new Error(`${name} needs a value`)
    values.set(name, argv[i + 1]!)
  }
  const url = values.get("--url") ?? "http://127.0.0.1:8080"
  const problem = targetProblem(url)
  if (problem !== undefined) throw new Error(problem)
  const routes = (values.get("--routes") ?? routeNames.join(",")).split(",")
  for (const route of routes) {
    if (!(routeNames as ReadonlyArray<string>).includes(route)) {
      throw new Error(`--routes: unknown route ${route} (routes: ${routeNames.join(", ")})`)
    }
  }
  const experiment = values.get("--experiment")
  if (experiment === undefined && routes.some((r) => r !== "health")) {
    throw new Error("--experiment is needed for the assignments and metrics routes")
  }
  return {
    url: url.replace(/\/$/, ""),
    experiment,
    routes: routes as Array<RouteName>,
    seconds: integerIn("--duration", values.get("--duration") ?? "10", 1, 60),
    connections: integerIn("--connections", values.get("--connections") ?? "32", 1, 256),
    rate: values.has("--rate") ? integerIn("--rate", values.get("--rate"), 1, 50_000) : undefined,
    token: checkedToken(values.get("--token") ?? env.ML_LOADTEST_TOKEN)
  }
}

/** The requests of each route; metrics go to the experiment's variants in turn. */
const routeRequests = async (args: LoadTestArgs, headers: Readonly<Record<string, string>>) => {
  const run = Date.now().toString(36)
  const experimentPath = `/v1/experiments/${encodeURIComponent(args.experiment ?? "")}`
  let variants: ReadonlyArray<string> = []
  if (args.routes.includes("metrics")) {
    const response = await fetch(`${args.url}${experimentPath}`, { headers })
    if (!response.ok) throw new Error(`GET ${experimentPath} answered ${response.status}: ${await response.text()}`)
    variants = ((await response.json()) as { variants: ReadonlyArray<{ modelId: string }> }).variants.map((v) =>
      v.modelId
    )
  }
  return {
    health: (): LoadRequest => ({ method: "GET", path: "/healthz" }),
    assignments: (i: number): LoadRequest => ({
      method: "POST",
      path: `${experimentPath}/assignments`,
      body: `{"userId":"loadtest-${run}-${i}"}`
    }),
    metrics: (i: number): LoadRequest => ({
      method: "POST",
      path: `${experimentPath}/metrics`,
      body: JSON.stringify({ modelId: variants[i % variants.length], metric: "loadtest_value", value: i % 10 })
    })
  }
}

const format = (x: number) => (Number.isNaN(x) ? "-" : x.toFixed(2))

/** Runs the load test and prints one line per route; resolves with the exit code (1 when a route had failures). */
export const runLoadTest = async (
  argv: ReadonlyArray<string>,
  env: NodeJS.ProcessEnv,
  out: (line: string) => void = console.log
): Promise<number> => {
  let args: LoadTestArgs
  try {
    args = parseLoadTestArgs(argv, env)
  } catch (error) {
    out(`${(error as Error).message}\n\n${loadTestUsage}`)
    return 2
  }
  const headers: Record<string, string> = args.token === undefined ? {} : { authorization: `Bearer ${args.token}` }
  const requests = await routeRequests(args, headers)
  const mode = args.rate === undefined ? "closed loop" : `${args.rate} req/s fixed rate`
  out(`${args.url}: ${args.connections} connections, ${args.seconds} s per route, ${mode}`)
  out("route        requests  failures     req/s   mean ms    p50 ms    p90 ms    p99 ms    max ms   lag p99")
  let failed = false
  for (const route of args.routes) {
    const options = {
      base: args.url,
      connections: args.connections,
      seconds: args.seconds,
      make: requests[route],
      headers
    }
    const r = args.rate === undefined ? await closedLoad(options) : await pacedLoad({ ...options, rate: args.rate })
    failed ||= r.failures > 0
    out(
      [
        route.padEnd(11),
        String(r.requests).padStart(9),
        String(r.failures).padStart(9),
        r.reqPerSec.toFixed(0).padStart(9),
        ...[r.meanMs, r.p50Ms, r.p90Ms, r.p99Ms, r.maxMs].map((x) => format(x).padStart(9)),
        (args.rate === undefined ? "-" : format(r.loaderLagP99Ms)).padStart(9)
      ].join(" ")
    )
  }
  return failed ? 1 : 0
}
