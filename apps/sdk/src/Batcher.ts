/**
 * Client-side batching shared by the buffered recorders (drift values, pipeline samples): items
 * are kept per target and sent on size, on a timer, or on `flush()`; a failed batch is retried
 * with backoff (never on a 4xx, which a retry cannot fix, except 429: there the batch waits the
 * server's Retry-After and is sent again), then reported to `onError` and dropped.
 */
import { RateLimitedError } from "./Errors.js"

export interface RecorderOptions {
  /** Send when this many items are buffered (default 10,000 drift values or 1,000 samples). */
  readonly batchSize?: number
  /** Send at least this often, in ms (default 1000). */
  readonly flushIntervalMs?: number
  /**
   * Retries of a failed batch (default 5, backoff doubling from 100 ms; after a 429, the server's
   * Retry-After); then `onError` and the batch is dropped.
   */
  readonly maxRetries?: number
  readonly onError?: (error: unknown) => void
}

export interface Batcher<Item> {
  readonly add: (target: string, item: Item) => void
  /** Sends everything buffered now; resolves when the server has it (or it was given up). */
  readonly flush: () => Promise<void>
  /** Stops the background timer after a final flush. */
  readonly close: () => Promise<void>
}

export const makeBatcher = <Item>(
  send: (target: string, items: Array<Item>) => Promise<unknown>,
  options: RecorderOptions,
  defaultBatchSize: number
): Batcher<Item> => {
  const buffers = new Map<string, Array<Item>>()
  let buffered = 0
  const batchSize = options.batchSize ?? defaultBatchSize
  let timer: ReturnType<typeof setInterval> | undefined
  const inFlight = new Set<Promise<void>>()

  const sendWithRetries = async (target: string, items: Array<Item>) => {
    const retries = options.maxRetries ?? 5
    for (let attempt = 0;; attempt++) {
      try {
        await send(target, items)
        return
      } catch (error) {
        const status = (error as { status?: number }).status
        const rateLimited = error instanceof RateLimitedError
        if (attempt >= retries || (!rateLimited && status !== undefined && status >= 400 && status < 500)) {
          options.onError?.(error)
          return
        }
        const waitMillis = rateLimited ? error.retryAfterSeconds * 1000 : Math.min(10_000, 100 * 2 ** attempt)
        await new Promise((resolve) => setTimeout(resolve, waitMillis))
      }
    }
  }

  const flush = async (): Promise<void> => {
    const drained = [...buffers]
    buffers.clear()
    buffered = 0
    for (const [target, items] of drained) {
      const task = sendWithRetries(target, items).finally(() => inFlight.delete(task))
      inFlight.add(task)
    }
    await Promise.all([...inFlight])
  }

  const ensureTimer = () => {
    if (timer) return
    timer = setInterval(() => void flush(), options.flushIntervalMs ?? 1000)
    ;(timer as { unref?: () => void }).unref?.()
  }

  return {
    add: (target, item) => {
      let items = buffers.get(target)
      if (!items) buffers.set(target, items = [])
      items.push(item)
      if (++buffered >= batchSize) void flush()
      else ensureTimer()
    },
    flush,
    close: async () => {
      if (timer) clearInterval(timer)
      timer = undefined
      await flush()
    }
  }
}
