/**
 * Concurrent calls of one checked script for one experiment, sent as one call. Requests that
 * arrive in the same turn of the event loop (those ioredis's automatic pipelining would have put
 * in one socket write) share one EVALSHA: the definition check runs once, and Redis and the
 * client handle one command instead of one per request. Each call's arguments keep their order,
 * so the script does exactly what the separate calls would have done one after the other, and
 * each caller gets the script's answer with only its own part of the answer list.
 */

/** No keys of a call's own (a script whose keys are all common). */
export const noKeys: ReadonlyArray<string> = []

/** The script run with the batch's keys and arguments: the common ones, then every call's. */
export type BatchedScript = (keys: ReadonlyArray<string>, args: ReadonlyArray<string | number>) => Promise<unknown>

interface Waiting {
  /** Where this call's entries start in the script's answer list, and how many there are. */
  readonly offset: number
  readonly answers: number
  readonly resolve: (reply: unknown) => void
  readonly reject: (error: unknown) => void
}

interface Batch {
  readonly keys: Array<string>
  readonly args: Array<string | number>
  readonly waiting: Array<Waiting>
  answers: number
}

/**
 * The caller's share of a reply: an 'ok' reply's answer list (its second entry) cut to the
 * caller's entries; any other reply ('stale', 'missing') as it is, for every caller to act on.
 */
const shareOf = (reply: unknown, waiting: Waiting, alone: boolean): unknown => {
  if (alone || !Array.isArray(reply) || reply[0] !== "ok" || !Array.isArray(reply[1])) return reply
  return ["ok", (reply[1] as Array<unknown>).slice(waiting.offset, waiting.offset + waiting.answers)]
}

/**
 * A batcher for `script`. `call(group, commonKeys, commonArgs, keys, args, answers)` joins the open
 * batch of `group` (one experiment definition and whatever else the common arguments hold), or
 * opens one that is sent once the current event-loop turn's I/O is handled. A batch is sent early
 * when the next call would take it past `maxArgs` arguments, so one script never runs long.
 */
export const makeScriptBatcher = (script: BatchedScript, maxArgs = 2048) => {
  const open = new Map<string, Batch>()

  const send = (group: string, batch: Batch) => {
    if (open.get(group) === batch) open.delete(group)
    const { waiting } = batch
    const alone = waiting.length === 1
    const failed = (error: unknown) => {
      for (const w of waiting) w.reject(error)
    }
    let sent: Promise<unknown>
    try {
      sent = script(batch.keys, batch.args)
    } catch (error) {
      // Sent from setImmediate: a throw here would be uncaught, so it fails the batch's callers.
      return failed(error)
    }
    sent.then((reply) => {
      for (const w of waiting) w.resolve(shareOf(reply, w, alone))
    }, failed)
  }

  return (
    group: string,
    commonKeys: ReadonlyArray<string>,
    commonArgs: ReadonlyArray<string | number>,
    keys: ReadonlyArray<string>,
    args: ReadonlyArray<string | number>,
    answers: number
  ): Promise<unknown> =>
    new Promise((resolve, reject) => {
      let batch = open.get(group)
      if (batch !== undefined && batch.args.length + args.length > maxArgs) {
        send(group, batch)
        batch = undefined
      }
      if (batch === undefined) {
        const opened: Batch = { keys: commonKeys.slice(), args: commonArgs.slice(), waiting: [], answers: 0 }
        open.set(group, opened)
        setImmediate(() => {
          if (open.get(group) === opened) send(group, opened)
        })
        batch = opened
      }
      for (const key of keys) batch.keys.push(key)
      for (const arg of args) batch.args.push(arg)
      batch.waiting.push({ offset: batch.answers, answers, resolve, reject })
      batch.answers += answers
    })
}

/**
 * Identical read-only calls of one turn of the event loop (the same script, keys and arguments,
 * named by `group`) answered by one call, the first caller's, sent once the turn's I/O is handled:
 * concurrent predictions of one pipeline share one revision check. A caller that comes after the
 * shared call was sent waits for the next one, so every answer was read after its caller asked.
 */
export const makeSharedCalls = <A>() => {
  const waiting = new Map<string, Promise<A>>()
  return (group: string, call: () => Promise<A>): Promise<A> => {
    let shared = waiting.get(group)
    if (shared === undefined) {
      shared = new Promise<void>((resolve) => setImmediate(resolve)).then(() => {
        waiting.delete(group)
        return call()
      })
      waiting.set(group, shared)
    }
    return shared
  }
}
