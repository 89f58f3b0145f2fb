/**
 * What depends on the terminal: the progress bar is drawn on stderr only when stderr is a TTY
 * (run under a pseudo-terminal with util-linux `script`), never when piped; stdout stays clean
 * JSON either way. Also --help on every command (with an example) and bash completion.
 */
import type { Command } from "commander"
import { execFile, execFileSync } from "node:child_process"
import { createHash } from "node:crypto"
import * as fs from "node:fs"
import * as http from "node:http"
import * as path from "node:path"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { makeProgram, run } from "../src/Cli.js"
import { killHard, type ListeningServer, mainJs, mlAgainst, startServer, tempDirectory } from "./cli.js"

let server: ListeningServer
const work = tempDirectory("tty")
const artifact = path.join(work, "model.bin")
const bytes = new Uint8Array(3 << 20).map((_, i) => (i * 31) % 256)

beforeAll(async () => {
  server = await startServer(tempDirectory("tty-data"))
  fs.writeFileSync(artifact, bytes)
})
afterAll(async () => {
  await killHard(server.child)
  fs.rmSync(work, { recursive: true, force: true })
})

const shellQuote = (s: string) => `'${s.replace(/'/g, "'\\''")}'`

/** Runs `ml args > stdoutFile` under a pseudo-terminal; returns what the terminal showed. */
const underTerminal = (args: ReadonlyArray<string>, stdoutFile: string): Promise<string> =>
  new Promise((resolve, reject) => {
    const command = [process.execPath, mainJs, ...args].map(shellQuote).join(" ") + ` > ${shellQuote(stdoutFile)}`
    execFile(
      "script",
      ["-qec", command, "/dev/null"],
      { env: { ...process.env, ML_SERVER_URL: server.url } },
      (error, out) => error ? reject(error) : resolve(out)
    )
  })

const registerArgs = (
  version: string
) => [
  "models",
  "register",
  "--name",
  "tty",
  "--version",
  version,
  "--algorithm",
  "a",
  "--framework",
  "f",
  "--artifact",
  artifact,
  "--json"
]

