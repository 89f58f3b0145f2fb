/**
 * The ML Pipeline client. Methods mirror the use cases; the registry's and experiments' request
 * and response types come from the contract's endpoint tables (@org/ml-api), the other domains'
 * from @org/ml-core (types only: nothing of Effect is loaded at run time). Artifacts are
 * streamed both ways, never buffered whole, and downloads are verified against their SHA-256
 * while they stream.
 */
import type { Access, BodyJsonOf, Experiments, Operations, QueryOf, Registry, Sdk, SuccessJsonOf } from "@org/ml-api"
import type { Attributes, ExposureCount, MetricObservation, ModelAssignment, ModelAssignmentList } from "@org/ml-core"
import type { RecorderOptions } from "./Batcher.js"
import { makeDriftClient } from "./Drift.js"
import { errorFromResponse, IntegrityError } from "./Errors.js"
import { readEventStream } from "./EventStream.js"
import { makeLearnerClient } from "./Learner.js"
import { LocalEvaluator, type LocalEvaluatorOptions } from "./LocalEvaluator.js"
import { Sha256 } from "./Sha256.js"

type Model = SuccessJsonOf<typeof Registry.getModel>
type ModelPage = SuccessJsonOf<typeof Registry.listModels>
type AuditTrail = SuccessJsonOf<typeof Registry.getHistory>
type RegisterModelInput = BodyJsonOf<typeof Registry.registerModel>
type UpdateModelInput = BodyJsonOf<typeof Registry.updateModel>
type ModelStatus = BodyJsonOf<typeof Registry.promoteModel>["status"]
type ListModelsQuery = QueryOf<typeof Registry.listModels>
/** A search: `filter` and `orderBy` in the registry's search language (README "Search"). */
export type SearchModelsQuery = QueryOf<typeof Registry.searchModels>
export type SearchPage = SuccessJsonOf<typeof Registry.searchModels>
/** A registered model: the named entity every version of a name belongs to, with its aliases. */
export type RegisteredModel = SuccessJsonOf<typeof Registry.createRegisteredModel>
/** A registered model with its newest version per status and every alias resolved (production included). */
export type RegisteredModelDetail = SuccessJsonOf<typeof Registry.getRegisteredModel>
type RegisteredModelPage = SuccessJsonOf<typeof Registry.listRegisteredModels>
type ListRegisteredModelsQuery = QueryOf<typeof Registry.listRegisteredModels>
type CreateRegisteredModelInput = BodyJsonOf<typeof Registry.createRegisteredModel>
type UpdateRegisteredModelInput = BodyJsonOf<typeof Registry.updateRegisteredModel>
/** What an alias points at: `{ version }` or `{ modelId }`. */
export type AliasTarget = BodyJsonOf<typeof Registry.setAlias>

/** An API key as listed (never its secret). */
export type ApiKey = SuccessJsonOf<typeof Access.listKeys>["items"][number]
export type CreateKeyInput = BodyJsonOf<typeof Access.createKey>
/** An audit event of key management: who created or revoked which key, when (never a secret). */
export type KeyEvent = SuccessJsonOf<typeof Access.listKeyEvents>["items"][number]
/** The calling principal and what its role may do. */
export type WhoAmI = SuccessJsonOf<typeof Access.whoami>
/** A new key and its secret token: the only time the server shows the token. */
export type CreatedKey = SuccessJsonOf<typeof Access.createKey>
/** An SDK connection: its public clientKey reads the GrowthBook-compatible features payload. */
export type SdkConnection = SuccessJsonOf<typeof Sdk.createSdkConnection>
export type CreateSdkConnectionInput = BodyJsonOf<typeof Sdk.createSdkConnection>

