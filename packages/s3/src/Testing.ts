/**
 * Test helpers (exported as @org/ml-adapter-s3/testing): s3rver, a real S3-protocol server from
 * npm, in a child process on a free port of 127.0.0.1 with an empty bucket, for tests and the
 * bench (so CI needs nothing installed); `stop` ends it and removes its directory.
 */
import { spawn } from "node:child_process"
import * as fs from "node:fs/promises"
import * as os from "node:os"
import * as path from "node:path"
import { fileURLToPath } from "node:url"

export const s3rverScript = fileURLToPath(new URL("../testing/s3rver-process.mjs", import.meta.url))

/** s3rver's fixed account. */
export const s3rverCredentials = { accessKeyId: "S3RVER", secretAccessKey: "S3RVER" } as const

export interface RunningS3rver {
  readonly endpoint: string
  readonly bucket: string
  readonly directory: string
  readonly stop: () => Promise<void>
}

export const startS3rver = async (bucket = "ml-artifacts"): Promise<RunningS3rver> => {
  const directory = await fs.mkdtemp(path.join(os.tmpdir(), "ml-s3rver-"))
  const child = spawn(process.execPath, [s3rverScript, directory, bucket], { stdio: ["pipe", "pipe", "inherit"] })
  const port = await new Promise<number>((resolve, reject) => {
    let output = ""
    child.stdout.on("data", (data: Buffer) => {
      output += data.toString()
      const line = output.split("\n")[0]
      if (output.includes("\n")) resolve((JSON.parse(line!) as { port: number }).port)
    })
    child.once("exit", (code) => reject(new Error(`s3rver exited with ${code} before listening`)))
  })
  return {
    endpoint: `http://127.0.0.1:${port}`,
    bucket,
    directory,
    stop: async () => {
      const exited = new Promise((resolve) => child.once("exit", resolve))
      child.stdin.end()
      await exited
      await fs.rm(directory, { recursive: true, force: true })
    }
  }
}
