/**
 * Server-sent event answers and the register of the open ones. A stream never ends by itself, so
 * a graceful shutdown would wait out its whole grace period for each listening client: the server
 * ends them all first (`closeAll`), and the SDKs reconnect to another instance. A stream also
 * ends when what it serves goes away (a deleted SDK connection).
 */

export interface EventStreams {
  /** A server-sent events answer: `start` gets a sender and a closer, and answers its cleanup. */
  readonly open: (
    start: (send: (event: string, data: string) => void, close: () => void) => () => void,
    headers: Readonly<Record<string, string>>
  ) => Response
  /** Ends every open stream, and every stream opened from now on at once; runs the onClose hooks. */
  readonly closeAll: () => void
  /** Runs `hook` at closeAll (feeds stop polling). */
  readonly onClose: (hook: () => void) => void
  /** How many streams are open (tests). */
  readonly size: () => number
}

export const makeEventStreams = (options: { readonly heartbeatMs?: number } = {}): EventStreams => {
  const heartbeatMs = options.heartbeatMs ?? 15_000
  const open = new Set<() => void>()
  const hooks: Array<() => void> = []
  let closed = false
  const encoder = new TextEncoder()

  return {
    open: (start, headers) => {
      let end: (() => void) | undefined
      const stream = new ReadableStream<Uint8Array>({
        start(controller) {
          let live = true
          let stopped = false
          const write = (text: string) => {
            if (!live) return
            try {
              controller.enqueue(encoder.encode(text))
            } catch {
              live = false
            }
          }
          // A comment now and then keeps proxies from closing an idle stream.
          const heartbeat = setInterval(() => write(": keep-alive\n\n"), heartbeatMs)
          ;(heartbeat as { unref?: () => void }).unref?.()
          // Replaced by start's cleanup once start has run (a close during start runs it after).
          let cleanup = () => undefined as void
          const stop = () => {
            if (stopped) return
            stopped = true
            live = false
            open.delete(close)
            clearInterval(heartbeat)
            cleanup()
          }
          const close = () => {
            if (stopped) return
            stop()
            try {
              controller.close()
            } catch {
              // Already closed or cancelled by the client.
            }
          }
          end = stop
          open.add(close)
          cleanup = start((event, data) => write(`event: ${event}\ndata: ${data}\n\n`), close)
          // Closed while starting (a deleted connection, a shutdown): the cleanup was not there yet.
          if (stopped) cleanup()
          else if (closed) close()
        },
        cancel() {
          end?.()
        }
      })
      return new Response(stream, {
        status: 200,
        headers: {
          "content-type": "text/event-stream; charset=utf-8",
          "cache-control": "no-cache",
          "x-accel-buffering": "no",
          ...headers
        }
      })
    },
    closeAll: () => {
      if (!closed) {
        closed = true
        for (const hook of hooks) hook()
      }
      for (const close of [...open]) close()
    },
    onClose: (hook) => void hooks.push(hook),
    size: () => open.size
  }
}