type Experiment = SuccessJsonOf<typeof Experiments.getExperiment>
type ExperimentList = SuccessJsonOf<typeof Experiments.listExperiments>
/** Results as JSON carries them: a statistic the arithmetic could not give (NaN, ±Infinity) is null. */
export type ExperimentResults = SuccessJsonOf<typeof Experiments.getExperimentResults>
/** Results per value of a dimension, adjusted across the breakdown. */
export type DimensionResults = SuccessJsonOf<typeof Experiments.getDimensionResults>
export type VariantResults = ExperimentResults["variants"][number]
export type MetricSummaryView = VariantResults["metrics"][string]
export type Comparison = ExperimentResults["comparisons"][number]
/** Chance to beat the control, expected lift with its credible interval, and the risk of each choice. */
export type BayesianComparison = NonNullable<Comparison["bayesian"]>
/** A treatment against the control on a metric recorded with covariates, CUPED-adjusted. */
export type CovariateAdjustedComparison = ExperimentResults["covariateAdjusted"][number]
/** A treatment against the control on a metric recorded with denominators (delta method). */
export type RatioComparison = ExperimentResults["ratioMetrics"][number]
/** Which model version served a user at an instant (through an experiment or an alias), and why. */
export type ServedModel = SuccessJsonOf<typeof Experiments.getServed>
/** What to ask: an experiment, or a model name with an alias (default production); `at` a Date or ISO string. */
export interface ServedQuery {
  readonly userId: string
  readonly at: Date | string
  readonly experimentId?: string | undefined
  readonly model?: string | undefined
  readonly alias?: string | undefined
  /** The user's attributes, when the experiment's targeting reads them. */
  readonly attributes?: Attributes | undefined
}
type CreateExperimentInput = BodyJsonOf<typeof Experiments.createExperiment>
type UpdateExperimentInput = BodyJsonOf<typeof Experiments.updateExperiment>
type CompleteExperimentInput = BodyJsonOf<typeof Experiments.completeExperiment>

export type ArtifactBody = Uint8Array | ArrayBuffer | Blob | ReadableStream<Uint8Array> | AsyncIterable<Uint8Array>

export interface ClientOptions {
  /** Server base URL, e.g. http://127.0.0.1:8080 */
  readonly baseUrl: string
  /** Bearer token, when the server sets ML_API_TOKEN. */
  readonly token?: string | undefined
  /**
   * Who this client acts for (sent as x-actor): the audit trail records it as `onBehalfOf`, beside
   * the actor, which is always the principal of the token. At most 256 characters, no control or
   * bidi characters.
   */
  readonly onBehalfOf?: string | undefined
  /** @deprecated Use onBehalfOf: the actor is the token's principal; this is only recorded as onBehalfOf. */
  readonly actor?: string | undefined
  /** A fetch implementation (default: globalThis.fetch). */
  readonly fetch?: typeof fetch | undefined
  /** Batching of drift.recordFeature / recordRow. */
  readonly driftRecorder?: RecorderOptions | undefined
  /** Batching of learner.addSample. */
  readonly sampleRecorder?: RecorderOptions | undefined
}

/** Called as bytes move: `done` so far and `total` when known (a stream's size is not). */
export type ProgressListener = (done: number, total: number | undefined) => void

export interface UploadOptions {
  /** Expected SHA-256 (hex): the server stores nothing when the bytes differ. */
  readonly expectedSha256?: string | undefined
  /** Store an empty (0-byte) artifact; without it an empty upload is refused (ValidationError). */
  readonly allowEmpty?: boolean | undefined
  /** Upload progress, called as fetch reads the body. */
  readonly onProgress?: ProgressListener | undefined
}

export interface DownloadOptions {
  /** Download progress, called as the stream is read (total from Content-Length). */
  readonly onProgress?: ProgressListener | undefined
}

export interface DownloadedArtifact {
  readonly sha256: string
  readonly sizeBytes: number
  /** The bytes; errors with IntegrityError at the end if they do not hash to `sha256`. */
  readonly stream: ReadableStream<Uint8Array>
  /** Reads the whole (verified) artifact into memory. */
  readonly bytes: () => Promise<Uint8Array>
}

