/**
 * The hot POST routes (assignments, metrics, exposures, drift observations, pipeline samples,
 * predictions) answered straight from Node's request and response, before @hono/node-server builds
 * a web Request and Response and Hono dispatches: those layers cost a hot request more CPU and
 * garbage than its storage work (bench/PROFILE.md). Each route runs the same server Mount built for
 * its Hono route (body limits and reading, decoders, handler, problem answers), behind the same
 * steps as the Hono middleware in the same order (authentication, rate limit, permission), and
 * sends the same status, headers and bytes; the request metrics and disk-space notes are the same.
 * Anything this does not handle goes to Hono untouched: other methods and paths, a path with a
 * query, a percent-encoded or unusual character, a missing content-type, a host header Node's
 * adapter would refuse, CORS configured. ML_FAST_PATH=0 sends everything to Hono.
 */
import { Drift, type Endpoint, Experiments, Pipelines, routePattern } from "@org/ml-api"
import { Access } from "@org/ml-core"
import type { Hono } from "hono"
import {
  createServer,
  type IncomingMessage,
  type RequestListener,
  type ServerOptions,
  type ServerResponse
} from "node:http"
import { Answer } from "./Answer.js"
import { thrownErrorAnswer } from "./Problem.js"
import { bucketFor, rateLimitedAnswer, type TakeToken } from "./RateLimit.js"
import { rawHeader } from "./RequestHeaders.js"
import { type EndpointServer, incomingBody, type RequestView } from "./routes/Mount.js"
import { securityHeaderRecord } from "./SecurityHeaders.js"

/** The routes the fast path answers: production services call them on every request. */
export const hotEndpoints: ReadonlyArray<Endpoint> = [
  Experiments.getModelAssignments,
  Experiments.recordMetrics,
  Experiments.recordExposures,
  Drift.recordObservations,
  Pipelines.addSamples,
  Pipelines.predict
]

/**
 * A path segment the fast path takes as a parameter: characters a URL keeps as they are and Hono
 * passes undecoded, not starting with a dot (so never `.` or `..`, which a URL would resolve).
 */
const segment = "([A-Za-z0-9_~-][A-Za-z0-9_.~-]*)"

interface HotRoute {
  readonly endpoint: Endpoint
  readonly pattern: RegExp
  readonly names: ReadonlyArray<string>
  /** The route label of the request metrics, as Hono's routePath gives it. */
  readonly label: string
  serve: EndpointServer | undefined
}

/** The table of hot routes, filled with each endpoint's server as Mount mounts it. */
export class HotRoutes {
  readonly #routes: ReadonlyArray<HotRoute> = hotEndpoints.map((endpoint) => {
    const names: Array<string> = []
    const source = endpoint.path.replace(/[.*+?^$()|[\]\\]/g, "\\$&").replace(/\\?\{([^}]+)\\?\}/g, (_, name) => {
      names.push(name)
      return segment
    })
    return { endpoint, pattern: new RegExp(`^${source}$`), names, label: routePattern(endpoint.path), serve: undefined }
  })

  /** Mount's `onMounted`: keeps the server of a hot endpoint. */
  readonly register = (endpoint: Endpoint, serve: EndpointServer): void => {
    const route = this.#routes.find((r) => r.endpoint === endpoint)
    if (route !== undefined) route.serve = serve
  }

  match(
    method: string,
    path: string
  ): { readonly route: HotRoute; readonly params: Record<string, string> } | undefined {
    for (const route of this.#routes) {
      if (route.endpoint.method !== method || route.serve === undefined) continue
      const found = route.pattern.exec(path)
      if (found === null) continue
      const params: Record<string, string> = {}
      for (let i = 0; i < route.names.length; i++) params[route.names[i]!] = found[i + 1]!
      return { route, params }
    }
    return undefined
  }
}

export interface FastPathSettings {
  readonly routes: HotRoutes
  /** The principal of an Authorization header (App.ts); undefined: authentication off. */
  readonly authenticate?: ((authorization: string | undefined) => Promise<Access.Principal | undefined>) | undefined
  /** The 401 of a /v1 request without a valid credential. */
  readonly unauthorized: (path: string) => Answer
  /** The 401 or 403 of a principal for an endpoint (App.ts), undefined when allowed. */
  readonly refusal: (principal: Access.Principal, endpoint: Endpoint, path: string) => Answer | undefined
  readonly rateLimit?: TakeToken | undefined
  /** The request metrics and the disk-space note of an answered request (App.ts). */
  readonly answered: (method: string, route: string, status: number, started: number) => void
  readonly log: (line: string) => void
}

