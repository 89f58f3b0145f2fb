/**
 * Headers read from the Node request (RequestHeaders.ts) instead of through Hono, and answers
 * built with their security headers (SecurityHeaders.hardenedResponse), over a real socket, where
 * @hono/node-server passes the Node request: a header reads as web Headers read it (Hono's own
 * view, compared on the same request), and the hot routes' answers, refusals and the x-actor
 * annotation behave as in process.
 */
import { serve } from "@hono/node-server"
import { Hono } from "hono"
import type { AddressInfo } from "node:net"
import * as net from "node:net"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { requestHeader } from "../src/RequestHeaders.js"
import { json, makeTestApp } from "./helpers.js"

const listen = (fetch: (request: Request, env: unknown) => Response | Promise<Response>) =>
  new Promise<{ url: string; port: number; close: () => Promise<void> }>((resolve) => {
    const server = serve({ fetch, hostname: "127.0.0.1", port: 0 }, (info: AddressInfo) =>
      resolve({
        url: `http://127.0.0.1:${info.port}`,
        port: info.port,
        close: () => new Promise((done) => server.close(() => done()))
      }))
  })

/** Sends raw request bytes (so header names may repeat and keep their case) and answers the response text. */
const rawRequest = (port: number, text: string) =>
  new Promise<string>((resolve, reject) => {
    const socket = net.connect(port, "127.0.0.1", () => socket.end(text))
    let answer = ""
    socket.setEncoding("utf8")
    socket.on("data", (chunk) => (answer += chunk))
    socket.on("end", () => resolve(answer))
    socket.on("error", reject)
  })

describe("requestHeader over a real socket", () => {
  const names = ["authorization", "x-actor", "content-type", "origin", "x-absent", "accept"]
  let server: Awaited<ReturnType<typeof listen>>
  beforeAll(async () => {
    const app = new Hono().get("/", (c) => {
      // Ours first: Hono's c.req.header builds the web Headers, which must not change what ours reads.
      const ours = Object.fromEntries(names.map((name) => [name, requestHeader(c, name) ?? null]))
      const hono = Object.fromEntries(names.map((name) => [name, c.req.header(name) ?? null]))
      return c.json({ ours, hono })
    })
    server = await listen(app.fetch)
  })
  afterAll(() => server.close())

  it("reads each header as Hono's web Headers do: any case, repeats joined, absent as undefined", async () => {
    const answer = await rawRequest(
      server.port,
      [
        "GET / HTTP/1.1",
        "Host: 127.0.0.1",
        "AUTHORIZATION: Bearer first",
        "Authorization: Bearer second",
        "X-Actor: alice",
        "x-actor: bob",
        "Origin:  https://app.example.com  ",
        "Accept: */*",
        "Connection: close",
        "",
        ""
      ].join("\r\n")
    )
    const { hono, ours } = JSON.parse(answer.slice(answer.indexOf("\r\n\r\n") + 4)) as Record<
      string,
      Record<string, string | null>
    >
    expect(hono!["authorization"]).toBe("Bearer first, Bearer second")
    expect(hono!["x-actor"]).toBe("alice, bob")
    expect(ours).toEqual(hono)
  })
})

describe("the API over a real socket", () => {
  let t: Awaited<ReturnType<typeof makeTestApp>>
  let server: Awaited<ReturnType<typeof listen>>
  beforeAll(async () => {
    t = await makeTestApp()
    server = await listen(t.app.fetch)
  })
  afterAll(async () => {
    await server.close()
    await t.close()
  })

  const expectSecurityHeaders = (response: Response) => {
    expect(response.headers.get("x-content-type-options")).toBe("nosniff")
    expect(response.headers.get("x-frame-options")).toBe("DENY")
    expect(response.headers.get("referrer-policy")).toBe("no-referrer")
    expect(response.headers.get("content-security-policy")).toContain("default-src 'none'")
    expect(response.headers.get("cross-origin-opener-policy")).toBe("same-origin")
    expect(response.headers.has("access-control-allow-origin")).toBe(false)
  }

  it("answers JSON, a location and problems with the security headers and exact lengths", async () => {
    const created = await fetch(
      `${server.url}/v1/models`,
      json({ name: "socket", version: "1", algorithm: "a", framework: "f" })
    )
    expect(created.status).toBe(201)
    expectSecurityHeaders(created)
    const model = await created.json() as { id: string }
    expect(created.headers.get("location")).toBe(`/v1/models/${model.id}`)
    expect(created.headers.get("content-type")).toBe("application/json")

    // Two answers of different lengths in a row: each carries its own content-length.
    for (const path of ["/healthz", `/v1/models/${model.id}`, "/healthz"]) {
      const response = await fetch(`${server.url}${path}`)
      const text = await response.text()
      expect(response.status).toBe(200)
      expect(Number(response.headers.get("content-length"))).toBe(Buffer.byteLength(text))
      expectSecurityHeaders(response)
    }

    const missing = await fetch(`${server.url}/v1/models/01ARZ3NDEKTSV4RRFFQ69G5FAV`)
    expect(missing.status).toBe(404)
    expectSecurityHeaders(missing)
  })

  it("refuses an unsafe x-actor read from the Node request, naming the header, and records a good one", async () => {
    const refused = await fetch(
      `${server.url}/v1/models`,
      json({ name: "socket", version: "2", algorithm: "a", framework: "f" }, {
        headers: { "x-actor": "a".repeat(300) }
      })
    )
    expect(refused.status).toBe(400)
    expectSecurityHeaders(refused)
    const problem = await refused.json() as { errors: Array<{ path: string; message: string }> }
    expect(problem.errors.map((e) => e.path)).toEqual(["x-actor"])
    expect(problem.errors[0]!.message).toMatch(/at most \d+ characters, got 300/)

    const accepted = await fetch(
      `${server.url}/v1/models`,
      json({ name: "socket", version: "3", algorithm: "a", framework: "f" }, { headers: { "x-actor": "ops-bot" } })
    )
    expect(accepted.status).toBe(201)
    const model = await accepted.json() as { createdBy: string; onBehalfOf?: string }
    expect([model.createdBy, model.onBehalfOf]).toEqual(["anonymous", "ops-bot"])
  })
})
