/**
 * Every workspace package imports only what its package.json declares: source files from
 * dependencies / peerDependencies (what an installed package gets), tests, benches and configs
 * from devDependencies as well. A hoisted package that happened to resolve in the repository
 * (effect through another package, say) would break a user who installs the package alone.
 */
import * as fs from "node:fs"
import { builtinModules } from "node:module"
import * as path from "node:path"
import { fileURLToPath } from "node:url"
import { describe, expect, it } from "vitest"

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..", "..", "..")
const workspaceDirectories = [
  ...["packages", "apps", "tooling", "examples"].flatMap((group) =>
    fs.readdirSync(path.join(root, group)).map((name) => path.join(root, group, name))
  ),
  path.join(root, "bench")
].filter((dir) => fs.existsSync(path.join(dir, "package.json")))

const sourceFiles = (dir: string): Array<string> =>
  fs.readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    if (entry.name === "node_modules" || entry.name === "dist" || entry.name.startsWith(".")) return []
    const file = path.join(dir, entry.name)
    if (entry.isDirectory()) return sourceFiles(file)
    return /\.(ts|tsx|mts|js|mjs)$/.test(entry.name) && !entry.name.endsWith(".d.ts") ? [file] : []
  })

/** Bare specifiers of static imports, re-exports and dynamic imports with a string literal. */
const importedPackages = (text: string): Array<string> => {
  const specifiers = [
    ...text.matchAll(/(?:^|\n)\s*(?:import|export)\s[^;"'`]*?\sfrom\s+["']([^"']+)["']/g),
    ...text.matchAll(/(?:^|\n)\s*import\s+["']([^"']+)["']/g),
    ...text.matchAll(/\bimport\(\s*["']([^"']+)["']\s*\)/g)
  ].map((m) => m[1]!)
  return specifiers
    .filter((s) => !s.startsWith(".") && !s.startsWith("/") && !s.startsWith("node:") && !s.startsWith("npm:"))
    .map((s) => (s.startsWith("@") ? s.split("/").slice(0, 2).join("/") : s.split("/")[0]!))
    .filter((name) => !builtinModules.includes(name))
}

describe("declared dependencies", () => {
  it.each(workspaceDirectories.map((dir) => [path.relative(root, dir), dir] as const))(
    "%s imports only what it declares",
    (_name, dir) => {
      const manifest = JSON.parse(fs.readFileSync(path.join(dir, "package.json"), "utf8"))
      const runtime = new Set([
        manifest.name,
        ...Object.keys(manifest.dependencies ?? {}),
        ...Object.keys(manifest.peerDependencies ?? {})
      ])
      const everything = new Set([...runtime, ...Object.keys(manifest.devDependencies ?? {})])
      const undeclared: Array<string> = []
      for (const file of sourceFiles(dir)) {
        const relative = path.relative(dir, file)
        const shipped = relative.startsWith(`src${path.sep}`)
        const text = fs.readFileSync(file, "utf8")
        for (const name of importedPackages(text)) {
          if (!(shipped ? runtime : everything).has(name)) undeclared.push(`${relative}: ${name}`)
        }
      }
      expect([...new Set(undeclared)]).toEqual([])
    }
  )
})
