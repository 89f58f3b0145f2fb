/**
 * Mounting an endpoint of the contract on Hono. One generic route does what every handler used
 * to repeat: read a JSON body within the size limit (413, 415), decode the path, query and body
 * through the endpoint's schemas (400 naming the fields), resolve the actor (the authenticated
 * principal) and the x-actor annotation (400 when unsafe), run the handler's
 * Effect, answer the success status and body, and turn typed errors into problem+json through
 * the typed problem table. Handlers stay one use-case call, and their error type is limited to
 * the tags the endpoint declares, so an undocumented error fails typecheck.
 */
import {
  type BodyOf,
  type BodySpec,
  type Endpoint,
  type ErrorOf,
  type ParamsOf,
  PayloadTooLarge,
  type QueryOf,
  routePattern,
  type SuccessOf,
  UnsupportedMediaType
} from "@org/ml-api"
import {
  Access,
  ArtifactStore,
  decodeInput,
  excessiveNesting,
  hasUnsafeCharacter,
  MAX_JSON_DEPTH,
  MAX_ON_BEHALF_OF_LENGTH,
  ValidationError
} from "@org/ml-core"
import { Cause, Effect, Exit, Schema, SchemaIssue } from "effect"
import * as SchemaJITCompiler from "effect/schema/SchemaJITCompiler"
import type { Context, Hono } from "hono"
import type { IncomingMessage } from "node:http"
import { Readable } from "node:stream"
import { Answer, toResponse } from "../Answer.js"
import type { Confine } from "../Confinement.js"
import { problemAnswer, problemFromCause } from "../Problem.js"
import { incomingOf, requestHeader } from "../RequestHeaders.js"

/** Where a JSON body is read from: its declared type and length, and its bytes up to a cap. */
export interface BodySource {
  readonly contentType: string | undefined
  readonly contentLength: string | undefined
  readonly hasBody: boolean
  /** The body's bytes; undefined once they exceed `maxBytes` (the rest is not kept). */
  readonly collect: (maxBytes: number) => Promise<Uint8Array | undefined>
}

const webBody = (request: Request): BodySource => ({
  contentType: request.headers.get("content-type") ?? undefined,
  contentLength: request.headers.get("content-length") ?? undefined,
  hasBody: request.body !== null,
  collect: (maxBytes) =>
    request.body ? ArtifactStore.collectBytes(request.body, maxBytes) : Promise.resolve(new Uint8Array(0))
})

/** Reads a Node request's body up to `maxBytes`; past it, stops keeping chunks (the adapter drains the rest). */
const collectIncoming = (incoming: IncomingMessage, maxBytes: number): Promise<Uint8Array | undefined> =>
  new Promise((resolve, reject) => {
    const chunks: Array<Buffer> = []
    let size = 0
    const stop = () => {
      incoming.off("data", onData)
      incoming.off("end", onEnd)
      incoming.off("error", onError)
      incoming.off("close", onClose)
    }
    const onData = (chunk: Buffer) => {
      size += chunk.byteLength
      if (size > maxBytes) {
        stop()
        resolve(undefined)
      } else chunks.push(chunk)
    }
    const onEnd = () => {
      stop()
      resolve(chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks, size))
    }
    const onError = (error: Error) => {
      stop()
      reject(error)
    }
    const onClose = () => {
      stop()
      reject(new Error("The request was closed before its body ended"))
    }
    incoming.on("data", onData)
    incoming.on("end", onEnd)
    incoming.on("error", onError)
    incoming.on("close", onClose)
  })

/**
 * The raw Node request when the adapter passes it (@hono/node-server's `env.incoming`) and no one
 * has started reading it: reading it directly skips building a web Request and its stream, which
 * cost as much as a whole small request (bench/PROFILE.md). Otherwise the web Request.
 */
const bodySource = (c: Context): BodySource => {
  const incoming = incomingOf(c)
  if (incoming === undefined || !(incoming instanceof Readable) || incoming.readableFlowing !== null) {
    return webBody(c.req.raw)
  }
  return incomingBody(incoming)
}

/** The body of a Node request nobody has started reading (the Hono route's and the fast path's). */
export const incomingBody = (incoming: IncomingMessage): BodySource => {
  const { headers } = incoming
  return {
    contentType: headers["content-type"],
    contentLength: headers["content-length"],
    hasBody: !incoming.readableEnded || headers["content-length"] !== undefined,
    collect: (maxBytes) => collectIncoming(incoming, maxBytes)
  }
}

const utf8 = new TextDecoder()

/**
 * Reads a JSON body with a size cap, so a huge or endless body cannot exhaust memory, and a
 * nesting cap checked on the raw text before parsing, so no recursive step (decoding, building
 * the validation message) ever walks a hostile depth.
 */
