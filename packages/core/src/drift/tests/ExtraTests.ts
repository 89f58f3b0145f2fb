/**
 * Which extra tests a monitor runs: the registered ones its `settings.extraTests` names (none
 * by default), split by feature type, and the rule a monitor's list must meet.
 */
import type { FieldIssue } from "../../shared/Errors.js"
import type { MonitorSettings } from "../Monitor.js"
import type { CategoricalDriftTest, NumericDriftTest } from "./DriftTest.js"
import { extraDriftTests } from "./registry.js"

/** The registered extra tests the settings name, by feature type. */
export const extraTestsOf = (settings: Pick<MonitorSettings, "extraTests">) => {
  const chosen = extraDriftTests.filter((t) => settings.extraTests?.includes(t.name))
  return {
    numeric: chosen.filter((t): t is NumericDriftTest => t.appliesTo === "numeric"),
    categorical: chosen.filter((t): t is CategoricalDriftTest => t.appliesTo === "categorical")
  }
}

/** Each name must be a registered extra test, named once. */
export const extraTestIssues = (names: ReadonlyArray<string> | undefined): Array<FieldIssue> => {
  const known = [...new Set(extraDriftTests.map((t) => t.name))]
  const issues: Array<FieldIssue> = []
  names?.forEach((name, i) => {
    if (!known.includes(name)) {
      issues.push({ path: ["settings", "extraTests", i], message: `must be one of ${known.join(", ")}` })
    } else if (names.indexOf(name) !== i) {
      issues.push({ path: ["settings", "extraTests", i], message: `repeats ${name}` })
    }
  })
  return issues
}
