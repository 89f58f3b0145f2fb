/**
 * Security headers and CORS (issue 12, "Hardening"): every answer (JSON, problem+json, the /docs
 * HTML page, a 401) carries nosniff, frame denial, no-referrer and a CSP under which /docs still
 * renders (its only inline content, the stylesheet, is allowed by hash; no script at all). CORS is
 * off by default and, with ML_CORS_ORIGINS, allows exactly the listed origins. One check runs
 * against a real server process, where Node's HTTP layer could add headers of its own.
 */
import { createHash } from "node:crypto"
import * as fs from "node:fs/promises"
import * as os from "node:os"
import * as path from "node:path"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { loadConfig } from "../src/index.js"
import { json, makeTestApp } from "./helpers.js"
import { killHard, type ListeningServer, startServer } from "./serverProcess.js"

const expectSecurityHeaders = (response: Response) => {
  expect(response.headers.get("x-content-type-options")).toBe("nosniff")
  expect(response.headers.get("x-frame-options")).toBe("DENY")
  expect(response.headers.get("referrer-policy")).toBe("no-referrer")
  const csp = response.headers.get("content-security-policy") ?? ""
  expect(csp).toContain("default-src 'none'")
  expect(csp).toContain("frame-ancestors 'none'")
  expect(csp).not.toContain("unsafe-inline")
  expect(response.headers.has("x-powered-by")).toBe(false)
}

const corsHeadersOf = (response: Response) => [...response.headers.keys()].filter((h) => h.startsWith("access-control"))

const preflight = (origin: string, requestHeaders = "authorization, content-type"): RequestInit => ({
  method: "OPTIONS",
  headers: { origin, "access-control-request-method": "POST", "access-control-request-headers": requestHeaders }
})

describe("security headers", () => {
  let t: Awaited<ReturnType<typeof makeTestApp>>
  beforeAll(async () => {
    t = await makeTestApp()
  })
  afterAll(() => t.close())

  it.each([
    ["a JSON answer", "/healthz", undefined, 200],
    ["a JSON list", "/v1/models", undefined, 200],
    ["a problem+json (404)", "/v1/models/01ARZ3NDEKTSV4RRFFQ69G5FAV", undefined, 404],
    ["a problem+json (400)", "/v1/models", json({ name: "" }), 400],
    ["the OpenAPI document", "/openapi.json", undefined, 200]
  ])("are on %s", async (_label, url, init, status) => {
    const response = await t.app.request(url, init)
    expect(response.status).toBe(status)
    expectSecurityHeaders(response)
  })

  it("let /docs render: no script, and every inline stylesheet allowed by its hash", async () => {
    const response = await t.app.request("/docs")
    expect(response.status).toBe(200)
    expect(response.headers.get("content-type")).toContain("text/html")
    expectSecurityHeaders(response)
    const html = await response.text()
    expect(html).toContain("<h1>")
    expect(html).not.toMatch(/<script/i)
    expect(html).not.toMatch(/\son[a-z]+=/i)
    expect(html).not.toMatch(/\sstyle=/i)
    const styles = [...html.matchAll(/<style>([\s\S]*?)<\/style>/g)].map((m) => m[1]!)
    expect(styles.length).toBeGreaterThan(0)
    const csp = response.headers.get("content-security-policy")!
    for (const style of styles) {
      expect(csp).toContain(`'sha256-${createHash("sha256").update(style).digest("base64")}'`)
    }
  })

  it("are on a 401 when a token is configured", async () => {
    const secured = await makeTestApp({ ML_API_TOKEN: "a-long-enough-bootstrap-token" })
    try {
      const response = await secured.app.request("/v1/models")
      expect(response.status).toBe(401)
      expectSecurityHeaders(response)
    } finally {
      await secured.close()
    }
  })
})

