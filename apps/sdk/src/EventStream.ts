/**
 * Server-sent events over fetch: the browser's EventSource cannot send an Authorization header,
 * and Node before 22 has none, so the SDK reads `text/event-stream` bodies itself. The parser
 * follows the HTML standard's rules for the fields we use (`event`, `data` on one or more lines,
 * comments, CRLF or LF line ends); `id` and `retry` are ignored.
 */

export interface ServerSentEvent {
  readonly event: string
  readonly data: string
}

/** Reads events from a body until it ends (resolves) or fails (rejects); `signal` stops it. */
export const readEventStream = async (
  body: ReadableStream<Uint8Array>,
  onEvent: (event: ServerSentEvent) => void,
  signal?: AbortSignal
): Promise<void> => {
  const reader = body.getReader()
  const decoder = new TextDecoder()
  const abort = () => void reader.cancel().catch(() => undefined)
  signal?.addEventListener("abort", abort, { once: true })
  let buffer = ""
  let event = ""
  let data: Array<string> = []
  const line = (text: string) => {
    if (text === "") {
      if (data.length > 0) onEvent({ event: event || "message", data: data.join("\n") })
      event = ""
      data = []
      return
    }
    if (text.startsWith(":")) return
    const colon = text.indexOf(":")
    const field = colon === -1 ? text : text.slice(0, colon)
    let value = colon === -1 ? "" : text.slice(colon + 1)
    if (value.startsWith(" ")) value = value.slice(1)
    if (field === "event") event = value
    else if (field === "data") data.push(value)
  }
  try {
    for (;;) {
      const { done, value } = await reader.read()
      if (done) return
      buffer += decoder.decode(value, { stream: true })
      let end: number
      while ((end = buffer.search(/\r\n|\r|\n/)) !== -1) {
        const separator = buffer.startsWith("\r\n", end) ? 2 : 1
        line(buffer.slice(0, end))
        buffer = buffer.slice(end + separator)
      }
    }
  } finally {
    signal?.removeEventListener("abort", abort)
  }
}