const readJsonFrom = async (source: BodySource, maxBytes: number): Promise<unknown> => {
  const type = source.contentType ?? ""
  if (!/^application\/(.+\+)?json\b/i.test(type)) {
    throw new UnsupportedMediaType({ message: `Expected content-type application/json, got ${type || "none"}` })
  }
  const tooLarge = () => new PayloadTooLarge({ message: `JSON body exceeds ${maxBytes} bytes`, limitBytes: maxBytes })
  if (Number(source.contentLength ?? "0") > maxBytes) throw tooLarge()
  const bytes = await source.collect(maxBytes)
  if (bytes === undefined) throw tooLarge()
  const text = utf8.decode(bytes)
  const tooDeep = excessiveNesting(text, MAX_JSON_DEPTH)
  if (tooDeep !== -1) {
    throw new ValidationError({
      message: `Request body nests arrays and objects deeper than ${MAX_JSON_DEPTH} levels (at character ${tooDeep})`,
      issues: [{ path: [], message: `must not nest deeper than ${MAX_JSON_DEPTH} levels` }]
    })
  }
  try {
    return JSON.parse(text)
  } catch (cause) {
    throw new ValidationError({
      message: `Request body is not valid JSON: ${(cause as Error).message}`,
      issues: [{ path: [], message: "is not valid JSON" }]
    })
  }
}

/** An optional body is absent when nothing is sent or no content-type says what it is: it reads as {}. */
const readOptionalJson = (source: BodySource, maxBytes: number): Promise<unknown> =>
  !source.hasBody || source.contentLength === "0" || source.contentType === undefined
    ? Promise.resolve({})
    : readJsonFrom(source, maxBytes)

/** The problem+json answer for a failed Effect; a defect is logged and answered as a 500 without internals. */
export const failureAnswer = (
  request: { readonly method: string; readonly path: string },
  cause: Cause.Cause<unknown>,
  log: (line: string) => void
): Answer => {
  const { problem, defect } = problemFromCause(cause, request.path)
  if (defect !== undefined) {
    log(
      `Unhandled failure on ${request.method} ${request.path}: ${
        defect instanceof Error ? defect.stack : String(defect)
      }`
    )
  }
  return problemAnswer(problem)
}

/**
 * What Mount reads of a request: Hono's context on the Hono routes, Node's request on the fast path
 * (FastPath.ts), so both run the very same decoding, handler and answers.
 */
export interface RequestView {
  readonly method: string
  readonly path: string
  /** The authenticated caller (`anonymous` when authentication is off). */
  readonly principal: Access.Principal
  /** A request header (lower-case name) as web Headers give it. */
  header(name: string): string | undefined
  params(): Record<string, string>
  query(): Record<string, string>
  body(): BodySource
  /** The web Request (built on demand: it is costly under the Node adapter). */
  readonly request: Request
}

/** A Hono context as Mount reads it. */
class HonoRequestView implements RequestView {
  constructor(readonly c: Context) {}
  get method(): string {
    return this.c.req.method
  }
  get path(): string {
    return this.c.req.path
  }
  get principal(): Access.Principal {
    return principalOf(this.c)
  }
  header(name: string): string | undefined {
    return requestHeader(this.c, name)
  }
  params(): Record<string, string> {
    return this.c.req.param() as Record<string, string>
  }
  query(): Record<string, string> {
    return this.c.req.query()
  }
  body(): BodySource {
    return bodySource(this.c)
  }
  get request(): Request {
    return this.c.req.raw
  }
}

/** Serves one endpoint from a request: the answer, or a rejection with the error a body was refused with. */
export type EndpointServer = (request: RequestView) => Answer | Response | Promise<Answer | Response>

export interface MountSettings<R> {
  /** Runs a handler's Effect (through the app's ManagedRuntime when it needs services). */
  readonly run: <A, E>(effect: Effect.Effect<A, E, R>) => Promise<Exit.Exit<A, unknown>>
  readonly maxJsonBytes: number
  readonly log: (line: string) => void
  /** Checks every JSON success body against the endpoint's success schema; a mismatch is a logged 500. */
  readonly validateResponses: boolean
  /** Checks the caller may call this endpoint (see App.ts): a Response refuses (401, 403), undefined allows. */
  readonly authorize?: ((c: Context, endpoint: Endpoint) => Response | undefined) | undefined
  /** Model-name confinement of keys with `modelNames` (Confinement.ts): checked on the decoded request. */
  readonly confine?: Confine<R> | undefined
  /** Told of every mounted endpoint and its server, so the fast path serves the hot ones (FastPath.ts). */
  readonly onMounted?: ((endpoint: Endpoint, serve: EndpointServer) => void) | undefined
}

