// Runs a package's vitest-style suites inside workerd (see workerd.mjs):
//
//   node ../../tooling/runtimes/run-in-workerd.mjs test [file filter]
//
// Each suite file becomes one worker (vitest replaced by vitest-on-workerd.ts, JSON fixtures
// inlined) whose `test` handler runs the file's tests in order and fails when one fails. A suite
// that reads the filesystem or a network service does not belong in the core's portable suites
// and fails here.
import * as fs from "node:fs"
import * as os from "node:os"
import * as path from "node:path"
import { fileURLToPath } from "node:url"
import { bundleWorker, runWorkerdTests } from "./workerd.mjs"

const here = path.dirname(fileURLToPath(import.meta.url))
const [testDirectory = "test", filter = ""] = process.argv.slice(2)
const suites = fs.readdirSync(testDirectory, { recursive: true })
  .map(String)
  .filter((file) => file.endsWith(".test.ts") && file.includes(filter))
  .sort()
if (suites.length === 0) {
  console.error(`no suites under ${testDirectory} matching "${filter}"`)
  process.exit(1)
}

const workDirectory = fs.mkdtempSync(path.join(os.tmpdir(), "ml-workerd-"))
const shim = path.join(here, "vitest-on-workerd.ts")
// The worker's test handler: declares the suite's cases (inside the handler: workerd refuses
// random values and timers while a module is evaluated, and suites draw them while declaring
// their cases), runs them one line per failure, and throws so workerd reports the file as failed.
const handler = `
export default {
  async test() {
    collectSuites()
    const failures = []
    for (const { name, body } of collectedTests) {
      try {
        await body()
      } catch (error) {
        failures.push(name)
        console.error("FAIL " + name + "\\n" + (error && error.stack ? error.stack : String(error)))
      }
    }
    for (const hook of afterAllHooks) await hook()
    console.log(SUITE + ": " + (collectedTests.length - failures.length) + " of " + collectedTests.length + " passed")
    if (failures.length > 0) throw new Error(failures.length + " failed in " + SUITE)
  }
}`

const names = []
for (const [index, suite] of suites.entries()) {
  const entry = path.join(workDirectory, `entry-${index}.mjs`)
  fs.writeFileSync(
    entry,
    `import { afterAllHooks, collectedTests, collectSuites } from ${JSON.stringify(shim)}\n` +
      `import ${JSON.stringify(path.resolve(testDirectory, suite))}\n` +
      `const SUITE = ${JSON.stringify(suite)}\n${handler}`
  )
  await bundleWorker(entry, workDirectory, `suite${index}`, { vitest: shim })
  names.push(`suite${index}`)
}
const run = await runWorkerdTests(workDirectory, names)
fs.rmSync(workDirectory, { recursive: true, force: true })
process.exit(run.status ?? 1)
