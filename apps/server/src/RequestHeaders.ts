/**
 * Reading a request's headers without making @hono/node-server build web Headers for it: asking
 * Hono (`c.req.header`) converts every header of the Node request into an undici Headers object,
 * which cost a hot request several microseconds (bench/PROFILE.md). Under the Node server the raw
 * header list of the Node request is read instead; in process (`app.request`) Hono's view is used.
 */
import type { Context } from "hono"
import type { IncomingMessage } from "node:http"

/** The Node request under a Hono context (@hono/node-server passes it as `env.incoming`); undefined in process. */
export const incomingOf = (c: Context): IncomingMessage | undefined =>
  (c.env as { incoming?: IncomingMessage } | undefined)?.incoming

/**
 * The value of header `name` (lower case) as web Headers give it: repeats joined by ", ", so a
 * repeated Authorization reads as one invalid value, exactly as through Hono (Node's own
 * `headers` object would keep only the first).
 */
export const requestHeader = (c: Context, name: string): string | undefined => {
  const incoming = incomingOf(c)
  return incoming === undefined ? c.req.header(name) : rawHeader(incoming, name)
}

/** The value of header `name` (lower case) of a Node request, read as `requestHeader` reads it. */
export const rawHeader = (incoming: IncomingMessage, name: string): string | undefined => {
  const raw = incoming.rawHeaders
  let value: string | undefined
  for (let i = 0; i < raw.length; i += 2) {
    const key = raw[i]!
    if (key.length === name.length && key.toLowerCase() === name) {
      value = value === undefined ? raw[i + 1]! : `${value}, ${raw[i + 1]!}`
    }
  }
  return value
}