describe("progress", () => {
  it("on a terminal: hashing and upload bars on stderr, then download; stdout is only the JSON", async () => {
    const out = path.join(work, "register.json")
    const terminal = await underTerminal(registerArgs("1"), out)
    expect(terminal).toMatch(/hashing +\[#+\] 100% 3\.0 MiB \/ 3\.0 MiB/)
    expect(terminal).toMatch(/uploading \[-+\] +0% 0 B \/ 3\.0 MiB/)
    expect(terminal).toMatch(/uploading \[#+\] 100% 3\.0 MiB \/ 3\.0 MiB/)
    const model = JSON.parse(fs.readFileSync(out, "utf8"))
    expect(model.artifact.sha256).toBe(createHash("sha256").update(bytes).digest("hex"))

    const copy = path.join(work, "copy.bin")
    const shown = await underTerminal(
      ["models", "download", model.id, "--out", copy, "--json"],
      path.join(work, "download.json")
    )
    expect(shown).toMatch(/downloading \[#+\] 100% 3\.0 MiB \/ 3\.0 MiB/)
    // Compared as Buffers: a deep equality of 3 MiB element by element takes seconds.
    expect(fs.readFileSync(copy).equals(bytes)).toBe(true)
  })

  it("piped: no progress and no control characters at all", async () => {
    const { ml } = mlAgainst(server.url)
    const ran = await ml(registerArgs("2"))
    expect(ran.code).toBe(0)
    expect(ran.stderr).toBe("")
    expect(JSON.parse(ran.stdout).artifact.sizeBytes).toBe(bytes.length)
    const download = await ml(["models", "download", JSON.parse(ran.stdout).id, "--out", path.join(work, "piped.bin")])
    expect(download).toMatchObject({ code: 0, stderr: "" })
    expect(download.stdout).not.toContain("\r")
    expect(download.stdout).not.toContain("\u001b")
  })
})

describe("upload digest", () => {
  it("sends the SHA-256 computed from the file as x-artifact-sha256, with the body streamed in chunks", async () => {
    // A recording proxy in front of the real server: what the CLI actually puts on the wire.
    const seen: Array<{ method: string; sha256: string | undefined; chunked: boolean }> = []
    const target = new URL(server.url)
    const proxy = http.createServer((request, response) => {
      seen.push({
        method: request.method!,
        sha256: request.headers["x-artifact-sha256"] as string | undefined,
        chunked: request.headers["transfer-encoding"] === "chunked"
      })
      const upstream = http.request(
        {
          host: target.hostname,
          port: target.port,
          path: request.url,
          method: request.method,
          headers: request.headers
        },
        (answer) => {
          response.writeHead(answer.statusCode!, answer.headers)
          answer.pipe(response)
        }
      )
      request.pipe(upstream)
    })
    await new Promise<void>((resolve) => proxy.listen(0, "127.0.0.1", resolve))
    const port = (proxy.address() as { port: number }).port
    try {
      const { json } = mlAgainst(`http://127.0.0.1:${port}`)
      const model = await json(registerArgs("3").slice(0, -1))
      const digest = createHash("sha256").update(bytes).digest("hex")
      expect(model.artifact.sha256).toBe(digest)
      expect(seen.filter((r) => r.method === "PUT")).toEqual([{ method: "PUT", sha256: digest, chunked: true }])
    } finally {
      proxy.close()
    }
  })
})

describe("help and completion", () => {
  const leaves = (command: Command, prefix: ReadonlyArray<string> = []): Array<Array<string>> =>
    command.commands.flatMap((c) => [[...prefix, c.name()], ...leaves(c, [...prefix, c.name()])])

  it("--help on every command: exit 0, usage and an example", async () => {
    const all = leaves(makeProgram({ stdout: process.stdout, stderr: process.stderr }, { exitCode: 0 }))
    expect(all.length).toBeGreaterThan(40)
    for (const path of [[], ...all]) {
      let text = ""
      const sink = { write: (chunk: string) => ((text += chunk), true) } as unknown as NodeJS.WritableStream
      const code = await run([...path, "--help"], { stdout: sink, stderr: sink })
      expect({ path, code }).toEqual({ path, code: 0 })
      expect(text, path.join(" ")).toContain(`Usage: ml ${path.join(" ")}`.trimEnd())
      expect(text, path.join(" ")).toMatch(/Examples?:\n {2}\$ /)
    }
  })

  it("bash completion completes commands, subcommands, options and file names", () => {
    const script = path.join(work, "ml.bash")
    fs.writeFileSync(script, execFileSync(process.execPath, [mainJs, "completion", "bash"]))
    fs.writeFileSync(path.join(work, "train.csv"), "")
    const complete = (...words: ReadonlyArray<string>) =>
      execFileSync("bash", [
        "-c",
        `source ${shellQuote(script)}; COMP_WORDS=(${words.map(shellQuote).join(" ")}); COMP_CWORD=${
          words.length - 1
        }; _ml; ` +
        `printf '%s\\n' "\${COMPREPLY[@]}"`
      ], { cwd: work, encoding: "utf8" }).trim().split("\n")
    expect(complete("ml", "")).toEqual([
      "models",
      "registered-models",
      "experiments",
      "served",
      "drift",
      "learner",
      "pipelines",
      "keys",
      "completion"
    ])
    expect(complete("ml", "models", "pro")).toEqual(["promote", "production"])
    expect(complete("ml", "drift", "monitor", "")).toEqual(["create", "list", "get"])
    expect(complete("ml", "models", "register", "--ar")).toEqual(["--artifact"])
    expect(complete("ml", "models", "list", "--js")).toEqual(["--json"])
    expect(complete("ml", "drift", "baseline", "set", "m1", "--csv", "tr")).toEqual(["train.csv"])
  })
})