/** Hosts @hono/node-server accepts (it answers 400 to others), checked its way once per host. */
const acceptedHosts = new Map<string, boolean>()
const hostAccepted = (host: string | undefined): boolean => {
  if (host === undefined || host === "") return false
  let accepted = acceptedHosts.get(host)
  if (accepted === undefined) {
    try {
      const url = new URL(`http://${host}/`)
      accepted = url.hostname.length === host.length || url.hostname === host.replace(/:\d+$/, "")
    } catch {
      accepted = false
    }
    if (acceptedHosts.size >= 256) acceptedHosts.clear()
    acceptedHosts.set(host, accepted)
  }
  return accepted
}

/** A Node request as Mount reads it. */
class NodeRequestView implements RequestView {
  constructor(
    readonly incoming: IncomingMessage,
    readonly method: string,
    readonly path: string,
    readonly principal: Access.Principal,
    readonly routeParams: Record<string, string>
  ) {}
  header(name: string): string | undefined {
    return rawHeader(this.incoming, name)
  }
  params(): Record<string, string> {
    return this.routeParams
  }
  query(): Record<string, string> {
    // A request with a query string goes to Hono.
    return {}
  }
  body() {
    return incomingBody(this.incoming)
  }
  get request(): Request {
    // No hot handler reads the web Request; building one here would be the cost this path avoids.
    throw new Error("The fast path has no web Request")
  }
}

/**
 * Writes an answer as @hono/node-server writes the Hono route's: the security headers (the
 * outermost middleware's), the answer's own, and Content-Length for a body (text/plain as the
 * default type of an empty one).
 */
const writeAnswer = (outgoing: ServerResponse, answer: Answer): void => {
  const own = answer.headers
  // Node takes headers as a flat list of names and values too: one small array per answer
  // instead of a merged object; an answer that sets a security header itself takes the merge.
  let overrides = false
  for (const name in own) if (Object.hasOwn(securityHeaderRecord, name)) overrides = true
  if (overrides || answer.body === null) {
    const headers: Record<string, string | number> = { ...securityHeaderRecord, ...own }
    if (answer.body === null) {
      headers["content-type"] ??= "text/plain; charset=UTF-8"
      outgoing.writeHead(answer.status, headers)
      outgoing.end()
      return
    }
    headers["Content-Length"] = Buffer.byteLength(answer.body)
    outgoing.writeHead(answer.status, headers)
    outgoing.end(answer.body)
    return
  }
  const headers: Array<string | number> = securityHeaderList.slice()
  for (const name in own) headers.push(name, own[name]!)
  headers.push("Content-Length", Buffer.byteLength(answer.body))
  outgoing.writeHead(answer.status, headers as unknown as Record<string, string | number>)
  outgoing.end(answer.body)
}

/** The security headers as Node's flat list of names and values. */
const securityHeaderList: ReadonlyArray<string> = Object.entries(securityHeaderRecord).flat()

/** A handler's own Response (no hot handler answers one): its headers hardened as the middleware would. */
const writeResponse = async (outgoing: ServerResponse, response: Response): Promise<void> => {
  const headers: Record<string, string | number> = {}
  response.headers.forEach((value, name) => (headers[name] = value))
  for (const [name, value] of Object.entries(securityHeaderRecord)) {
    if (name !== "content-security-policy" || headers[name] === undefined) headers[name] = value
  }
  delete headers["x-powered-by"]
  const body = response.body === null ? undefined : new Uint8Array(await response.arrayBuffer())
  headers["content-type"] ??= "text/plain; charset=UTF-8"
  if (body !== undefined && headers["content-length"] === undefined) headers["content-length"] = body.byteLength
  outgoing.writeHead(response.status, headers)
  outgoing.end(body)
}

/**
 * What @hono/node-server does with a body nobody read to its end once the answer is sent: read
 * and drop up to 64 MiB, for at most 500 ms, then close the connection.
 */
const drainIncoming = (incoming: IncomingMessage): void => {
  if (incoming.destroyed || incoming.readableEnded) return
  let bytesRead = 0
  const cleanup = () => {
    clearTimeout(timer)
    incoming.off("data", onData)
    incoming.off("end", cleanup)
    incoming.off("error", cleanup)
  }
  const forceClose = () => {
    cleanup()
    const socket = incoming.socket
    if (socket && !socket.destroyed) socket.destroySoon()
  }
  const timer = setTimeout(forceClose, 500)
  timer.unref()
  const onData = (chunk: Buffer) => {
    bytesRead += chunk.length
    if (bytesRead > 64 * 1024 * 1024) forceClose()
  }
  incoming.on("data", onData)
  incoming.on("end", cleanup)
  incoming.on("error", cleanup)
  incoming.resume()
}

