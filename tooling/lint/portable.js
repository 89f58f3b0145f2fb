// Config for code that must run unchanged in Node, Deno, Bun and edge workers (packages/core):
// it bans runtime modules, Node globals and drivers, so portability is checked, not hoped for.
import base from "./base.js"

const nodeBuiltins = [
  "fs",
  "path",
  "os",
  "crypto",
  "stream",
  "http",
  "https",
  "net",
  "child_process",
  "worker_threads",
  "url",
  "util",
  "events",
  "buffer",
  "zlib"
]
const drivers = ["ioredis", "redis", "prom-client", "hono", "@hono/*", "pg", "mysql2"]

export default [
  ...base,
  {
    files: ["src/**/*.ts", "test/**/*.ts"],
    rules: {
      "no-restricted-imports": ["error", {
        patterns: [
          { group: ["node:*"], message: "packages/core is portable: no node: modules." },
          {
            group: [...nodeBuiltins, ...nodeBuiltins.map((m) => `${m}/*`)],
            message: "packages/core is portable: no Node built-ins."
          },
          { group: drivers, message: "packages/core is portable: drivers belong in adapter packages." }
        ]
      }],
      "no-restricted-globals": [
        "error",
        { name: "process", message: "packages/core is portable: inject configuration instead of reading process." },
        { name: "Buffer", message: "packages/core is portable: use Uint8Array." },
        { name: "require", message: "ESM only." },
        { name: "__dirname", message: "ESM only." },
        { name: "global", message: "Use globalThis." }
      ]
    }
  }
]
