/**
 * The SDK's local evaluation mode: assignments computed in process from a cached copy of the
 * running experiments (GrowthBook-compatible targeting and hashing from @org/ml-core/targeting,
 * the same code the server runs: conditions compiled once per fetched definition, hash
 * attribute, holdout, namespace), with exposures and metrics queued and sent in background
 * batches, retried with exponential backoff. It uses no sticky storage: a user's model follows
 * the current split, which is what the hash gives them unless traffic is re-split.
 */
import type { Attributes, Experiment, MetricObservation } from "@org/ml-core"
import { makeTargetedAssigner, type Targeted } from "@org/ml-core/targeting"

export interface LocalEvaluatorOptions {
  /** How often to refresh experiments, in ms (default 30 s). */
  readonly refreshIntervalMs?: number
  /** How often to send queued exposures and metrics, in ms (default 5 s). */
  readonly flushIntervalMs?: number
  /** Retries of a failed batch before it is dropped and reported (default 5). */
  readonly maxRetries?: number
  /** Called when a batch is dropped after its retries. */
  readonly onError?: (error: unknown) => void
}

interface Transport {
  readonly list: () => Promise<ReadonlyArray<Experiment>>
  readonly recordExposures: (
    id: string,
    exposures: ReadonlyArray<{ readonly modelId: string; readonly count: number }>
  ) => Promise<void>
  readonly recordMetrics: (
    id: string,
    observations: ReadonlyArray<MetricObservation>
  ) => Promise<void>
}

export interface LocalAssignment {
  readonly modelId: string
  readonly variant: number
  readonly inExperiment: boolean
}

export class LocalEvaluator {
  private experiments = new Map<
    string,
    {
      readonly experiment: Experiment
      readonly assign: (userId: string, attributes?: Attributes) => Targeted
      readonly control: number
    }
  >()
  private exposures = new Map<string, Map<string, number>>()
  private metrics = new Map<string, Array<MetricObservation>>()
  private readonly timers: Array<ReturnType<typeof setInterval>> = []
  private ready: Promise<void>

  constructor(private readonly transport: Transport, private readonly options: LocalEvaluatorOptions = {}) {
    this.ready = this.refresh()
    const refresh = setInterval(
      () => void this.refresh().catch((e) => this.options.onError?.(e)),
      options.refreshIntervalMs ?? 30_000
    )
    const flush = setInterval(() => void this.flush(), options.flushIntervalMs ?? 5_000)
    for (const timer of [refresh, flush]) {
      ;(timer as { unref?: () => void }).unref?.()
      this.timers.push(timer)
    }
  }

  /** Resolves once the first copy of the experiments has arrived. */
  whenReady(): Promise<void> {
    return this.ready
  }

  async refresh(): Promise<void> {
    const all = await this.transport.list()
    this.experiments = new Map(
      all.map((e) => [e.id, {
        experiment: e,
        assign: makeTargetedAssigner(e),
        control: e.variants.findIndex((v) => v.isControl)
      }])
    )
  }

  /**
   * Assigns in process; non-running experiments serve the control (or the declared winner), and
   * so does the targeting when it leaves the user out (no exposure is counted then).
   */
  assign(experimentId: string, userId: string, attributes?: Attributes): LocalAssignment {
    const entry = this.experiments.get(experimentId)
    if (!entry) throw new Error(`Experiment ${experimentId} is not known locally (not created, or not fetched yet)`)
    const { assign, control, experiment } = entry
    if (experiment.status !== "running") {
      const winner = experiment.decision?.winnerModelId
      const index = winner ? experiment.variants.findIndex((v) => v.modelId === winner) : control
      return { modelId: experiment.variants[index]!.modelId, variant: index, inExperiment: false }
    }
    const index = assign(userId, attributes)
    if (typeof index === "string") {
      return { modelId: experiment.variants[control]!.modelId, variant: control, inExperiment: false }
    }
    const modelId = experiment.variants[index]!.modelId
    const counts = this.exposures.get(experimentId) ?? new Map<string, number>()
    counts.set(modelId, (counts.get(modelId) ?? 0) + 1)
    this.exposures.set(experimentId, counts)
    return { modelId, variant: index, inExperiment: true }
  }

  /**
   * Queues one value; `paired` adds the user's pre-experiment value (covariate, for CUPED) or the
   * denominator of a ratio metric (the value is then the numerator).
   */
  recordMetric(
    experimentId: string,
    modelId: string,
    metric: string,
    value: number,
    paired: Pick<MetricObservation, "covariate" | "denominator"> = {}
  ): void {
    const queue = this.metrics.get(experimentId) ?? []
    queue.push({ modelId, metric, value, ...paired })
    this.metrics.set(experimentId, queue)
  }

  /** Sends everything queued; failed batches are retried with backoff, then reported and dropped. */
  async flush(): Promise<void> {
    const exposures = this.exposures
    const metrics = this.metrics
    this.exposures = new Map()
    this.metrics = new Map()
    const sends: Array<Promise<void>> = []
    for (const [id, counts] of exposures) {
      sends.push(
        this.withRetry(() =>
          this.transport.recordExposures(id, [...counts].map(([modelId, count]) => ({ modelId, count })))
        )
      )
    }
    for (const [id, observations] of metrics) {
      sends.push(this.withRetry(() => this.transport.recordMetrics(id, observations)))
    }
    await Promise.all(sends)
  }

  /** Flushes and stops the background timers. */
  async close(): Promise<void> {
    for (const timer of this.timers) clearInterval(timer)
    await this.flush()
  }

  private async withRetry(send: () => Promise<void>): Promise<void> {
    const retries = this.options.maxRetries ?? 5
    for (let attempt = 0;; attempt++) {
      try {
        return await send()
      } catch (error) {
        const status = (error as { status?: number }).status
        // Client errors will not succeed on retry; everything else (network, 5xx) might.
        if (attempt >= retries || (status !== undefined && status >= 400 && status < 500)) {
          this.options.onError?.(error)
          return
        }
        await new Promise((resolve) => setTimeout(resolve, Math.min(10_000, 100 * 2 ** attempt)))
      }
    }
  }
}
