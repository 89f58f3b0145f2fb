// Encryption-at-rest benchmark: upload and download throughput through two real server
// processes, one storing plaintext and one with ML_ARTIFACT_ENCRYPTION_KEY (AES-256-GCM in
// 1 MiB authenticated chunks), rounds alternating between them in this one run; medians compared.
// Also each server's CPU time per operation (Linux): the wall-clock ratio swings with the load of
// a shared machine, the CPU ratio much less.
//
//   node bench/artifact-encryption.mjs [sizeMiB=256] [rounds=3]
//
// Target (issue 12): throughput with encryption >= 0.7 of without, both ways.
import { randomBytes, randomFillSync } from "node:crypto"
import * as fs from "node:fs/promises"
import * as path from "node:path"
import { fileURLToPath } from "node:url"
import { median, startServerProcess, timedArtifactRoundTrip } from "./lib.mjs"

const here = path.dirname(fileURLToPath(import.meta.url))
const sizeMiB = Number(process.argv[2] ?? 256)
const rounds = Number(process.argv[3] ?? 3)
const total = sizeMiB * 1024 * 1024
const chunkSize = 1024 * 1024
const block = randomFillSync(new Uint8Array(chunkSize))
const rate = (ms) => total / 1024 / 1024 / (ms / 1000)

const start = async (name, env) => {
  const dataDir = path.join(here, ".tmp", `encryption-${name}-${Date.now()}`)
  await fs.mkdir(dataDir, { recursive: true })
  const server = await startServerProcess({
    ML_MODEL_STORAGE_DIR: dataDir,
    ML_MAX_UPLOAD_BYTES: String(total * 2),
    ...env
  })
  return { ...server, dataDir }
}

/** One upload and one download of `total` bytes; with both durations in ms. */
const roundTrip = (server) => timedArtifactRoundTrip(server.url, total, block, server.child.pid)

const plain = await start("plain", {})
const encrypted = await start("encrypted", { ML_ARTIFACT_ENCRYPTION_KEY: randomBytes(32).toString("base64") })
try {
  const results = { plain: [], encrypted: [] }
  for (let round = 0; round < rounds; round++) {
    // Alternate which goes first, so neither always gets the warmer page cache.
    const order = round % 2 === 0 ? ["plain", "encrypted"] : ["encrypted", "plain"]
    for (const name of order) results[name].push(await roundTrip(name === "plain" ? plain : encrypted))
  }
  const onDisk = (await fs.readdir(path.join(encrypted.dataDir, "artifacts"), { recursive: true }))
    .filter((name) => name.endsWith(".enc")).length
  if (onDisk !== rounds) throw new Error(`expected ${rounds} encrypted files on disk, found ${onDisk}`)
  const summary = (name, key) => rate(median(results[name].map((r) => r[key])))
  console.log(`artifact size ${sizeMiB} MiB, ${rounds} rounds per mode, medians`)
  for (const [label, key] of [["upload", "uploadMs"], ["download", "downloadMs"]]) {
    const without = summary("plain", key)
    const withEncryption = summary("encrypted", key)
    const ratio = withEncryption / without
    console.log(
      `${label.padEnd(9)} plaintext ${without.toFixed(0)} MiB/s, encrypted ${withEncryption.toFixed(0)} MiB/s, ` +
        `ratio ${ratio.toFixed(2)} (target >= 0.70: ${ratio >= 0.7 ? "met" : "MISSED"})`
    )
  }
  const cpuKeys = [["upload", "uploadCpuMs"], ["download", "downloadCpuMs"]]
  if (results.plain.every((r) => r.uploadCpuMs !== undefined)) {
    for (const [label, key] of cpuKeys) {
      const without = median(results.plain.map((r) => r[key]))
      const withEncryption = median(results.encrypted.map((r) => r[key]))
      console.log(
        `${label.padEnd(9)} server CPU ms: plaintext ${without.toFixed(0)}, encrypted ${withEncryption.toFixed(0)}, ` +
          `ratio (plaintext / encrypted) ${(without / withEncryption).toFixed(2)}`
      )
    }
  }
} finally {
  await plain.stop()
  await encrypted.stop()
  await fs.rm(plain.dataDir, { recursive: true, force: true })
  await fs.rm(encrypted.dataDir, { recursive: true, force: true })
}
