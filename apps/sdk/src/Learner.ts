/**
 * The online-learning part of the client: pipelines, their status and update records, prediction
 * with the live learner, and `addSample`, buffered client-side and sent in batches like the drift
 * recorder (see Batcher.ts); `addSamples` sends at once and returns what the server did.
 * Request and response types come from the contract's Pipelines table (types only: nothing of
 * Effect is loaded at run time).
 */
import type { BodyJsonOf, Pipelines, SuccessJsonOf } from "@org/ml-api"
import { makeBatcher, type RecorderOptions } from "./Batcher.js"

interface Transport {
  readonly sendJson: <A>(path: string, method?: string, body?: unknown) => Promise<A>
}

export type Pipeline = SuccessJsonOf<typeof Pipelines.createPipeline>
export type CreatePipelineInput = BodyJsonOf<typeof Pipelines.createPipeline>
export type PipelineStrategy = Pipeline["strategy"]
/** How accepted updates publish artifacts: float64 (exact, the default) or float32 (rounded weights, smaller). */
export type PublishPrecision = NonNullable<Pipeline["publish"]>["precision"]
export type PipelineStatus = SuccessJsonOf<typeof Pipelines.getPipelineStatus>
export type UpdateRecord = SuccessJsonOf<typeof Pipelines.rollbackPipeline>
export type ProgressiveMetrics = PipelineStatus["progressive"]
/** A labelled sample: features by name, a label (0 or 1 for a classifier) and an optional weight. */
export type Sample = BodyJsonOf<typeof Pipelines.addSamples>["samples"][number]
export type AddSamplesResult = SuccessJsonOf<typeof Pipelines.addSamples>

export const makeLearnerClient = (transport: Transport, recorderOptions: RecorderOptions = {}) => {
  const { sendJson } = transport
  const pipelinePath = (id: string) => `/v1/pipelines/${encodeURIComponent(id)}`
  const addSamples = (id: string, samples: ReadonlyArray<Sample>): Promise<AddSamplesResult> =>
    sendJson<AddSamplesResult>(`${pipelinePath(id)}/samples`, "POST", { samples })
  const recorder = makeBatcher<Sample>(addSamples, recorderOptions, 1000)
  type Features = Readonly<Record<string, number>>
  /** Predicts with the live learner: one row gives a number, an array of rows an array. */
  function predict(id: string, features: Features): Promise<number>
  function predict(id: string, rows: ReadonlyArray<Features>): Promise<ReadonlyArray<number>>
  async function predict(
    id: string,
    input: Features | ReadonlyArray<Features>
  ): Promise<number | ReadonlyArray<number>> {
    if (Array.isArray(input)) {
      return (await sendJson<{ predictions: ReadonlyArray<number> }>(`${pipelinePath(id)}/predict`, "POST", {
        rows: input
      })).predictions
    }
    return (await sendJson<{ prediction: number }>(`${pipelinePath(id)}/predict`, "POST", { features: input }))
      .prediction
  }
  return {
    createPipeline: (input: CreatePipelineInput): Promise<Pipeline> =>
      sendJson<Pipeline>("/v1/pipelines", "POST", input),
    listPipelines: async (): Promise<ReadonlyArray<Pipeline>> =>
      (await sendJson<{ items: ReadonlyArray<Pipeline> }>("/v1/pipelines")).items,
    /** The pipeline, its counters, progressive metrics and update records. */
    getPipelineStatus: (id: string): Promise<PipelineStatus> => sendJson<PipelineStatus>(pipelinePath(id)),
    /**
     * Buffered: sent with the next batch (retried; a sampleId the server has seen is ignored).
     * Call `flush()` to send now.
     */
    addSample: (id: string, sample: Sample): void => recorder.add(id, sample),
    addSamples,
    flush: recorder.flush,
    close: recorder.close,
    /** Updates now from the buffered samples; null when there was nothing to learn from. */
    triggerUpdate: async (id: string): Promise<UpdateRecord | null> =>
      (await sendJson<{ update: UpdateRecord | null }>(`${pipelinePath(id)}/update`, "POST")).update,
    /** Serves a previous version again (default: the live version's parent). */
    rollback: (id: string, toModelId?: string): Promise<UpdateRecord> =>
      sendJson<UpdateRecord>(`${pipelinePath(id)}/rollback`, "POST", toModelId === undefined ? {} : { toModelId }),
    predict
  }
}