export interface Input<E extends Endpoint> {
  readonly params: ParamsOf<E>
  readonly query: QueryOf<E>
  readonly body: BodyOf<E>
  /** Who is acting: the authenticated principal's name, never a name the request carries. */
  readonly actor: string
  /** Who the caller says it acts for (x-actor header), already checked; a body's onBehalfOf or actor wins. */
  readonly onBehalfOf: string | undefined
  /** The request itself: its headers, and the stream of a raw body. */
  readonly request: Request
  /** The authenticated caller (`anonymous` when authentication is off). */
  readonly principal: Access.Principal
}

/** A success value with response headers (e.g. the location of a created resource). */
export class Reply<A> {
  constructor(readonly value: A, readonly headers: Readonly<Record<string, string>>) {}
}

/** A handler answers with the success value, a Reply, or a Response of its own (streams, text). */
export type Handler<E extends Endpoint, R> = (
  input: Input<E>
) => Effect.Effect<SuccessOf<E> | Reply<SuccessOf<E>> | Response, ErrorOf<E>, R>

export interface MountOptions {
  /** Runs on the raw JSON body before decoding, for a rule whose message must name the rule (immutable fields). */
  readonly screenBody?: ((body: unknown) => ValidationError | undefined) | undefined
}

const none = Effect.succeed(undefined)
const noDecoder = () => none

/**
 * The decoder of an endpoint's input, with Effect's JIT-compiled parser for its schema: a valid
 * input is checked by generated code instead of the interpreter's fibers (about 40% fewer bytes
 * allocated per decode); an invalid one still goes through the interpreter, so every refusal and
 * its message are the same.
 */
const inputDecoder = (schema: Schema.Decoder<unknown>, what: string) => {
  SchemaJITCompiler.enable(schema.ast)
  return decodeInput(schema, what)
}

/** The body's decoder; a body the endpoint accepts as it is skips the schema (`BodySpec.acceptsAsIs`). */
const bodyDecoder = (body: BodySpec) => {
  const decode = inputDecoder(body.schema as Schema.Decoder<unknown>, body.description)
  const acceptsAsIs = body.acceptsAsIs
  return acceptsAsIs === undefined ? decode : (raw: unknown) => (acceptsAsIs(raw) ? Exit.succeed(raw) : decode(raw))
}

/**
 * Effect.flatMap, but a step that has already completed (decoders answer with an Exit) is
 * continued directly: the hot path builds no more Effect than the handler's own.
 */
const andThen = <A, E, B, E2, R>(
  effect: Effect.Effect<A, E>,
  next: (a: A) => Effect.Effect<B, E2, R>
): Effect.Effect<B, E | E2, R> => {
  if (!Exit.isExit(effect)) return Effect.flatMap(effect, next)
  const done = effect as Exit.Exit<A, E>
  return Exit.isSuccess(done) ? next(done.value) : (done as Exit.Exit<never, E>)
}

const formatIssue = SchemaIssue.makeFormatterDefault()

/**
 * The handler's input. The actor and the request are read on demand: touching the request's
 * headers makes @hono/node-server build a full Request, which costs more than a whole /healthz.
 * A class, because an object literal with getters is created on V8's slow path (measured: +20µs).
 */
class HandlerInput {
  readonly #request: RequestView
  constructor(request: RequestView, readonly params: unknown, readonly query: unknown, readonly body: unknown) {
    this.#request = request
  }
  get actor(): string {
    return this.#request.principal.name
  }
  get onBehalfOf(): string | undefined {
    return this.#request.header(onBehalfOfHeader)
  }
  get request(): Request {
    return this.#request.request
  }
  get principal(): Access.Principal {
    return this.#request.principal
  }
}

/** The authenticated principal (set by the auth middleware), anonymous when auth is off. */
export const principalOf = (c: Context): Access.Principal =>
  (c.get("principal") as Access.Principal | undefined) ?? Access.anonymous

const onBehalfOfHeader = "x-actor"

/**
 * The x-actor header's refusal: it lands in the audit trail as onBehalfOf, so it is held to the
 * same rule as a body's onBehalfOf (length, no control or bidi characters). Only changes record
 * it, so reads never touch the headers.
 */
const onBehalfOfRefusal = (request: RequestView): ValidationError | undefined => {
  if (request.method === "GET" || request.method === "HEAD") return undefined
  const claimed = request.header(onBehalfOfHeader)
  if (claimed === undefined) return undefined
  const problem = claimed.length === 0
    ? "must not be empty"
    : claimed.length > MAX_ON_BEHALF_OF_LENGTH
    ? `must be at most ${MAX_ON_BEHALF_OF_LENGTH} characters, got ${claimed.length}`
    : hasUnsafeCharacter(claimed)
    ? "must not contain control or bidirectional-override characters"
    : undefined
  return problem === undefined ? undefined : new ValidationError({
    message: `Header ${onBehalfOfHeader} ${problem}`,
    issues: [{ path: [onBehalfOfHeader], message: problem }]
  })
}

