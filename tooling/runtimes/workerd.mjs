// Running code inside workerd, Cloudflare's Workers runtime (the npm package `workerd`), the way
// an edge deployment runs it: each worker is one esbuild bundle (ES module, Node built-ins
// through workerd's node: modules), every worker a service of one generated config, and
// `workerd test` calls each worker's `test` handler.
import { build } from "esbuild"
import { spawn } from "node:child_process"
import * as fs from "node:fs"
import { builtinModules, createRequire } from "node:module"
import * as path from "node:path"

const require = createRequire(import.meta.url)
const workerdBinary = require("workerd").default

// Jest's expect (through graceful-fs, jest-util) names Node built-ins without the node: prefix;
// workerd provides them (nodejs_compat) under node: names.
const nodeBuiltinsAsNodeSpecifiers = {
  name: "node-builtins",
  setup(build) {
    const builtins = new RegExp(`^(${builtinModules.join("|").replaceAll("/", "\\/")})$`)
    build.onResolve({ filter: builtins }, (args) => ({ path: `node:${args.path}`, external: true }))
  }
}

/** Bundles `entry` into `<directory>/<name>.mjs` as a worker module. */
export const bundleWorker = (entry, directory, name, alias = {}) =>
  build({
    entryPoints: [entry],
    outfile: path.join(directory, `${name}.mjs`),
    bundle: true,
    format: "esm",
    platform: "neutral",
    target: "es2022",
    mainFields: ["module", "main"],
    conditions: ["workerd", "worker", "browser"],
    alias,
    external: ["node:*"],
    plugins: [nodeBuiltinsAsNodeSpecifiers],
    // CommonJS dependencies (Jest's expect) require() built-ins, which an ES module bundle can
    // only serve through a require function of its own.
    banner: { js: `import { createRequire } from "node:module"\nconst require = createRequire("/")` },
    // The core declares "sideEffects": false, which would let esbuild drop a suite imported only
    // for its describe/it calls.
    ignoreAnnotations: true,
    logLevel: "error"
  })

// Outbound fetches may reach loopback and private addresses (workerd's default internet service
// allows public ones only): workers in tests talk to a server on 127.0.0.1.
const loopbackInternet = `(name = "internet", network = (allow = ["public", "private", "local"]))`

/**
 * Runs `workerd test` over the bundled workers named `names` in `directory` (see bundleWorker);
 * `stdio` as for spawn. Resolves to the exit status and, when piped, stdout and stderr.
 */
export const runWorkerdTests = (directory, names, stdio = "inherit") => {
  const config = `using Workerd = import "/workerd/workerd.capnp";
const config :Workerd.Config = (
  services = [ ${names.map((name) => `(name = "${name}", worker = .${name})`).join(", ")}, ${loopbackInternet} ],
);
${
    names.map((name) =>
      `const ${name} :Workerd.Worker = (
  modules = [ (name = "${name}.mjs", esModule = embed "${name}.mjs") ],
  compatibilityDate = "2026-11-01",
);`
    ).join("\n")
  }
`
  fs.writeFileSync(path.join(directory, "config.capnp"), config)
  // Not spawnSync: a worker may call a server running on this process's event loop.
  return new Promise((resolve, reject) => {
    const child = spawn(workerdBinary, ["test", "config.capnp"], { cwd: directory, stdio })
    let stdout = ""
    let stderr = ""
    child.stdout?.setEncoding("utf8").on("data", (chunk) => (stdout += chunk))
    child.stderr?.setEncoding("utf8").on("data", (chunk) => (stderr += chunk))
    child.once("error", reject)
    child.once("close", (status) => resolve({ status, stdout, stderr }))
  })
}

/**
 * Serves the bundled worker `<directory>/<name>.mjs` on 127.0.0.1:`port` with text `bindings`
 * (its `env`). Returns the workerd process.
 */
export const serveWorker = (directory, name, { bindings = {}, port }) => {
  const config = `using Workerd = import "/workerd/workerd.capnp";
const config :Workerd.Config = (
  services = [
    (name = "main", worker = .worker),
    ${loopbackInternet},
  ],
  sockets = [ (name = "http", address = "127.0.0.1:${port}", http = (), service = "main") ],
);
const worker :Workerd.Worker = (
  modules = [ (name = "${name}.mjs", esModule = embed "${name}.mjs") ],
  compatibilityDate = "2026-11-01",
  bindings = [ ${
    Object.entries(bindings).map(([key, value]) => `(name = "${key}", text = ${JSON.stringify(value)})`).join(", ")
  } ],
);
`
  fs.writeFileSync(path.join(directory, `${name}.capnp`), config)
  return spawn(workerdBinary, ["serve", `${name}.capnp`], { cwd: directory, stdio: ["ignore", "pipe", "pipe"] })
}