/** Answers a hot request if it is one (true), or leaves it untouched for Hono (false). */
export type FastPath = (incoming: IncomingMessage, outgoing: ServerResponse) => boolean

export const makeFastPath = (settings: FastPathSettings): FastPath => {
  const { answered, authenticate, log, rateLimit, refusal, routes, unauthorized } = settings

  /**
   * The steps of the Hono middleware and route, in their order. Not an async function: with
   * authentication and the rate limit off the route's server is called at once, and each await
   * left out is a promise and a suspended frame less per request.
   */
  const answer = (
    incoming: IncomingMessage,
    path: string,
    route: HotRoute,
    params: Record<string, string>
  ): Answer | Response | Promise<Answer | Response> => {
    const { endpoint } = route
    const permitted = (principal: Access.Principal) => {
      const refused = endpoint.permission === "public" ? undefined : refusal(principal, endpoint, path)
      return refused ?? route.serve!(new NodeRequestView(incoming, "POST", path, principal, params))
    }
    const limited = (principal: Access.Principal) =>
      rateLimit === undefined
        ? permitted(principal)
        : rateLimit(bucketFor(principal, incoming.socket?.remoteAddress)).then((decision) =>
          decision.allowed ? permitted(principal) : rateLimitedAnswer(decision, path)
        )
    if (authenticate === undefined) return limited(Access.anonymous)
    return authenticate(rawHeader(incoming, "authorization")).then((principal) =>
      principal === undefined ? unauthorized(path) : limited(principal)
    )
  }

  const respond = (
    incoming: IncomingMessage,
    outgoing: ServerResponse,
    path: string,
    route: HotRoute,
    params: Record<string, string>
  ): Promise<void> | void => {
    const started = performance.now()
    const send = (result: Answer | Response): Promise<void> | void => {
      answered("POST", route.label, result.status, started)
      // The adapter drains a body nobody read to its end once the answer is sent; most are read.
      if (!incoming.readableEnded) outgoing.once("finish", () => drainIncoming(incoming))
      return result instanceof Answer ? writeAnswer(outgoing, result) : writeResponse(outgoing, result)
    }
    const refused = (error: unknown) => send(thrownErrorAnswer(error, "POST", path, log))
    let result: Answer | Response | Promise<Answer | Response>
    try {
      result = answer(incoming, path, route, params)
    } catch (error) {
      return refused(error)
    }
    return result instanceof Promise ? result.then(send, refused) : send(result)
  }

  return (incoming, outgoing) => {
    const { method, url } = incoming
    if (method !== "POST" || url === undefined || url.charCodeAt(0) !== 47 /* "/" */) return false
    const found = routes.match(method, url)
    if (found === undefined) return false
    const { headers } = incoming
    if (headers["content-type"] === undefined || !hostAccepted(headers.host)) return false
    const failed = (error: unknown) => {
      log(`Fast path failed on ${method} ${url}: ${error instanceof Error ? error.stack : String(error)}`)
      if (!outgoing.headersSent) outgoing.writeHead(500, { "content-type": "text/plain" })
      outgoing.destroy()
    }
    try {
      respond(incoming, outgoing, url, found.route, found.params)?.catch(failed)
    } catch (error) {
      failed(error)
    }
    return true
  }
}

/** The fast path of each app that has one (App.ts registers it; CORS configured: none). */
const fastPaths = new WeakMap<Hono<any, any, any>, FastPath>()

export const registerFastPath = (app: Hono<any, any, any>, fastPath: FastPath): void => {
  fastPaths.set(app, fastPath)
}

/** The fast path of `app`, if it has one. */
export const fastPathOf = (app: Hono<any, any, any>): FastPath | undefined => fastPaths.get(app)

/**
 * The `createServer` option of @hono/node-server's `serve` for `app`: the app's fast path first,
 * Hono's listener for everything else. `enabled` false (ML_FAST_PATH=0): Hono's listener only.
 */
export const fastPathServer = (app: Hono<any, any, any>, enabled = true): typeof createServer => {
  const withFastPath = (options: ServerOptions, honoListener: RequestListener) => {
    const fastPath = enabled ? fastPathOf(app) : undefined
    const listener: RequestListener = fastPath === undefined ? honoListener : (incoming, outgoing) => {
      if (!fastPath(incoming, outgoing)) honoListener(incoming, outgoing)
    }
    return createServer(options, listener)
  }
  // @hono/node-server calls it as createServer(serverOptions, listener), one of node:http's overloads.
  return withFastPath as unknown as typeof createServer
}
