// Servers on a real three-master Redis Cluster this file starts itself (own ports, own temp
// directories, stopped afterwards) through ML_REDIS_CLUSTER_NODES: two instances serve
// registration, promotion and sticky assignments to each other, /readyz follows the cluster state,
// and the keys spread over more than one node. The configuration refuses ambiguous settings. A
// second cluster requires a password and TLS: the server starts with rediss://user:password@...
// and ML_REDIS_TLS_CA, and names the variable to change when either is wrong.
import { makeTlsFiles, startLocalCluster } from "@org/ml-adapter-redis/testing"
import * as fs from "node:fs/promises"
import * as os from "node:os"
import * as path from "node:path"
import { inspect } from "node:util"
import { afterAll, describe, expect, it } from "vitest"
import { ConfigError, loadConfig, startServer } from "../src/index.js"
import { metadata } from "./helpers.js"

const cluster = await startLocalCluster()
// Nodes that require a user's password (an ACL user made below) and serve TLS only.
const tlsFiles = await makeTlsFiles()
const password = "admin-p@ss"
const secured = await startLocalCluster({ password, tls: tlsFiles })
await secured.onEveryNode("ACL", "SETUSER", "ml-app", "on", ">app p@ss/word", "~*", "&*", "+@all")
afterAll(async () => {
  await cluster.stop()
  await secured.stop()
  await tlsFiles.remove()
})

const post = (url: string, body: unknown) =>
  fetch(url, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(body) })

describe("server with ML_REDIS_CLUSTER_NODES", () => {
  it("serves register, promote, assignments and /readyz from two instances on the cluster", async () => {
    // Artifacts live on a filesystem the instances share, as in any Redis deployment.
    const dir = await fs.mkdtemp(path.join(os.tmpdir(), "ml-cluster-server-"))
    const before = await cluster.keysPerNode()
    const servers = await Promise.all([0, 1].map(() =>
      startServer(
        loadConfig({
          ML_MODEL_STORAGE_DIR: dir,
          ML_PORT: "0",
          ML_REDIS_CLUSTER_NODES: cluster.nodesSetting,
          ML_REDIS_PREFIX: "srv:",
          ML_AB_REWEIGHT_INTERVAL: "0"
        }),
        () => undefined
      )
    ))
    try {
      const [one, two] = [servers[0]!.url, servers[1]!.url]
      for (const url of [one, two]) expect((await fetch(`${url}/readyz`)).status).toBe(200)
      const ids: Array<string> = []
      for (const version of ["1", "2"]) {
        const created = await post(`${one}/v1/models`, metadata({ name: "clustered", version }))
        expect(created.status).toBe(201)
        const id = ((await created.json()) as { id: string }).id
        const uploaded = await fetch(`${one}/v1/models/${id}/artifact`, { method: "PUT", body: new Uint8Array([1, 2]) })
        expect(uploaded.status).toBe(200)
        ids.push(id)
      }
      // Promoted on the other instance; the second production version demotes the first in one script.
      for (const id of ids) {
        for (const status of ["testing", "staging", "production"]) {
          expect((await post(`${two}/v1/models/${id}/promote`, { status, reason: "cluster" })).status).toBe(200)
        }
      }
      const production = (await (await fetch(`${one}/v1/registry/clustered/production`)).json()) as { id: string }
      expect(production.id).toBe(ids[1])
      const first = (await (await fetch(`${one}/v1/models/${ids[0]}`)).json()) as { status: string }
      expect(first.status).toBe("archived")

      const challenger = await post(`${two}/v1/models`, metadata({ name: "clustered", version: "3" }))
      const variants = [ids[1]!, ((await challenger.json()) as { id: string }).id]
      const experiments: Array<string> = []
      for (let i = 0; i < 6; i++) {
        const created = await post(`${one}/v1/experiments`, {
          name: `clustered-${i}`,
          targetMetric: "ctr",
          variants: variants.map((modelId, v) => ({ modelId, isControl: v === 0, trafficPct: 50 }))
        })
        const experiment = (await created.json()) as { id: string }
        expect(created.status, JSON.stringify(experiment)).toBe(201)
        expect((await post(`${two}/v1/experiments/${experiment.id}/start`, {})).status).toBe(200)
        experiments.push(experiment.id)
      }
      for (const id of experiments) {
        const answers = await Promise.all(
          Array.from(
            { length: 10 },
            (_, i) =>
              post(`${servers[i % 2]!.url}/v1/experiments/${id}/assignments`, { userId: "one-user" })
                .then((r) => r.json() as Promise<{ modelId: string; sticky: boolean }>)
          )
        )
        expect(new Set(answers.map((a) => a.modelId)).size).toBe(1)
        expect(answers.every((a) => a.sticky)).toBe(true)
      }
      const after = await cluster.keysPerNode()
      expect(after.filter((count, i) => count > before[i]!).length).toBeGreaterThan(1)

      // Last: a cluster that cannot serve every slot is not ready, and /readyz names the node.
      await cluster.uncoverSlot()
      const notReady = await fetch(`${one}/readyz`)
      expect(notReady.status).toBe(503)
      expect(await notReady.text()).toContain("cluster_state:fail")
    } finally {
      await Promise.all(servers.map((server) => server.close()))
      await fs.rm(dir, { recursive: true, force: true })
    }
  })

  it("refuses ML_REDIS_URL together with ML_REDIS_CLUSTER_NODES, a bad node and a prefix holding a hash tag", () => {
    expect(() => loadConfig({ ML_REDIS_URL: "redis://127.0.0.1:6379", ML_REDIS_CLUSTER_NODES: "127.0.0.1:7000" }))
      .toThrow(/ML_REDIS_CLUSTER_NODES: set either/)
    expect(() => loadConfig({ ML_REDIS_CLUSTER_NODES: "127.0.0.1:7000,nohost" })).toThrow(
      /ML_REDIS_CLUSTER_NODES: .*"nohost"/
    )
    expect(() => loadConfig({ ML_REDIS_CLUSTER_NODES: "127.0.0.1:7000", ML_REDIS_PREFIX: "{ml}:" })).toThrow(
      /ML_REDIS_PREFIX: must not hold a hash tag/
    )
  })
  it("refuses ML_REDIS_TLS_CA without rediss://, and never prints the cluster password", () => {
    for (
      const env of [{ ML_REDIS_URL: "redis://127.0.0.1:6379" }, { ML_REDIS_CLUSTER_NODES: "redis://127.0.0.1:7000" }]
    ) {
      expect(() => loadConfig({ ...env, ML_REDIS_TLS_CA: "/etc/ca.pem" })).toThrow(/ML_REDIS_TLS_CA: is for TLS/)
    }
    const config = loadConfig({
      ML_REDIS_CLUSTER_NODES: "rediss://ml-app:very%2Fsecret@h1:7000,h2:7001",
      ML_REDIS_TLS_CA: "/etc/ca.pem"
    })
    expect(config.redisClusterNodes).toEqual([{ host: "h1", port: 7000 }, { host: "h2", port: 7001 }])
    expect(config.redisClusterTls).toBe(true)
    for (
      const printed of [inspect(config, { depth: 10 }), JSON.stringify(config), String(config.redisClusterCredentials)]
    ) {
      expect(printed).not.toContain("very")
    }
    // A bad entry is named; the password in front of it is not repeated.
    const error = (() => {
      try {
        loadConfig({ ML_REDIS_CLUSTER_NODES: "rediss://ml-app:very%2Fsecret@h1:7000,h2" })
      } catch (error) {
        return error
      }
    })()
    expect(error).toBeInstanceOf(ConfigError)
    expect(String(error)).toContain(`"h2"`)
    expect(String(error)).not.toContain("very")
  })
})