const toStream = (body: ReadableStream<Uint8Array> | AsyncIterable<Uint8Array>): ReadableStream<Uint8Array> => {
  if (body instanceof ReadableStream) return body
  const iterator = body[Symbol.asyncIterator]()
  return new ReadableStream<Uint8Array>({
    async pull(controller) {
      const { done, value } = await iterator.next()
      if (done) controller.close()
      else controller.enqueue(value)
    },
    async cancel(reason) {
      await iterator.return?.(reason)
    }
  })
}

/** Passes bytes through unchanged, reporting how many went by. */
const counting = (onProgress: ProgressListener, total: number | undefined): TransformStream<Uint8Array, Uint8Array> => {
  let done = 0
  return new TransformStream({
    transform(chunk, controller) {
      done += chunk.byteLength
      controller.enqueue(chunk)
      onProgress(done, total)
    }
  })
}

const sizeOf = (artifact: ArtifactBody): number | undefined =>
  artifact instanceof Uint8Array || artifact instanceof ArrayBuffer
    ? artifact.byteLength
    : artifact instanceof Blob
    ? artifact.size
    : undefined

const progressStep = 256 * 1024

/** Bytes in memory as a stream of views (no copies), small enough pieces for progress to move. */
const bytesAsStream = (bytes: Uint8Array): ReadableStream<Uint8Array> => {
  let offset = 0
  return new ReadableStream<Uint8Array>({
    pull(controller) {
      if (offset >= bytes.byteLength) return controller.close()
      controller.enqueue(bytes.subarray(offset, offset + progressStep))
      offset += progressStep
    }
  })
}

/** The artifact as a stream, so its bytes can be counted as fetch reads them. */
const asStream = (artifact: ArtifactBody): ReadableStream<Uint8Array> =>
  artifact instanceof Blob
    ? artifact.stream()
    : artifact instanceof Uint8Array
    ? bytesAsStream(artifact)
    : artifact instanceof ArrayBuffer
    ? bytesAsStream(new Uint8Array(artifact))
    : toStream(artifact)

/** Passes bytes through unchanged and fails the stream if they do not hash to `expected`. */
const verifying = (expected: string): TransformStream<Uint8Array, Uint8Array> => {
  const hash = new Sha256()
  return new TransformStream({
    transform(chunk, controller) {
      hash.update(chunk)
      controller.enqueue(chunk)
    },
    flush(controller) {
      const actual = hash.digestHex()
      if (actual !== expected) {
        controller.error(
          new IntegrityError({
            type: "urn:ml-pipeline:problem:integrity",
            title: "Artifact integrity check failed",
            status: 0,
            code: "IntegrityError",
            detail: `Downloaded artifact hashes to ${actual}, expected ${expected}`,
            expectedSha256: expected,
            actualSha256: actual
          })
        )
      }
    }
  })
}

