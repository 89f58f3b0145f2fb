// Alias moves racing through three real server processes on one shared storage (Redis; PostgreSQL):
// every move targets a different version, so each one must move the pointer. The registered
// model's audit trail holds every move exactly once, each starting where the previous one left the
// alias, and every instance resolves the alias to the last audited move.
import { freshDatabase, type TestDatabase } from "@org/ml-adapter-postgres/testing"
import { connectOrFail, deleteKeysWithPrefix, redisUrl, uniquePrefix } from "@org/ml-adapter-redis/testing"
import * as fs from "node:fs/promises"
import * as os from "node:os"
import * as path from "node:path"
import { afterAll, describe, expect, it } from "vitest"
import { metadata } from "./helpers.js"
import { killHard, type ListeningServer, startServer } from "./serverProcess.js"

const redis = await connectOrFail()
const prefix = uniquePrefix("alias-instances")
const databases: Array<TestDatabase> = []
const servers: Array<ListeningServer> = []
const directories: Array<string> = []
afterAll(async () => {
  await Promise.all(servers.map((server) => killHard(server.child)))
  await Promise.all(databases.map((database) => database.drop()))
  await deleteKeysWithPrefix(redis, prefix)
  await redis.quit()
  await Promise.all(directories.map((d) => fs.rm(d, { recursive: true, force: true })))
})

const startThree = async (env: Record<string, string>) => {
  const started: Array<ListeningServer> = []
  for (let i = 0; i < 3; i++) {
    const directory = await fs.mkdtemp(path.join(os.tmpdir(), "ml-alias-instances-"))
    directories.push(directory)
    const server = await startServer(directory, env)
    servers.push(server)
    started.push(server)
  }
  return started
}

const call = async (url: string, method: string, body?: unknown) => {
  const response = await fetch(url, {
    method,
    headers: { "content-type": "application/json" },
    ...(body === undefined ? {} : { body: JSON.stringify(body) })
  })
  return { status: response.status, body: await response.json() as any }
}

const storages: ReadonlyArray<readonly [string, () => Promise<Record<string, string>>]> = [
  ["Redis", async () => ({ ML_REDIS_URL: redisUrl, ML_REDIS_PREFIX: prefix })],
  ["PostgreSQL", async () => {
    const database = await freshDatabase("alias_instances")
    databases.push(database)
    return { ML_DATABASE_URL: database.url }
  }]
]

describe.each(storages)("alias moves through three server processes on %s", (_, storageEnv) => {
  it("leave one pointer, the last of a complete audited chain of moves", async () => {
    const instances = await startThree(await storageEnv())
    const name = `raced-${Math.random().toString(36).slice(2, 10)}`
    const versions: Array<{ id: string }> = []
    for (let i = 0; i < 18; i++) {
      const created = await call(`${instances[0]!.url}/v1/models`, "POST", metadata({ name, version: `${i}` }))
      expect(created.status).toBe(201)
      versions.push(created.body)
    }
    const moves = await Promise.all(
      versions.map((version, i) =>
        call(`${instances[i % 3]!.url}/v1/registered-models/${name}/aliases/champion`, "PUT", { modelId: version.id })
      )
    )
    expect(moves.map((m) => m.status)).toEqual(versions.map(() => 200))
    const history = await call(`${instances[1]!.url}/v1/registered-models/${name}/history`, "GET")
    const chain = (history.body as Array<{ action: string; changes: { modelId: { from: string; to: string } } }>)
      .filter((e) => e.action === "alias_set")
      .map((e) => e.changes.modelId)
    expect(chain.map((link) => link.to).sort()).toEqual(versions.map((v) => v.id).sort())
    expect(chain[0]!.from).toBeNull()
    for (let i = 1; i < chain.length; i++) expect(chain[i]!.from).toBe(chain[i - 1]!.to)
    const resolved = await Promise.all(
      instances.map((instance) => call(`${instance.url}/v1/registered-models/${name}/aliases/champion`, "GET"))
    )
    expect(resolved.map((r) => r.body.id)).toEqual(instances.map(() => chain.at(-1)!.to))
    const detail = await call(`${instances[2]!.url}/v1/registered-models/${name}`, "GET")
    expect(detail.body.aliases).toEqual({ champion: chain.at(-1)!.to })
  }, 180_000)
})