describe("CORS off (the default)", () => {
  let t: Awaited<ReturnType<typeof makeTestApp>>
  beforeAll(async () => {
    t = await makeTestApp()
  })
  afterAll(() => t.close())

  it("answers a browser preflight without any allow header", async () => {
    const response = await t.app.request("/v1/models", preflight("https://evil.example"))
    expect(corsHeadersOf(response)).toEqual([])
  })

  it("lets no origin read answers", async () => {
    const response = await t.app.request("/v1/models", { headers: { origin: "https://evil.example" } })
    expect(response.status).toBe(200)
    expect(corsHeadersOf(response)).toEqual([])
  })
})

describe("CORS with ML_CORS_ORIGINS", () => {
  let t: Awaited<ReturnType<typeof makeTestApp>>
  const allowed = "https://app.example.com"
  beforeAll(async () => {
    t = await makeTestApp({
      ML_CORS_ORIGINS: ` ${allowed}, http://localhost:5173 `,
      ML_API_TOKEN: "a-long-enough-bootstrap-token"
    })
  })
  afterAll(() => t.close())

  it("answers a preflight from a listed origin, without a token, with methods and headers", async () => {
    const response = await t.app.request("/v1/models", preflight(allowed))
    expect(response.status).toBe(204)
    expect(response.headers.get("access-control-allow-origin")).toBe(allowed)
    expect(response.headers.get("access-control-allow-methods")).toContain("POST")
    const allowedHeaders = response.headers.get("access-control-allow-headers")!.split(/,\s*/)
    expect(allowedHeaders).toEqual(expect.arrayContaining(["authorization", "content-type", "x-actor"]))
    expect(response.headers.has("access-control-allow-credentials")).toBe(false)
    expectSecurityHeaders(response)
  })

  it("lets a listed origin read answers (and the location of a created resource)", async () => {
    const response = await t.app.request("/v1/models", {
      headers: { origin: "http://localhost:5173", authorization: "Bearer a-long-enough-bootstrap-token" }
    })
    expect(response.status).toBe(200)
    expect(response.headers.get("access-control-allow-origin")).toBe("http://localhost:5173")
    expect(response.headers.get("access-control-expose-headers")).toContain("location")
    expect(response.headers.get("vary")).toContain("Origin")
  })

  it("gives any other origin nothing, preflight or not", async () => {
    for (const origin of ["https://evil.example", "https://app.example.com.evil.example", "null"]) {
      const refused = await t.app.request("/v1/models", preflight(origin))
      expect(refused.status).not.toBe(204)
      expect(corsHeadersOf(refused)).toEqual([])
      const read = await t.app.request("/v1/models", { headers: { origin } })
      expect(corsHeadersOf(read)).toEqual([])
    }
  })

  it.each(["*", "https://app.example.com/path", "app.example.com", "https://*.example.com"])(
    "refuses %j as an origin at start-up, naming the variable",
    (origins) => {
      expect(() => loadConfig({ ML_CORS_ORIGINS: origins })).toThrow(/ML_CORS_ORIGINS/)
    }
  )
})

describe("headers from a real server process", () => {
  let server: ListeningServer
  let directory: string
  beforeAll(async () => {
    directory = await fs.mkdtemp(path.join(os.tmpdir(), "ml-headers-"))
    server = await startServer(directory, { ML_CORS_ORIGINS: "https://app.example.com" })
  })
  afterAll(async () => {
    await killHard(server.child)
    await fs.rm(directory, { recursive: true, force: true })
  })

  it("sends them over HTTP, with no x-powered-by, and answers a preflight", async () => {
    for (const url of ["/healthz", "/docs", "/v1/nothing-here"]) {
      expectSecurityHeaders(await fetch(`${server.url}${url}`))
    }
    const response = await fetch(`${server.url}/v1/models`, preflight("https://app.example.com"))
    expect(response.status).toBe(204)
    expect(response.headers.get("access-control-allow-origin")).toBe("https://app.example.com")
  })
})
