/**
 * Serves the web dashboard (apps/dashboard, built by Vite) from this process at `/`: the files are
 * read once at start-up, hashed assets are cached by browsers for a year, and every page URL of the
 * dashboard (`/models/...`, `/experiments/...`) answers its index.html so deep links and reloads
 * work. The HTML carries its own Content-Security-Policy: scripts and connections only from this
 * origin; inline styles are allowed because the chart library styles its SVG with a <style> element.
 */
import { dashboardDirectory } from "@org/ml-dashboard"
import { Hono } from "hono"
import * as fs from "node:fs"
import * as path from "node:path"

export const dashboardContentSecurityPolicy = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self' 'unsafe-inline'",
  "img-src 'self' data:",
  "connect-src 'self'",
  "font-src 'self'",
  "base-uri 'none'",
  "form-action 'self'",
  "frame-ancestors 'none'"
].join("; ")

/** The dashboard's page paths; anything else stays the API's (JSON 404 included). */
export const dashboardPages = ["/", "/sign-in", "/models", "/experiments", "/drift", "/pipelines"] as const

const contentTypes: Record<string, string> = {
  ".js": "text/javascript; charset=UTF-8",
  ".css": "text/css; charset=UTF-8",
  ".map": "application/json; charset=UTF-8",
  ".svg": "image/svg+xml",
  ".png": "image/png",
  ".ico": "image/x-icon",
  ".woff2": "font/woff2"
}

interface StaticFile {
  readonly body: Uint8Array<ArrayBuffer>
  readonly contentType: string
}

/** Every file under `directory`, by URL path ("/assets/index-abc.js"). */
const readFiles = (directory: string): Map<string, StaticFile> => {
  const files = new Map<string, StaticFile>()
  const entries = fs.readdirSync(directory, { recursive: true, withFileTypes: true })
  for (const entry of entries) {
    if (!entry.isFile()) continue
    const full = path.join(entry.parentPath, entry.name)
    const urlPath = "/" + path.relative(directory, full).split(path.sep).join("/")
    const contentType = contentTypes[path.extname(entry.name)] ?? "application/octet-stream"
    files.set(urlPath, { body: new Uint8Array(fs.readFileSync(full)), contentType })
  }
  return files
}

export interface DashboardOptions {
  /** The built dashboard (default: @org/ml-dashboard's dist). */
  readonly directory?: string | undefined
}

export const dashboardRoutes = (options: DashboardOptions = {}) => {
  const directory = options.directory ?? dashboardDirectory
  const files = fs.existsSync(path.join(directory, "index.html")) ? readFiles(directory) : new Map<string, StaticFile>()
  const index = files.get("/index.html")
  const routes = new Hono()

  const page = () =>
    index === undefined
      ? new Response(
        "The dashboard is not built: run `npm run build` (or `npx turbo run build --filter=@org/ml-dashboard`).\n",
        { status: 503, headers: { "content-type": "text/plain; charset=UTF-8", "cache-control": "no-store" } }
      )
      : new Response(index.body, {
        headers: {
          "content-type": "text/html; charset=UTF-8",
          "cache-control": "no-cache",
          "content-security-policy": dashboardContentSecurityPolicy
        }
      })

  for (const pagePath of dashboardPages) {
    routes.get(pagePath, page)
    if (pagePath !== "/") routes.get(`${pagePath}/*`, page)
  }
  routes.get("/assets/*", (c) => {
    const file = files.get(c.req.path)
    if (file === undefined) return c.notFound()
    return new Response(file.body, {
      headers: { "content-type": file.contentType, "cache-control": "public, max-age=31536000, immutable" }
    })
  })
  return routes
}