describe("server with ML_REDIS_CLUSTER_NODES on a cluster requiring a password and TLS", () => {
  const nodes = secured.nodes.map(({ host, port }) => `${host}:${port}`).join(",")
  const start = (dir: string, env: Record<string, string>) =>
    startServer(
      loadConfig({ ML_MODEL_STORAGE_DIR: dir, ML_PORT: "0", ML_AB_REWEIGHT_INTERVAL: "0", ...env }),
      () => undefined
    )
  const startError = (dir: string, env: Record<string, string>) =>
    start(dir, env).then(async (server) => {
      await server.close()
      return "started"
    }, (error: Error) => error.message)

  it("serves with the user's password and the CA, and names the variable when either is wrong", async () => {
    const dir = await fs.mkdtemp(path.join(os.tmpdir(), "ml-cluster-secured-"))
    try {
      const secure = `rediss://ml-app:${encodeURIComponent("app p@ss/word")}@${nodes}`
      const wrong = await startError(dir, {
        ML_REDIS_CLUSTER_NODES: `rediss://ml-app:not-it@${nodes}`,
        ML_REDIS_TLS_CA: tlsFiles.caCert
      })
      expect(wrong).toContain("Redis refused the user name or password in ML_REDIS_CLUSTER_NODES")
      expect(wrong).not.toContain("not-it@")
      const untrusted = await startError(dir, { ML_REDIS_CLUSTER_NODES: secure })
      expect(untrusted).toContain("set ML_REDIS_TLS_CA to the CA certificate that signed it")
      const server = await start(dir, { ML_REDIS_CLUSTER_NODES: secure, ML_REDIS_TLS_CA: tlsFiles.caCert })
      try {
        expect((await fetch(`${server.url}/readyz`)).status).toBe(200)
        const created = await post(`${server.url}/v1/models`, metadata({ name: "secured-cluster" }))
        expect(created.status).toBe(201)
        const { id } = (await created.json()) as { id: string }
        expect((await fetch(`${server.url}/v1/models/${id}`)).status).toBe(200)
      } finally {
        await server.close()
      }
    } finally {
      await fs.rm(dir, { recursive: true, force: true })
    }
  })
})
