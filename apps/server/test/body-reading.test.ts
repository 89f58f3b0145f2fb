// JSON bodies over a real socket, where Mount reads the raw Node request (@hono/node-server's
// env.incoming) instead of a web Request: every body must get the same answer as through
// app.request (the web Request path), and the size cap must hold for bodies sent in chunks with
// no declared length.
import { serve } from "@hono/node-server"
import * as http from "node:http"
import type { AddressInfo } from "node:net"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { makeTestApp, metadata } from "./helpers.js"

const maxJsonBytes = 4096
let t: Awaited<ReturnType<typeof makeTestApp>>
let server: ReturnType<typeof serve>
let port: number

beforeAll(async () => {
  t = await makeTestApp({ ML_MAX_JSON_BYTES: String(maxJsonBytes) })
  server = await new Promise<ReturnType<typeof serve>>((resolve) => {
    const s = serve({ fetch: t.app.fetch, hostname: "127.0.0.1", port: 0 }, () => resolve(s))
  })
  port = (server.address() as AddressInfo).port
}, 60_000)

afterAll(async () => {
  await new Promise((resolve) => server.close(resolve))
  await t.close()
})

interface Sent {
  readonly path: string
  readonly headers: Record<string, string>
  /** Written one after another; without a content-length header the body goes chunked. */
  readonly chunks: ReadonlyArray<Uint8Array | string>
}

/** The status and problem type (or the created model's name) of a request sent over a socket. */
const overSocket = ({ chunks, headers, path }: Sent) =>
  new Promise<{ status: number; answer: string }>((resolve, reject) => {
    const req = http.request({ host: "127.0.0.1", port, path, method: "POST", headers, agent: false }, (res) => {
      let text = ""
      res.setEncoding("utf8")
      res.on("data", (c) => (text += c))
      res.on("end", () => resolve({ status: res.statusCode!, answer: summary(text) }))
    })
    req.on("error", reject)
    for (const chunk of chunks) req.write(chunk)
    req.end()
  })

/** The same request through app.request (a web Request; no Node request behind it). */
const inProcess = async ({ chunks, headers, path }: Sent) => {
  const body = Buffer.concat(chunks.map((c) => typeof c === "string" ? Buffer.from(c) : c))
  const response = await t.app.request(path, { method: "POST", headers, body })
  return { status: response.status, answer: summary(await response.text()) }
}

const summary = (text: string) => {
  const parsed = JSON.parse(text) as { type?: string; name?: string }
  return parsed.type ?? `name:${parsed.name}`
}

const jsonHeaders = { "content-type": "application/json" }
const model = (version: string) => JSON.stringify(metadata({ version }))
let version = 0
const nextModel = () => model(`9.${version++}`)

const cases: ReadonlyArray<[string, () => Sent]> = [
  ["a body in one piece", () => ({ path: "/v1/models", headers: jsonHeaders, chunks: [nextModel()] })],
  [
    "a body in many small chunks",
    () => ({ path: "/v1/models", headers: jsonHeaders, chunks: nextModel().match(/.{1,7}/gs)! })
  ],
  [
    "a UTF-8 character split between chunks",
    () => {
      const bytes = Buffer.from(JSON.stringify(metadata({ version: `9.${version++}`, description: "café ☕" })))
      const split = bytes.indexOf(Buffer.from("☕")) + 1
      return { path: "/v1/models", headers: jsonHeaders, chunks: [bytes.subarray(0, split), bytes.subarray(split)] }
    }
  ],
  [
    "a body starting with a UTF-8 byte order mark",
    () => ({ path: "/v1/models", headers: jsonHeaders, chunks: [Buffer.from([0xef, 0xbb, 0xbf]), nextModel()] })
  ],
  ["invalid JSON", () => ({ path: "/v1/models", headers: jsonHeaders, chunks: ["{\"name\": "] })],
  ["an empty body", () => ({ path: "/v1/models", headers: jsonHeaders, chunks: [] })],
  [
    "nesting past the cap",
    () => ({ path: "/v1/models", headers: jsonHeaders, chunks: ["[".repeat(200) + "]".repeat(200)] })
  ],
  [
    "a form instead of JSON",
    () => ({ path: "/v1/models", headers: { "content-type": "application/x-www-form-urlencoded" }, chunks: ["a=1"] })
  ],
  ["no content-type", () => ({ path: "/v1/models", headers: {}, chunks: [nextModel()] })],
  [
    "a declared length over the cap",
    () => ({
      path: "/v1/models",
      headers: { ...jsonHeaders, "content-length": String(maxJsonBytes + 1) },
      chunks: [" ".repeat(maxJsonBytes + 1)]
    })
  ],
  [
    "an undeclared (chunked) body over the cap",
    () => ({ path: "/v1/models", headers: jsonHeaders, chunks: Array.from({ length: 10 }, () => " ".repeat(1000)) })
  ],
  [
    "an optional body left out (read as {})",
    () => ({ path: "/v1/experiments/no-such-experiment/start", headers: {}, chunks: [] })
  ]
]

describe("JSON bodies read from the Node request", () => {
  it.each(cases)("answers %s as the web Request path does", async (_label, make) => {
    const viaSocket = await overSocket(make())
    const viaRequest = await inProcess(make())
    expect(viaSocket.status).toBe(viaRequest.status)
    // Model names are the same; versions differ per request, so the created answers compare by name.
    expect(viaSocket.answer).toBe(viaRequest.answer)
  })

  it("refuses a chunked body over the cap with 413 and keeps serving", async () => {
    const refused = await overSocket({
      path: "/v1/models",
      headers: jsonHeaders,
      chunks: Array.from({ length: 64 }, () => " ".repeat(1024))
    })
    expect(refused).toEqual({ status: 413, answer: expect.stringContaining("payload-too-large") })
    const next = await overSocket({ path: "/v1/models", headers: jsonHeaders, chunks: [nextModel()] })
    expect(next).toEqual({ status: 201, answer: "name:fraud-detector" })
  })
})
