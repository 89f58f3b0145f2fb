/**
 * Test support for running the real `@growthbook/growthbook` SDK against our server: an
 * EventSource for Node 20 (which has none) over fetch and the SDK's own event-stream reader, and
 * the models and experiments the comparisons use.
 */
import { readEventStream } from "../src/index.js"
import type { MlClient } from "../src/index.js"

type Listener = (event: { type: string; data: string }) => void

/** The part of the EventSource API GrowthBook's streaming uses. */
export class FetchEventSource {
  readyState = 0
  onopen: (() => void) | null = null
  onerror: ((error: unknown) => void) | null = null
  private readonly listeners = new Map<string, Set<Listener>>()
  private readonly controller = new AbortController()

  constructor(readonly url: string) {
    const { signal } = this.controller
    fetch(url, { signal, headers: { accept: "text/event-stream" } })
      .then((response) => {
        if (!response.ok || response.body === null) throw new Error(`HTTP ${response.status}`)
        this.readyState = 1
        this.onopen?.()
        return readEventStream(response.body, ({ data, event }) => {
          for (const listener of this.listeners.get(event) ?? []) listener({ type: event, data })
        }, signal)
      })
      .catch((error: unknown) => {
        if (signal.aborted) return
        this.readyState = 2
        this.onerror?.(error)
      })
  }

  addEventListener(type: string, listener: Listener): void {
    const set = this.listeners.get(type) ?? new Set<Listener>()
    set.add(listener)
    this.listeners.set(type, set)
  }

  removeEventListener(type: string, listener: Listener): void {
    this.listeners.get(type)?.delete(listener)
  }

  close(): void {
    this.readyState = 2
    this.controller.abort()
  }
}

/** `count` models of one fresh name, registered with an artifact and in testing. */
export const registerModels = async (ml: MlClient, count: number): Promise<Array<string>> => {
  const name = `gb-${Math.random().toString(36).slice(2, 8)}`
  const ids: Array<string> = []
  for (let i = 0; i < count; i++) {
    const model = await ml.registry.registerModel(
      { name, version: String(i + 1), algorithm: "a", framework: "f" },
      new Uint8Array([1])
    )
    await ml.registry.promoteModel(model.id, "testing")
    ids.push(model.id)
  }
  return ids
}

/** Variants over `ids` with these traffic shares, the first the control. */
export const variants = (ids: ReadonlyArray<string>, shares: ReadonlyArray<number>) =>
  shares.map((trafficPct, i) => ({ modelId: ids[i]!, isControl: i === 0, trafficPct }))

/** Polls `check` every 20 ms until it holds; answers the milliseconds it took, or throws after `timeoutMs`. */
export const within = async (timeoutMs: number, check: () => boolean | Promise<boolean>): Promise<number> => {
  const started = performance.now()
  for (;;) {
    if (await check()) return performance.now() - started
    if (performance.now() - started > timeoutMs) throw new Error(`not within ${timeoutMs} ms`)
    await new Promise((resolve) => setTimeout(resolve, 20))
  }
}
