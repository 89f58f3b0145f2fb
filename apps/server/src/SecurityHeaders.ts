/**
 * Browser-facing hardening on every response: no MIME sniffing, no framing, no referrer, and a
 * Content-Security-Policy that allows nothing but the /docs page's own stylesheet (by hash, so
 * an injected script or style never runs). CORS is off unless ML_CORS_ORIGINS lists exact
 * origins; those get answers to preflights and may read responses. Bearer tokens are sent
 * explicitly, so credentials (cookies) are never allowed.
 */
import type { Context } from "hono"
import { createHash } from "node:crypto"
import { docsStyle } from "./Docs.js"
import { requestHeader } from "./RequestHeaders.js"

const styleHash = `'sha256-${createHash("sha256").update(docsStyle).digest("base64")}'`

/** The policy of every answer; JSON needs none of it, and /docs (HTML) only its hashed stylesheet. */
export const contentSecurityPolicy = [
  "default-src 'none'",
  `style-src ${styleHash}`,
  "img-src 'self' data:",
  "frame-ancestors 'none'",
  "base-uri 'none'",
  "form-action 'none'"
].join("; ")

const securityHeaders: Array<[string, string]> = [
  ["x-content-type-options", "nosniff"],
  ["x-frame-options", "DENY"],
  ["referrer-policy", "no-referrer"],
  ["content-security-policy", contentSecurityPolicy],
  ["cross-origin-opener-policy", "same-origin"]
]

export const securityHeaderRecord: Readonly<Record<string, string>> = Object.fromEntries(securityHeaders)

/** Answers built with the security headers already in them (`hardenedResponse`): the middleware leaves them be. */
const hardened = new WeakSet<Response>()

/**
 * A response carrying the security headers from the start, for the API's own answers. Setting
 * them afterwards makes @hono/node-server build web Headers for the answer and convert them back
 * for Node, which cost a hot request several microseconds (bench/PROFILE.md). The headers object
 * is fresh on every call: the Node adapter adds content-length to it.
 */
export const hardenedResponse = (
  body: string | null,
  status: number,
  headers: Readonly<Record<string, string>>
): Response => {
  const response = new Response(body, {
    status,
    headers: { ...securityHeaderRecord, ...headers }
  })
  hardened.add(response)
  return response
}

/** Methods and request headers a browser client of the API (the SDK) uses. */
const corsMethods = "GET, HEAD, POST, PUT, PATCH, DELETE"
const corsRequestHeaders = "authorization, content-type, content-digest, x-actor, x-artifact-sha256"
/** Response headers the SDK reads besides the CORS-safelisted ones. */
const corsExposedHeaders = "location, retry-after, x-artifact-sha256, content-digest, www-authenticate"

/**
 * The security headers, and CORS for `allowedOrigins`, as the two steps of the app's outermost
 * middleware (App.ts), which also times the request: one step less per request than a middleware
 * of their own. `preflight` runs before authentication: a preflight from an allowed origin carries
 * no token and is answered here (204); any other OPTIONS request goes on (and gets no
 * Access-Control-* headers). `harden` completes the answer.
 */
export const makeSecurityHeaders = (allowedOrigins: ReadonlyArray<string>) => {
  const allowed = new Set(allowedOrigins)
  const corsOriginOf = (c: Context) => {
    const origin = allowed.size > 0 ? requestHeader(c, "origin") : undefined
    return origin !== undefined && allowed.has(origin) ? origin : undefined
  }
  return {
    preflight: (c: Context): Response | undefined => {
      const corsOrigin = corsOriginOf(c)
      if (
        corsOrigin === undefined || c.req.method !== "OPTIONS" || !requestHeader(c, "access-control-request-method")
      ) {
        return undefined
      }
      return new Response(null, {
        status: 204,
        headers: [
          ...securityHeaders,
          ["access-control-allow-origin", corsOrigin],
          ["access-control-allow-methods", corsMethods],
          ["access-control-allow-headers", corsRequestHeaders],
          ["access-control-max-age", "600"],
          ["vary", "Origin"]
        ]
      })
    },
    harden: (c: Context): void => {
      if (allowed.size === 0 && hardened.has(c.res)) return
      const headers = c.res.headers
      for (const [name, value] of securityHeaders) {
        // A page with its own policy (the dashboard's HTML) keeps it; everything else gets the strict one.
        if (name !== "content-security-policy" || !headers.has(name)) headers.set(name, value)
      }
      headers.delete("x-powered-by")
      if (allowed.size > 0) headers.append("vary", "Origin")
      const corsOrigin = corsOriginOf(c)
      if (corsOrigin !== undefined) {
        headers.set("access-control-allow-origin", corsOrigin)
        headers.set("access-control-expose-headers", corsExposedHeaders)
      }
    }
  }
}