export const createClient = (options: ClientOptions) => {
  const baseUrl = options.baseUrl.replace(/\/+$/, "")
  const doFetch = options.fetch ?? globalThis.fetch.bind(globalThis)
  const onBehalfOf = options.onBehalfOf ?? options.actor
  const headers = (extra: Record<string, string> = {}): Record<string, string> => ({
    ...(options.token ? { authorization: `Bearer ${options.token}` } : {}),
    ...(onBehalfOf ? { "x-actor": onBehalfOf } : {}),
    ...extra
  })

  const send = async (path: string, init: RequestInit & { duplex?: "half" } = {}): Promise<Response> => {
    const response = await doFetch(`${baseUrl}${path}`, {
      ...init,
      headers: headers(init.headers as Record<string, string> | undefined)
    })
    if (!response.ok) throw await errorFromResponse(response)
    return response
  }
  const sendJson = async <A>(path: string, method = "GET", body?: unknown): Promise<A> => {
    const response = await send(
      path,
      body === undefined
        ? { method }
        : { method, body: JSON.stringify(body), headers: { "content-type": "application/json" } }
    )
    return (response.status === 204 ? undefined : await response.json()) as A
  }
  const sendText = async (path: string): Promise<string> => (await send(path)).text()
  const modelPath = (id: string) => `/v1/models/${encodeURIComponent(id)}`

  const uploadArtifact = (id: string, artifact: ArtifactBody, upload: UploadOptions = {}): Promise<Model> => {
    const { onProgress } = upload
    const streamed = onProgress !== undefined ||
      !(artifact instanceof Uint8Array || artifact instanceof ArrayBuffer || artifact instanceof Blob)
    const body = onProgress === undefined
      ? (streamed ? toStream(artifact as ReadableStream<Uint8Array> | AsyncIterable<Uint8Array>) : artifact as BodyInit)
      : asStream(artifact).pipeThrough(counting(onProgress, sizeOf(artifact)))
    return send(`${modelPath(id)}/artifact${upload.allowEmpty ? "?allowEmpty=true" : ""}`, {
      method: "PUT",
      body,
      headers: {
        "content-type": "application/octet-stream",
        ...(upload.expectedSha256 ? { "x-artifact-sha256": upload.expectedSha256 } : {})
      },
      ...(streamed ? { duplex: "half" as const } : {})
    }).then((response) => response.json() as Promise<Model>)
  }

  const listModelsPage = (query: ListModelsQuery = {}): Promise<ModelPage> => {
    const params = new URLSearchParams()
    for (const [key, value] of Object.entries(query)) if (value !== undefined) params.set(key, String(value))
    const search = params.toString()
    return sendJson<ModelPage>(`/v1/models${search ? `?${search}` : ""}`)
  }

  const searchModelsPage = (query: SearchModelsQuery = {}): Promise<SearchPage> => {
    const params = new URLSearchParams()
    for (const [key, value] of Object.entries(query)) if (value !== undefined) params.set(key, String(value))
    const search = params.toString()
    return sendJson<SearchPage>(`/v1/models/search${search ? `?${search}` : ""}`)
  }

  const registeredPath = (name: string) => `/v1/registered-models/${encodeURIComponent(name)}`
  const aliasPath = (name: string, alias: string) => `${registeredPath(name)}/aliases/${encodeURIComponent(alias)}`
  const instant = (at: Date | string) => encodeURIComponent(at instanceof Date ? at.toISOString() : at)

  const listRegisteredModelsPage = (query: ListRegisteredModelsQuery = {}): Promise<RegisteredModelPage> => {
    const params = new URLSearchParams()
    for (const [key, value] of Object.entries(query)) if (value !== undefined) params.set(key, String(value))
    const search = params.toString()
    return sendJson<RegisteredModelPage>(`/v1/registered-models${search ? `?${search}` : ""}`)
  }

  const registry = {
    /** Registers a version (draft) and, when given, streams its artifact. */
    registerModel: async (
      metadata: RegisterModelInput,
      artifact?: ArtifactBody,
      upload?: UploadOptions
    ): Promise<Model> => {
      const model = await sendJson<Model>("/v1/models", "POST", metadata)
      return artifact === undefined ? model : uploadArtifact(model.id, artifact, upload)
    },
    uploadArtifact,
    promoteModel: (
      id: string,
      status: ModelStatus,
      promotion: {
        readonly reason?: string
        readonly onBehalfOf?: string
        /** @deprecated Use onBehalfOf. */
        readonly actor?: string
      } = {}
    ): Promise<Model> => sendJson<Model>(`${modelPath(id)}/promote`, "POST", { status, ...promotion }),
    getModel: (id: string): Promise<Model> => sendJson<Model>(modelPath(id)),
    updateModel: (id: string, patch: UpdateModelInput): Promise<Model> =>
      sendJson<Model>(modelPath(id), "PATCH", patch),
    listModelsPage,
    /** Every matching model, fetching pages as the iteration goes. */
    listModels: async function*(query: Omit<ListModelsQuery, "cursor"> = {}): AsyncGenerator<Model> {
      let cursor: string | null = null
      do {
        const page: ModelPage = await listModelsPage({ ...query, ...(cursor ? { cursor } : {}) })
        yield* page.items
        cursor = page.nextCursor
      } while (cursor)
    },
    /** One page of a search; a 400 names the filter's bad token and its position. */
    searchModelsPage,
    /**
     * Every model matching `filter` in `orderBy`, fetching pages as the iteration goes, e.g.
     * `searchModels({ filter: "tags.team = 'risk' AND metrics.auc > 0.9", orderBy: "metrics.auc DESC" })`.
     */
    searchModels: async function*(query: Omit<SearchModelsQuery, "cursor"> = {}): AsyncGenerator<Model> {
      let cursor: string | null = null
      do {
        const page: SearchPage = await searchModelsPage({ ...query, ...(cursor ? { cursor } : {}) })
        yield* page.items
        cursor = page.nextCursor
      } while (cursor)
    },
    /** Sets one key-value tag (audited as tag_set). */
    setModelTag: (id: string, key: string, value: string): Promise<Model> =>
      sendJson<Model>(`${modelPath(id)}/tags/${encodeURIComponent(key)}`, "PUT", { value }),
    /** Removes one key-value tag (audited as tag_deleted); an absent key changes nothing. */
    deleteModelTag: (id: string, key: string): Promise<Model> =>
      sendJson<Model>(`${modelPath(id)}/tags/${encodeURIComponent(key)}`, "DELETE"),
    getHistory: (id: string): Promise<AuditTrail> => sendJson<AuditTrail>(`${modelPath(id)}/history`),
    /** The production version of `name`, now or at an instant (`at`: Date or ISO string). */
    getProduction: (name: string, at?: Date | string): Promise<Model> =>
      sendJson<Model>(
        `/v1/registry/${encodeURIComponent(name)}/production${
          at ? `?at=${encodeURIComponent(at instanceof Date ? at.toISOString() : at)}` : ""
        }`
      ),
    listRegisteredModelsPage,
    /** Every registered model (ascending by name), fetching pages as the iteration goes. */
    listRegisteredModels: async function*(
      query: Omit<ListRegisteredModelsQuery, "cursor"> = {}
    ): AsyncGenerator<RegisteredModel> {
      let cursor: string | null = null
      do {
        const page: RegisteredModelPage = await listRegisteredModelsPage({ ...query, ...(cursor ? { cursor } : {}) })
        yield* page.items
        cursor = page.nextCursor
      } while (cursor)
    },
    /** Registering a version of a new name creates its registered model; this creates one beforehand. */
    createRegisteredModel: (input: CreateRegisteredModelInput): Promise<RegisteredModel> =>
      sendJson<RegisteredModel>("/v1/registered-models", "POST", input),
    getRegisteredModel: (name: string): Promise<RegisteredModelDetail> =>
      sendJson<RegisteredModelDetail>(registeredPath(name)),
    updateRegisteredModel: (name: string, patch: UpdateRegisteredModelInput): Promise<RegisteredModel> =>
      sendJson<RegisteredModel>(registeredPath(name), "PATCH", patch),
    /** The audit trail of every version of `name`, alias moves included, oldest first. */
    getRegisteredModelHistory: (name: string): Promise<AuditTrail> =>
      sendJson<AuditTrail>(`${registeredPath(name)}/history`),
    /** Archives every version of `name` in one audited step (admin). */
    archiveRegisteredModel: (
      name: string,
      archive: { readonly reason?: string } = {}
    ): Promise<RegisteredModelDetail> =>
      sendJson<RegisteredModelDetail>(`${registeredPath(name)}/archive`, "POST", archive),
    /** Points `alias` at a version (`{ version }` or `{ modelId }`); answers that version. */
    setAlias: (name: string, alias: string, target: AliasTarget): Promise<Model> =>
      sendJson<Model>(aliasPath(name, alias), "PUT", target),
    deleteAlias: (name: string, alias: string): Promise<void> => sendJson<void>(aliasPath(name, alias), "DELETE"),
    /** The version `alias` points at, now or at an instant; `production` is the production version. */
    getAlias: (name: string, alias: string, at?: Date | string): Promise<Model> =>
      sendJson<Model>(`${aliasPath(name, alias)}${at ? `?at=${instant(at)}` : ""}`),
    downloadArtifact: async (id: string, download: DownloadOptions = {}): Promise<DownloadedArtifact> => {
      const response = await send(`${modelPath(id)}/artifact`)
      const sha256 = response.headers.get("x-artifact-sha256") ?? ""
      const sizeBytes = Number(response.headers.get("content-length") ?? "0")
      const verified = response.body!.pipeThrough(verifying(sha256))
      const stream = download.onProgress ? verified.pipeThrough(counting(download.onProgress, sizeBytes)) : verified
      return {
        sha256,
        sizeBytes,
        stream,
        bytes: async () => new Uint8Array(await new Response(stream).arrayBuffer())
      }
    }
  }

  const experimentPath = (id: string) => `/v1/experiments/${encodeURIComponent(id)}`
  const experiments = {
    create: (input: CreateExperimentInput): Promise<Experiment> =>
      sendJson<Experiment>("/v1/experiments", "POST", input),
    get: (id: string): Promise<Experiment> => sendJson<Experiment>(experimentPath(id)),
    list: async (): Promise<ReadonlyArray<Experiment>> => (await sendJson<ExperimentList>("/v1/experiments")).items,
    /**
     * Follows /v1/experiment-stream: `onExperiments` gets every experiment at once and after each
     * change, until the stream ends (resolves), fails (rejects) or `signal` aborts.
     */
    stream: async (
      onExperiments: (experiments: ReadonlyArray<Experiment>) => void,
      signal?: AbortSignal
    ): Promise<void> => {
      const response = await send("/v1/experiment-stream", {
        headers: { accept: "text/event-stream" },
        ...(signal === undefined ? {} : { signal })
      })
      if (response.body === null) return
      await readEventStream(response.body, ({ data, event }) => {
        if (event === "experiments") onExperiments((JSON.parse(data) as ExperimentList).items)
      }, signal).catch((error: unknown) => {
        if (!signal?.aborted) throw error
      })
    },
    /** Re-split traffic (one trafficPct per variant) and/or change the description. */
    update: (id: string, change: UpdateExperimentInput): Promise<Experiment> =>
      sendJson<Experiment>(experimentPath(id), "PATCH", change),
    start: (id: string): Promise<Experiment> => sendJson<Experiment>(`${experimentPath(id)}/start`, "POST"),
    pause: (id: string): Promise<Experiment> => sendJson<Experiment>(`${experimentPath(id)}/pause`, "POST"),
    complete: (id: string, options: CompleteExperimentInput = {}): Promise<Experiment> =>
      sendJson<Experiment>(`${experimentPath(id)}/complete`, "POST", options),
    reweight: (id: string): Promise<Experiment> => sendJson<Experiment>(`${experimentPath(id)}/reweight`, "POST"),
    /** The model for one user; `attributes` are read by the experiment's targeting condition and hash attribute. */
    getModelAssignment: (id: string, userId: string, attributes?: Attributes): Promise<ModelAssignment> =>
      sendJson<ModelAssignment>(
        `${experimentPath(id)}/assignments`,
        "POST",
        attributes === undefined ? { userId } : { userId, attributes }
      ),
    /** The models for many users; `attributesByUser` holds the attributes of those that have some. */
    getModelAssignments: async (
      id: string,
      userIds: ReadonlyArray<string>,
      attributesByUser?: Readonly<Record<string, Attributes>>
    ): Promise<ReadonlyArray<ModelAssignment>> =>
      (await sendJson<ModelAssignmentList>(
        `${experimentPath(id)}/assignments`,
        "POST",
        attributesByUser === undefined ? { userIds } : { userIds, attributesByUser }
      )).items,
    recordMetric: (id: string, modelId: string, metric: string, value: number): Promise<void> =>
      sendJson(`${experimentPath(id)}/metrics`, "POST", { modelId, metric, value }).then(() => undefined),
    recordMetrics: (id: string, observations: ReadonlyArray<MetricObservation>): Promise<void> =>
      sendJson(`${experimentPath(id)}/metrics`, "POST", { observations }).then(() => undefined),
    recordExposures: (id: string, exposures: ReadonlyArray<ExposureCount>): Promise<void> =>
      sendJson(`${experimentPath(id)}/exposures`, "POST", { exposures }).then(() => undefined),
    getExperimentResults: (id: string): Promise<ExperimentResults> =>
      sendJson<ExperimentResults>(`${experimentPath(id)}/results`),
    getDimensionResults: (id: string, dimension: string): Promise<DimensionResults> =>
      sendJson<DimensionResults>(`${experimentPath(id)}/results/breakdown?dimension=${encodeURIComponent(dimension)}`),
    /** What served a user at an instant: the model version, its source and the explanation. */
    getServed: (query: ServedQuery): Promise<ServedModel> => {
      const params = new URLSearchParams({
        userId: query.userId,
        at: query.at instanceof Date ? query.at.toISOString() : query.at
      })
      if (query.experimentId !== undefined) params.set("experimentId", query.experimentId)
      if (query.model !== undefined) params.set("model", query.model)
      if (query.alias !== undefined) params.set("alias", query.alias)
      if (query.attributes !== undefined) params.set("attributes", JSON.stringify(query.attributes))
      return sendJson<ServedModel>(`/v1/served?${params}`)
    },
    /**
     * Local evaluation: running experiments are fetched and refreshed in the background, users
     * are assigned in process with the server's hashing (no network on the hot path), and
     * exposures and metrics are sent in background batches with retry. Call `close()` to flush.
     */
    local: (options: LocalEvaluatorOptions = {}) => new LocalEvaluator(experiments, options)
  }

  /** API key management (admin): rotate by creating a new key, deploying its token, then revoking the old one. */
  const keys = {
    createKey: (input: CreateKeyInput): Promise<CreatedKey> => sendJson<CreatedKey>("/v1/keys", "POST", input),
    listKeys: async (): Promise<ReadonlyArray<ApiKey>> =>
      (await sendJson<SuccessJsonOf<typeof Access.listKeys>>("/v1/keys")).items,
    revokeKey: (id: string): Promise<void> =>
      sendJson<void>(`/v1/keys/${encodeURIComponent(id)}`, "DELETE").then(() => undefined),
    /** Key creations and revocations, oldest first. */
    listKeyEvents: async (): Promise<ReadonlyArray<KeyEvent>> =>
      (await sendJson<SuccessJsonOf<typeof Access.listKeyEvents>>("/v1/keys/events")).items,
    /** Who this client's token is (any role): decide which actions to offer from `permissions`. */
    whoami: (): Promise<WhoAmI> => sendJson<WhoAmI>("/v1/whoami"),
    /** A public client key for GrowthBook SDKs (GET /api/features/{clientKey}); admin. */
    createSdkConnection: (input: CreateSdkConnectionInput): Promise<SdkConnection> =>
      sendJson<SdkConnection>("/v1/sdk-connections", "POST", input),
    listSdkConnections: async (): Promise<ReadonlyArray<SdkConnection>> =>
      (await sendJson<SuccessJsonOf<typeof Sdk.listSdkConnections>>("/v1/sdk-connections")).items,
    deleteSdkConnection: (id: string): Promise<void> =>
      sendJson<void>(`/v1/sdk-connections/${encodeURIComponent(id)}`, "DELETE").then(() => undefined)
  }

  return {
    registry,
    experiments,
    ...keys,
    drift: makeDriftClient({ sendJson, sendText }, options.driftRecorder),
    learner: makeLearnerClient({ sendJson }, options.sampleRecorder),
    health: () => sendJson<SuccessJsonOf<typeof Operations.health>>("/healthz"),
    ready: () => sendJson<SuccessJsonOf<typeof Operations.ready>>("/readyz")
  }
}

export type MlClient = ReturnType<typeof createClient>
