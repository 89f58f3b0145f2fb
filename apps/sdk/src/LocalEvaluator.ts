/**
 * The SDK's local evaluation mode: assignments computed in process from a cached copy of the
 * experiments (GrowthBook-compatible targeting and hashing from @org/ml-core/targeting, the same
 * code the server runs: conditions compiled once per fetched definition, hash attribute,
 * holdout, namespace), with exposures and metrics queued and sent in background batches,
 * retried with exponential backoff. The copy follows the server's experiment stream (server-sent
 * events: a change made through any instance arrives within a second); while the stream is down
 * it is polled, and the stream is reopened with backoff. `assign` follows the current split;
 * `assignSticky` keeps a sticky experiment's users on their variant across re-splits through a
 * pluggable StickyStore, as the server does.
 */
import type { Attributes, Experiment, MetricObservation } from "@org/ml-core"
import { keepsStickyVariant, makeTargetedAssigner, type Targeted } from "@org/ml-core/targeting"
import type { StickyStore } from "./StickyStore.js"

export interface LocalEvaluatorOptions {
  /** How often to refresh experiments, in ms (default 30 s). */
  readonly refreshIntervalMs?: number
  /** How often to send queued exposures and metrics, in ms (default 5 s). */
  readonly flushIntervalMs?: number
  /** Retries of a failed batch before it is dropped and reported (default 5). */
  readonly maxRetries?: number
  /** Called when a batch is dropped after its retries, and when the stream or a poll fails. */
  readonly onError?: (error: unknown) => void
  /** Follow the server's experiment stream (default true); polling is the fallback either way. */
  readonly streaming?: boolean
  /** First delay before reopening a failed stream, in ms (default 1 s, doubling up to 30 s). */
  readonly reconnectDelayMs?: number
  /** Where `assignSticky` keeps users' variants (localStorageStickyStore, redisStickyStore, ...). */
  readonly stickyStore?: StickyStore
}

interface Transport {
  readonly list: () => Promise<ReadonlyArray<Experiment>>
  /** Calls `onExperiments` with every experiment at each change until the stream ends or `signal` aborts. */
  readonly stream?: (
    onExperiments: (experiments: ReadonlyArray<Experiment>) => void,
    signal: AbortSignal
  ) => Promise<void>
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
  /** From the sticky store (assignSticky only). */
  readonly sticky?: boolean
}

/** What GrowthBook SDKs pass their trackingCallback: the experiment's key and the variation served. */
export interface TrackedExperiment {
  readonly key: string
}
export interface TrackedResult {
  readonly value: unknown
  readonly inExperiment?: boolean
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
  private readonly closing = new AbortController()
  private streamOpen = false

  constructor(private readonly transport: Transport, private readonly options: LocalEvaluatorOptions = {}) {
    this.ready = this.refresh()
    if (transport.stream !== undefined && options.streaming !== false) void this.follow(transport.stream)
    const refresh = setInterval(
      // While the stream is open it carries every change; polling is the fallback.
      () => void (this.streamOpen ? undefined : this.refresh().catch((e) => this.options.onError?.(e))),
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
    this.replace(await this.transport.list())
  }

  /** Whether the experiment stream is open now (else changes arrive by polling). */
  isStreaming(): boolean {
    return this.streamOpen
  }

  private replace(all: ReadonlyArray<Experiment>): void {
    const previous = this.experiments
    this.experiments = new Map(
      all.map((e) => {
        // An unchanged definition keeps its compiled targeting.
        const kept = previous.get(e.id)
        if (kept !== undefined && kept.experiment.revision === e.revision) return [e.id, kept]
        return [e.id, {
          experiment: e,
          assign: makeTargetedAssigner(e),
          control: e.variants.findIndex((v) => v.isControl)
        }]
      })
    )
  }

  /** Follows the stream until close(), reopening it with backoff after each failure. */
  private async follow(stream: NonNullable<Transport["stream"]>): Promise<void> {
    const first = this.options.reconnectDelayMs ?? 1_000
    let delay = first
    while (!this.closing.signal.aborted) {
      try {
        await stream((experiments) => {
          this.streamOpen = true
          delay = first
          this.replace(experiments)
        }, this.closing.signal)
      } catch (error) {
        if (!this.closing.signal.aborted) this.options.onError?.(error)
      }
      this.streamOpen = false
      if (this.closing.signal.aborted) return
      // Changes made while the stream was down are caught by this read (the stream resends all on open).
      this.refresh().catch((e) => this.options.onError?.(e))
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, delay)
        ;(timer as { unref?: () => void }).unref?.()
        this.closing.signal.addEventListener("abort", () => {
          clearTimeout(timer)
          resolve()
        }, { once: true })
      })
      delay = Math.min(30_000, delay * 2)
    }
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
    this.countExposure(experimentId, modelId)
    return { modelId, variant: index, inExperiment: true }
  }

  /**
   * As `assign`, but a sticky experiment's users keep the variant they first got (in the
   * stickyStore) across re-splits, as the server's stored assignments: a kept variant wins, even
   * when the targeting or coverage would now leave the user out (keepsStickyVariant, as
   * GrowthBook's sticky bucketing); a user without one whom the targeting leaves out gets the
   * control; otherwise coverage and the split decide, and the result is kept (set if absent).
   * Its exposure is counted when it is first kept. A failing store serves the hashed variant, as
   * the server does.
   */
  async assignSticky(experimentId: string, userId: string, attributes?: Attributes): Promise<LocalAssignment> {
    const entry = this.experiments.get(experimentId)
    const store = this.options.stickyStore
    if (!entry || store === undefined || !entry.experiment.stickyAssignment || entry.experiment.status !== "running") {
      return this.assign(experimentId, userId, attributes)
    }
    const { assign, control, experiment } = entry
    const targeted = assign(userId, attributes)
    const controlAnswer = { modelId: experiment.variants[control]!.modelId, variant: control, inExperiment: false }
    if (!keepsStickyVariant(targeted)) return controlAnswer
    try {
      const kept = await store.get(experimentId, userId)
      if (kept !== undefined) return { ...kept, inExperiment: true, sticky: true }
      if (typeof targeted === "string") return controlAnswer
      const ours = { variant: targeted, modelId: experiment.variants[targeted]!.modelId }
      const stored = await store.setIfAbsent(experimentId, userId, ours)
      if (stored.variant === ours.variant && stored.modelId === ours.modelId) {
        this.countExposure(experimentId, ours.modelId)
      }
      return { ...stored, inExperiment: true, sticky: true }
    } catch (error) {
      this.options.onError?.(error)
      return this.assign(experimentId, userId, attributes)
    }
  }

  /**
   * A GrowthBook SDK `trackingCallback`: each exposure a GrowthBook SDK reports (experiment key =
   * our experiment id, value = the model id) is counted here and sent with the next batch.
   */
  readonly trackingCallback = (experiment: TrackedExperiment, result: TrackedResult): void => {
    if (result.inExperiment === false || typeof result.value !== "string") return
    this.countExposure(experiment.key, result.value)
  }

  private countExposure(experimentId: string, modelId: string): void {
    const counts = this.exposures.get(experimentId) ?? new Map<string, number>()
    counts.set(modelId, (counts.get(modelId) ?? 0) + 1)
    this.exposures.set(experimentId, counts)
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
    this.closing.abort()
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
