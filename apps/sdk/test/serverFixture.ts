/**
 * A real server on an ephemeral port over a fresh data directory, for the file's tests. The server
 * is imported from its build by path (see turbo.json: no package dependency, no cycle).
 */
import * as fs from "node:fs/promises"
import * as os from "node:os"
import * as path from "node:path"
import { afterAll, beforeAll } from "vitest"
import { loadConfig, type RunningServer, startServer } from "../../server/dist/index.js"

export const useServer = (env: Record<string, string> = {}) => {
  const handle: { server: RunningServer; url: string } = { server: undefined as never, url: "" }
  let directory = ""
  beforeAll(async () => {
    directory = await fs.mkdtemp(path.join(os.tmpdir(), "ml-sdk-"))
    handle.server = await startServer(
      loadConfig({ ML_MODEL_STORAGE_DIR: directory, ML_PORT: "0", ML_HOST: "127.0.0.1", ...env }),
      () => undefined
    )
    handle.url = handle.server.url
  })
  afterAll(async () => {
    await handle.server.close()
    await fs.rm(directory, { recursive: true, force: true })
  })
  return handle
}
