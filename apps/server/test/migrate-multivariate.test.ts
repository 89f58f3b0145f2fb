/** Migration copies a multivariate monitor's baseline rows (reserved windows) and verifies them. */
import { baselineRowsWindow, defaultMonitorSettings, DriftStore, type Monitor } from "@org/ml-core"
import { Effect } from "effect"
import { expect, it } from "vitest"
import { copyDrift, verifyDrift } from "../src/MigrateRecords.js"

it("copies and verifies the baseline rows of a multivariate monitor", async () => {
  const monitor: Monitor = {
    id: "rows",
    modelId: null,
    features: [
      { name: "x", kind: "feature", type: "numeric" },
      { name: "c", kind: "feature", type: "categorical" },
      { name: "p", kind: "prediction", type: "numeric" }
    ],
    settings: { ...defaultMonitorSettings, multivariate: { pca: {}, domainClassifier: {} } },
    createdAt: "2030-01-01T00:00:00.000Z"
  }
  const source = await Effect.runPromise(DriftStore.makeMemory)
  const target = await Effect.runPromise(DriftStore.makeMemory)
  const rows = { [baselineRowsWindow("x")]: [1, null, 3], [baselineRowsWindow("c")]: ["a", "b", null] }
  await Effect.runPromise(Effect.andThen(source.insertMonitor(monitor), source.pushWindows(monitor.id, rows, 3)))
  await copyDrift(source, target)
  await verifyDrift(source, target)
  expect(await Effect.runPromise(target.window(monitor.id, baselineRowsWindow("x")))).toEqual([1, null, 3])
  expect(await Effect.runPromise(target.window(monitor.id, baselineRowsWindow("c")))).toEqual(["a", "b", null])
  // Verification notices rows that did not arrive.
  await Effect.runPromise(target.pushWindows(monitor.id, { [baselineRowsWindow("x")]: [9] }, 1))
  await expect(verifyDrift(source, target)).rejects.toThrow(/baseline rows/)
})
