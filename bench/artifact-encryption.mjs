// Encryption-at-rest benchmark: upload and download throughput through two real server
// processes, one storing plaintext and one with ML_ARTIFACT_ENCRYPTION_KEY (AES-256-GCM in
// 64 KiB authenticated chunks), rounds alternating between them in this one run; medians compared.
//
//   node bench/artifact-encryption.mjs [sizeMiB=256] [rounds=3]
//
// Target (issue 12): throughput with encryption >= 0.7 of without, both ways.
import { createHash, randomBytes, randomFillSync } from "node:crypto"
import * as fs from "node:fs/promises"
import * as path from "node:path"
import { fileURLToPath } from "node:url"
import { median, startServerProcess } from "./lib.mjs"

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

/** One upload and one download of `total` bytes; returns both durations in ms. */
const roundTrip = async (url) => {
  const model = await (await fetch(`${url}/v1/models`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({
      name: "bench",
      version: randomBytes(6).toString("hex"),
      algorithm: "none",
      framework: "none"
    })
  })).json()
  let sent = 0
  const clientHash = createHash("sha256")
  const body = new ReadableStream({
    pull(controller) {
      if (sent >= total) return controller.close()
      sent += chunkSize
      clientHash.update(block)
      controller.enqueue(block.slice())
    }
  }, { highWaterMark: 4 })
  let started = performance.now()
  const response = await fetch(`${url}/v1/models/${model.id}/artifact`, {
    method: "PUT",
    body,
    duplex: "half",
    headers: { "content-type": "application/octet-stream" }
  })
  const uploaded = await response.json()
  const uploadMs = performance.now() - started
  if (response.status !== 200) throw new Error(`upload failed: ${JSON.stringify(uploaded)}`)
  const expected = clientHash.digest("hex")
  if (uploaded.artifact.sha256 !== expected) throw new Error("server digest differs from client digest")

  started = performance.now()
  const download = await fetch(`${url}/v1/models/${model.id}/artifact`)
  const downloadHash = createHash("sha256")
  let received = 0
  for await (const chunk of download.body) {
    received += chunk.byteLength
    downloadHash.update(chunk)
  }
  const downloadMs = performance.now() - started
  if (received !== total || downloadHash.digest("hex") !== expected) throw new Error("download differs from upload")
  return { uploadMs, downloadMs }
}

const plain = await start("plain", {})
const encrypted = await start("encrypted", { ML_ARTIFACT_ENCRYPTION_KEY: randomBytes(32).toString("base64") })
try {
  const results = { plain: [], encrypted: [] }
  for (let round = 0; round < rounds; round++) {
    // Alternate which goes first, so neither always gets the warmer page cache.
    const order = round % 2 === 0 ? ["plain", "encrypted"] : ["encrypted", "plain"]
    for (const name of order) results[name].push(await roundTrip(name === "plain" ? plain.url : encrypted.url))
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
} finally {
  await plain.stop()
  await encrypted.stop()
  await fs.rm(plain.dataDir, { recursive: true, force: true })
  await fs.rm(encrypted.dataDir, { recursive: true, force: true })
}
