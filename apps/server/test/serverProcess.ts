/**
 * The real server process for the fault suites (crash loop, disk full, repair): started from its
 * build on an ephemeral port, talked to over HTTP, killed with SIGKILL.
 */
import { type ChildProcess, spawn } from "node:child_process"
import * as path from "node:path"
import { fileURLToPath } from "node:url"

export const mainJs = path.join(path.dirname(fileURLToPath(import.meta.url)), "../dist/main.js")

export interface ListeningServer {
  readonly child: ChildProcess
  readonly url: string
  /** Everything it printed so far (stdout and stderr). */
  readonly output: () => string
}

/** Starts the server on `directory`; resolves when it listens, or with its exit code and output. */
export const launchServer = (
  directory: string,
  env: Record<string, string> = {}
): Promise<ListeningServer | { readonly exited: number | null; readonly output: string }> => {
  const child = spawn(process.execPath, [mainJs], {
    env: { ...process.env, ML_PORT: "0", ML_HOST: "127.0.0.1", ML_MODEL_STORAGE_DIR: directory, ...env },
    stdio: ["ignore", "pipe", "pipe"]
  })
  let output = ""
  child.stderr!.on("data", (chunk) => (output += chunk))
  return new Promise((resolve) => {
    child.stdout!.on("data", (chunk) => {
      output += chunk
      const match = /listening on (http:\/\/[^ ]+)/.exec(output)
      if (match) resolve({ child, url: match[1]!, output: () => output })
    })
    child.on("exit", (code) => resolve({ exited: code, output }))
  })
}

/** Starts the server on `directory` and fails (with its output) when it does not come up. */
export const startServer = async (directory: string, env: Record<string, string> = {}): Promise<ListeningServer> => {
  const server = await launchServer(directory, env)
  if ("exited" in server) throw new Error(`server exited ${server.exited} before listening:\n${server.output}`)
  return server
}

export const killHard = (child: ChildProcess) =>
  new Promise<void>((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) return resolve()
    child.on("exit", () => resolve())
    child.kill("SIGKILL")
  })

export const ok = (status: number) => status >= 200 && status < 300

/** JSON over HTTP to whichever server `baseUrl()` names now (it changes across restarts). */
export const httpClient =
  (baseUrl: () => string) =>
  async (method: string, route: string, body?: unknown, headers: Record<string, string> = {}) => {
    const init: RequestInit = { method, headers: { "content-type": "application/json", ...headers } }
    if (body !== undefined) {
      init.body = typeof body === "string" || body instanceof Uint8Array ? body as BodyInit : JSON.stringify(body)
    }
    const response = await fetch(`${baseUrl()}${route}`, init)
    const text = await response.text()
    return { status: response.status, body: text.startsWith("{") ? JSON.parse(text) : text }
  }

export type HttpCall = ReturnType<typeof httpClient>

/** Two models and a running A/B experiment between them, to send metric batches to. */
export const startedExperiment = async (
  call: HttpCall,
  register: (name: string) => Promise<{ readonly body: { readonly id?: unknown } }>,
  name: string
): Promise<{ readonly experiment: string; readonly control: string; readonly treatment: string }> => {
  const control = (await register("variant-a")).body.id as string
  const treatment = (await register("variant-b")).body.id as string
  const experiment = (await call("POST", "/v1/experiments", {
    name,
    targetMetric: "ctr",
    variants: [
      { modelId: control, isControl: true, trafficPct: 50 },
      { modelId: treatment, isControl: false, trafficPct: 50 }
    ]
  })).body.id as string
  const started = await call("POST", `/v1/experiments/${experiment}/start`)
  if (started.status !== 200) throw new Error(`experiment did not start: ${JSON.stringify(started.body)}`)
  return { experiment, control, treatment }
}