/** Builds the success answer; with `validate`, a JSON body that does not match its schema throws (500, logged). */
const makeWriter = (endpoint: Endpoint, validate: boolean) => {
  const { schema, status } = endpoint.success
  const check = validate && schema ? Schema.decodeUnknownResult(schema as Schema.Decoder<unknown>) : undefined
  return (result: unknown): Answer | Response => {
    if (result instanceof Response) return result
    const reply = result instanceof Reply ? result : undefined
    if (status === 204) return new Answer(status, null, reply?.headers ?? noHeaders, true)
    const text = JSON.stringify(reply === undefined ? result : reply.value)
    if (check) {
      const decoded = check(JSON.parse(text), { errors: "all", onExcessProperty: "error" })
      if (decoded._tag === "Failure") {
        throw new Error(
          `The ${endpoint.operationId} answer does not match its schema: ${formatIssue(decoded.failure.issue)}`
        )
      }
    }
    return new Answer(status, text, reply === undefined ? jsonType : { ...jsonType, ...reply.headers }, true)
  }
}

// Copied when sent, never changed.
const noHeaders: Readonly<Record<string, string>> = {}
const jsonType: Readonly<Record<string, string>> = { "content-type": "application/json" }

/** A settled answer as a web Response; a pending one once it settles. */
const responseOf = (answer: Answer | Response | Promise<Answer | Response>): Response | Promise<Response> =>
  answer instanceof Promise ? answer.then(toResponse) : toResponse(answer)

/** The mount function of an app: `mount(app, endpoint, handler)` adds the endpoint's route to `app`. */
export const makeMount =
  <R>(settings: MountSettings<R>) =>
  <E extends Endpoint>(app: Hono, endpoint: E, handler: Handler<E, R>, options: MountOptions = {}): void => {
    const decodeParams = endpoint.params ? inputDecoder(endpoint.params as Schema.Decoder<unknown>, "path") : noDecoder
    const decodeQuery = endpoint.query ? inputDecoder(endpoint.query as Schema.Decoder<unknown>, "query") : noDecoder
    const body = endpoint.body
    const decodeBody = body ? bodyDecoder(body) : noDecoder
    const write = makeWriter(endpoint, settings.validateResponses)
    const { maxJsonBytes, confine, log } = settings

    /** The handler, or for a key confined by `modelNames` the confinement check, the handler and the list filter. */
    const handle = (request: RequestView, input: HandlerInput) => {
      const principal = request.principal
      if (confine === undefined || principal.modelNames === undefined) return handler(input as Input<E>)
      return confine.check(principal, endpoint, input).pipe(
        Effect.flatMap(() => handler(input as Input<E>)),
        Effect.flatMap((result) =>
          result instanceof Response || result instanceof Reply
            ? Effect.succeed(result)
            : confine.filter(principal, endpoint, result)
        )
      )
    }

    /** Decodes, runs and answers; synchronously when nothing needs running (a constant, a decoding failure). */
    const answer = (request: RequestView, raw: unknown): Answer | Response | Promise<Answer | Response> => {
      const refusal = onBehalfOfRefusal(request)
      if (refusal) return failureAnswer(request, Cause.fail(refusal), log)
      const program = andThen(
        decodeParams(request.params()),
        (params) =>
          andThen(
            decodeQuery(endpoint.query ? request.query() : undefined),
            (query) =>
              andThen(decodeBody(raw), (decoded) => handle(request, new HandlerInput(request, params, query, decoded)))
          )
      )
      const respond = (exit: Exit.Exit<unknown, unknown>) =>
        Exit.isSuccess(exit) ? write(exit.value) : failureAnswer(request, exit.cause, log)
      return Exit.isExit(program)
        ? respond(program as Exit.Exit<unknown, unknown>)
        : settings.run(program).then(respond)
    }

    const serve: EndpointServer = (request) => {
      if (!body) return answer(request, undefined)
      const source = request.body()
      const read = body.optional ? readOptionalJson(source, maxJsonBytes) : readJsonFrom(source, maxJsonBytes)
      return read.then((raw) => {
        const refusal = options.screenBody?.(raw)
        if (refusal) throw refusal
        return answer(request, raw)
      })
    }
    settings.onMounted?.(endpoint, serve)

    const { authorize } = settings
    app.on(
      endpoint.method,
      routePattern(endpoint.path),
      (c): Response | Promise<Response> =>
        authorize === undefined || endpoint.permission === "public"
          ? responseOf(serve(new HonoRequestView(c)))
          : authorize(c, endpoint) ?? responseOf(serve(new HonoRequestView(c)))
    )
  }

export type Mount<R> = ReturnType<typeof makeMount<R>>
