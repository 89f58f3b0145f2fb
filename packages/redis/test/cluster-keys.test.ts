// The two key layouts: the single-Redis one is byte-identical to what earlier releases wrote (so
// existing data is read without migration); the cluster one puts each entity's keys in one slot.
import { describe, expect, it } from "vitest"
import { RedisCluster, RedisKeys } from "../src/index.js"

/** The part of a key Redis Cluster hashes: the first non-empty {...}, else the whole key. */
const hashed = (key: string) => {
  const open = key.indexOf("{")
  const close = open < 0 ? -1 : key.indexOf("}", open + 1)
  return close > open + 1 ? key.slice(open + 1, close) : key
}

describe("Redis key layouts", () => {
  it("keep the single-Redis keys of earlier releases", () => {
    expect(RedisKeys.registryKeys("p:").model("m1")).toBe("p:ml:model:m1")
    expect(RedisKeys.instanceKey("p:")).toBe("p:ml:instance")
    expect(RedisKeys.experimentKeys("p:").assignment("e1", "u:1")).toBe("p:ab:assignment:e1:u%3A1")
    expect(RedisKeys.driftKeys("p:").window("numeric", "d1", "age")).toBe("p:drift:stats:numeric:d1:age")
    expect(RedisKeys.pipelineKeys("p:").part("p1", "buffer")).toBe("p:ml:pipeline:p1:buffer")
    expect(RedisKeys.keyStorePrefix("p:")).toBe("p:")
  })

  it("put every key one script touches in one slot, and different entities in different slots", () => {
    const experiment = RedisKeys.experimentKeys("p:", true)
    const experimentSlots = new Set(
      [experiment.experiment("e1"), experiment.assignment("e1", "u{1}"), experiment.exposures("e1")]
        .concat([experiment.exposureDays("e1"), experiment.metrics("e1")]).map(hashed)
    )
    expect([...experimentSlots]).toEqual(["e1"])
    expect(hashed(experiment.experiment("e2"))).toBe("e2")

    const drift = RedisKeys.driftKeys("p:", true)
    const window = drift.window("numeric", "d1", "a:b")
    expect(new Set([window, drift.windowMeta(window), drift.baselines("d1", "a:b")].map(hashed))).toEqual(
      new Set(["d1"])
    )

    const pipeline = RedisKeys.pipelineKeys("p:", true)
    expect(
      new Set(
        (["buffer", "seen", "seen-order", "counters", "progressive"] as const).map((part) =>
          hashed(pipeline.part("p1", part))
        )
      )
    ).toEqual(new Set(["p1"]))

    const registry = RedisKeys.registryKeys("p:", true)
    expect(
      new Set(
        [registry.model("m1"), registry.index(), registry.counts(), registry.production("n"), registry.auditOfName("n")]
          .concat([registry.nameVersion("n", "1"), RedisKeys.instanceKey("p:", true)]).map(hashed)
      )
    ).toEqual(new Set(["ml-registry"]))
  })

  it("parses ML_REDIS_CLUSTER_NODES and names a bad entry", () => {
    expect(RedisCluster.parseClusterNodes("127.0.0.1:7000, redis-b:7001,[::1]:7002")).toEqual([
      { host: "127.0.0.1", port: 7000 },
      { host: "redis-b", port: 7001 },
      { host: "::1", port: 7002 }
    ])
    expect(RedisCluster.parseClusterNodes("127.0.0.1:7000,redis-b")).toContain(`"redis-b"`)
    expect(RedisCluster.parseClusterNodes("h:70000")).toContain("port 1-65535")
    expect(RedisCluster.parseClusterNodes(" , ")).toContain("at least one")
  })
  it("takes credentials and TLS for every node in URL form, as ML_REDIS_URL is written", () => {
    expect(RedisCluster.parseClusterSetting("h1:7000,h2:7001")).toEqual({
      nodes: [{ host: "h1", port: 7000 }, { host: "h2", port: 7001 }],
      credentials: undefined,
      tls: false
    })
    expect(RedisCluster.parseClusterSetting("rediss://ml-app:p%40ss%3Aw%2Crd@h1:7000, h2:7001")).toEqual({
      nodes: [{ host: "h1", port: 7000 }, { host: "h2", port: 7001 }],
      credentials: { username: "ml-app", password: "p@ss:w,rd" },
      tls: true
    })
    // No user name: the default user (AUTH password); an unencoded @ in the password still parses.
    expect(RedisCluster.parseClusterSetting("redis://:se@cret@h1:7000")).toEqual({
      nodes: [{ host: "h1", port: 7000 }],
      credentials: { username: undefined, password: "se@cret" },
      tls: false
    })
    expect(RedisCluster.parseClusterSetting("REDISS://h1:7000")).toMatchObject({ credentials: undefined, tls: true })
  })

  it("never repeats a password in its errors", () => {
    for (
      const text of ["ml:hunter2secret@h1:7000", "redis://ml:hunter2secret%zz@h1:7000", "redis://ml:hunter2secret@h1"]
    ) {
      const error = RedisCluster.parseClusterSetting(text)
      expect(typeof error).toBe("string")
      expect(error).not.toContain("hunter2secret")
    }
    expect(RedisCluster.parseClusterSetting("ml:hunter2secret@h1:7000")).toContain("redis://user:password@")
    expect(RedisCluster.parseClusterSetting("redis://ml:%zz@h1:7000")).toContain("percent-encoding")
  })
})
