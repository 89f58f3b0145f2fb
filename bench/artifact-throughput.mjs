// Artifact streaming benchmark: a 1 GiB upload and download through the real server process,
// with the server's peak RSS against its idle RSS, and the server's SHA-256 verification pass
// against raw node:crypto hashing of the same bytes, measured side by side in this one run.
//
//   npm run bench            (or: node bench/artifact-throughput.mjs [sizeMiB])
//
// Targets (issue 2): server RSS growth under 64 MiB; hashing at >= 80% of raw node:crypto.
import { FsArtifactStore } from "@org/ml-adapter-fs"
import { Sha256 } from "@org/ml-sdk"
import { Effect } from "effect"
import { createHash, randomFillSync } from "node:crypto"
import * as fs from "node:fs/promises"
import * as path from "node:path"
import { fileURLToPath } from "node:url"
import { median, startServerProcess, timedArtifactRoundTrip } from "./lib.mjs"

const here = path.dirname(fileURLToPath(import.meta.url))
const sizeMiB = Number(process.argv[2] ?? 1024)
const total = sizeMiB * 1024 * 1024
const chunkSize = 1024 * 1024
const block = randomFillSync(new Uint8Array(chunkSize))
const dataDir = path.join(here, ".tmp", `run-${Date.now()}`)
await fs.mkdir(dataDir, { recursive: true })
const mib = (bytes) => (bytes / 1024 / 1024).toFixed(1)
const rate = (bytes, ms) => `${(bytes / 1024 / 1024 / (ms / 1000)).toFixed(0)} MiB/s`

const procStatus = async (pid, field) => {
  const text = await fs.readFile(`/proc/${pid}/status`, "utf8")
  return Number(new RegExp(`^${field}:\\s+(\\d+) kB`, "m").exec(text)[1]) * 1024
}

const { url, child: server, stop } = await startServerProcess({
  ML_MODEL_STORAGE_DIR: dataDir,
  ML_MAX_UPLOAD_BYTES: String(total * 2)
})

try {
  // Warm up (JIT, first request paths), then take the idle baseline.
  for (let i = 0; i < 20; i++) await (await fetch(`${url}/healthz`)).text()
  await new Promise((r) => setTimeout(r, 1000))
  const idleRss = await procStatus(server.pid, "VmRSS")

  const { downloadMs, model, uploaded, uploadMs } = await timedArtifactRoundTrip(url, total, block)
  const peakRss = await procStatus(server.pid, "VmHWM")

  // Hashing: the server's verification pass (FsArtifactStore.open hashes the stored file
  // through a FileHandle before serving) against raw node:crypto over 256 MiB of distinct bytes
  // in memory (not one cache-resident block), alternating five rounds; medians are compared.
  const store = await Effect.runPromise(FsArtifactStore.make({ directory: dataDir }))
  let started
  const rawSource = randomFillSync(new Uint8Array(Math.min(total, 256 * chunkSize)))
  const verifyRounds = []
  const rawRounds = []
  for (let round = 0; round < 5; round++) {
    started = performance.now()
    const stream = await Effect.runPromise(store.open(model.id, uploaded.artifact))
    verifyRounds.push(performance.now() - started)
    await stream.cancel()
    started = performance.now()
    const raw = createHash("sha256")
    for (let done = 0; done < total; done += rawSource.length) {
      for (let offset = 0; offset < rawSource.length; offset += chunkSize) {
        raw.update(rawSource.subarray(offset, offset + chunkSize))
      }
    }
    raw.digest("hex")
    rawRounds.push(performance.now() - started)
  }
  const verifyMs = median(verifyRounds)
  const rawMs = median(rawRounds)

  // The SDK's portable (pure TypeScript) streaming SHA-256, for information: 64 MiB.
  const jsBytes = 64 * chunkSize
  started = performance.now()
  const js = new Sha256()
  for (let offset = 0; offset < jsBytes; offset += chunkSize) js.update(block)
  js.digestHex()
  const jsMs = performance.now() - started

  const growth = peakRss - idleRss
  console.log(`artifact size:                 ${mib(total)} MiB`)
  console.log(`upload (stream, hash, fsync):  ${(uploadMs / 1000).toFixed(2)} s  ${rate(total, uploadMs)}`)
  console.log(`download (verify, stream):     ${(downloadMs / 1000).toFixed(2)} s  ${rate(total, downloadMs)}`)
  console.log(`server RSS idle / peak:        ${mib(idleRss)} MiB / ${mib(peakRss)} MiB`)
  console.log(
    `server RSS growth:             ${mib(growth)} MiB  (target < 64 MiB: ${
      growth < 64 * 1024 * 1024 ? "met" : "MISSED"
    })`
  )
  console.log(`raw node:crypto SHA-256:       ${rate(total, rawMs)}`)
  console.log(
    `server verification pass:      ${rate(total, verifyMs)}  ratio ${
      (rawMs / verifyMs).toFixed(2)
    } of raw (target >= 0.80: ${rawMs / verifyMs >= 0.8 ? "met" : "MISSED"})`
  )
  console.log(
    `SDK pure-TS SHA-256 (64 MiB):  ${rate(jsBytes, jsMs)}  ratio ${
      ((jsBytes / jsMs) / (total / rawMs)).toFixed(2)
    } of raw`
  )
} finally {
  await stop()
  await fs.rm(dataDir, { recursive: true, force: true })
}
