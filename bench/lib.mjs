// Shared by the benchmarks: the real server as a child process.
import { spawn } from "node:child_process"
import * as path from "node:path"
import { fileURLToPath } from "node:url"

const here = path.dirname(fileURLToPath(import.meta.url))

/** Starts apps/server/dist/main.js on a free port with `env`; resolves with its URL and process. */
export const startServerProcess = async (env) => {
  const child = spawn(process.execPath, [path.join(here, "../apps/server/dist/main.js")], {
    env: { ...process.env, ML_PORT: "0", ...env },
    stdio: ["ignore", "pipe", "inherit"]
  })
  const url = await new Promise((resolve, reject) => {
    let out = ""
    child.stdout.on("data", (chunk) => {
      out += chunk
      const match = /listening on (http:\/\/[^ ]+)/.exec(out)
      if (match) resolve(match[1])
    })
    child.on("exit", (code) => reject(new Error(`server exited ${code}`)))
  })
  const stop = () =>
    new Promise((resolve) => {
      child.on("exit", resolve)
      child.kill("SIGTERM")
    })
  return { url, child, stop }
}

/** Median of a list of numbers. */
export const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]

/** Deletes only the keys this run wrote (never FLUSHDB: the Redis may be shared). */
export const deleteKeysWithPrefix = async (redis, prefix) => {
  let cursor = "0"
  do {
    const [next, keys] = await redis.scan(cursor, "MATCH", `${prefix}*`, "COUNT", 1000)
    cursor = next
    if (keys.length) await redis.del(...keys)
  } while (cursor !== "0")
}
