/**
 * Where the multivariate detectors get their rows, through the DriftStore's existing window
 * operations. The baseline rows (a seeded sample of the rows a baseline was set from) are kept
 * as one reserved window per input feature, named `~rows:<feature>`; no feature can have that
 * name (feature names start with a letter or '_'), and pushing exactly k values while keeping
 * the last k replaces a reserved window whole. The window rows are the features' own windows,
 * aligned by their newest values, which holds while every batch carries one value per input
 * feature per row: so a multivariate monitor pads rows with null for absent features and
 * refuses column batches of unequal lengths.
 */
import { Effect } from "effect"
import type { FieldIssue, StorageError } from "../../shared/Errors.js"
import type { DriftStoreShape } from "../DriftStore.js"
import type { Monitor } from "../Monitor.js"
import type { WindowValue } from "../ValueArrays.js"
import {
  alignedRows,
  checkMultivariate,
  type MultivariateCheck,
  multivariateFeatures,
  sampleRows
} from "./MultivariateCheck.js"
import { multivariateDefaults } from "./MultivariateSettings.js"

type ValuesByFeature = Readonly<Record<string, ReadonlyArray<WindowValue>>>

/** The reserved window holding a feature's baseline rows. */
export const baselineRowsWindow = (feature: string): string => `~rows:${feature}`

/** The input feature names of a monitor with multivariate detectors; empty without them. */
export const multivariateNames = (monitor: Monitor): ReadonlyArray<string> =>
  monitor.settings.multivariate === undefined ? [] : multivariateFeatures(monitor.features).map((f) => f.name)

const seedOf = (monitor: Monitor) => monitor.settings.multivariate?.seed ?? monitor.id

/**
 * Values that would misalign the rows of a multivariate monitor. Observations (`wholeRows`) give
 * every input feature or none, all with the same number of values. A baseline may give some
 * features (their baselines are renewed, the rows stay); one giving all renews the baseline rows
 * and must give them the same number of values.
 */
export const rowAlignmentIssues = (
  monitor: Monitor,
  values: ValuesByFeature,
  wholeRows: boolean
): Array<FieldIssue> => {
  const names = multivariateNames(monitor)
  const given = names.filter((name) => Object.hasOwn(values, name) && Array.isArray(values[name]))
  // A baseline of some features leaves the rows alone, so only a baseline of all is checked.
  if (given.length === 0 || (!wholeRows && given.length < names.length)) return []
  const rows = values[given[0]!]!.length
  const issues: Array<FieldIssue> = []
  for (const name of names) {
    if (!given.includes(name)) {
      if (!wholeRows) continue
      issues.push({
        path: [name],
        message: `is required with the other input features: a monitor with multivariate drift records whole rows ` +
          `(give null for a missing value)`
      })
    } else if (values[name]!.length !== rows) {
      issues.push({
        path: [name],
        message: `must have as many values as ${
          given[0]
        } (${rows}): a monitor with multivariate drift records whole rows`
      })
    }
  }
  return issues
}

/** Rows as columns, each input feature of a multivariate monitor padded with null where a row lacks it. */
export const padRowColumns = (
  monitor: Monitor,
  rows: ReadonlyArray<Readonly<Record<string, WindowValue>>>,
  columns: Record<string, Array<WindowValue>>
): Record<string, Array<WindowValue>> => {
  for (const name of multivariateNames(monitor)) {
    if (rows.length === 0) break
    columns[name] = rows.map((row) => (Object.hasOwn(row, name) ? row[name]! : null))
  }
  return columns
}

/**
 * Replaces the baseline rows when the baseline gives every input feature (already checked to
 * be of equal lengths by `rowAlignmentIssues`); a baseline of some features keeps the old rows.
 */
export const storeBaselineRows = (
  store: DriftStoreShape,
  monitor: Monitor,
  values: ValuesByFeature,
  version: number
): Effect.Effect<void, StorageError> => {
  const names = multivariateNames(monitor)
  if (names.length === 0 || !names.every((name) => Object.hasOwn(values, name))) return Effect.void
  const size = monitor.settings.multivariate?.baselineRows ?? multivariateDefaults.baselineRows
  const sample = sampleRows(values, names, size, `${seedOf(monitor)}:rows:${version}`)
  const rows = sample[names[0]!]!.length
  if (rows === 0) return Effect.void
  const reserved: Record<string, ReadonlyArray<WindowValue>> = Object.create(null)
  for (const name of names) reserved[baselineRowsWindow(name)] = sample[name]!
  return store.pushWindows(monitor.id, reserved, rows)
}

/** The monitor's multivariate check over its stored baseline rows and current windows; undefined without detectors. */
export const checkStoredRows = (
  store: DriftStoreShape,
  monitor: Monitor
): Effect.Effect<MultivariateCheck | undefined, StorageError> =>
  Effect.gen(function*() {
    const settings = monitor.settings.multivariate
    if (settings === undefined) return undefined
    const names = multivariateNames(monitor)
    const baseline: Record<string, ReadonlyArray<WindowValue>> = Object.create(null)
    const windows: Record<string, ReadonlyArray<WindowValue>> = Object.create(null)
    for (const name of names) {
      baseline[name] = yield* store.window(monitor.id, baselineRowsWindow(name))
      windows[name] = yield* store.window(monitor.id, name)
    }
    return checkMultivariate({
      features: monitor.features,
      settings,
      pValueThreshold: monitor.settings.pValueThreshold,
      minWindow: monitor.settings.minWindow,
      seed: seedOf(monitor),
      baseline: alignedRows(baseline, names),
      window: alignedRows(windows, names)
    })
  })
