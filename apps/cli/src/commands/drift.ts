/**
 * `ml drift`: monitors, baselines and observations from files, checks and reports (one also as
 * an HTML page). CSV and JSON Lines are read a record at a time; values follow the monitor's
 * feature types (numbers for numeric features, text for categorical ones, an empty cell or null
 * for missing).
 */
import type { DriftReport, Monitor } from "@org/ml-sdk"
import { Command } from "commander"
import { collect, parseInstant, parseInteger, type Run, withExamples } from "../Context.js"
import { usageError } from "../ExitCodes.js"
import { csvRows, jsonLines } from "../Files.js"
import { record, table } from "../Output.js"

type Value = number | string | null

const monitorText = (m: Monitor) =>
  record({
    id: m.id,
    modelId: m.modelId,
    features: m.features.map((f) => `${f.name} (${f.kind}, ${f.type})`).join(", "),
    windowSize: m.settings.windowSize,
    createdAt: m.createdAt
  })

const reportText = (r: DriftReport) =>
  [
    `report ${r.id} of ${r.monitorId} at ${r.at}`,
    table(
      ["FEATURE", "TYPE", "WINDOW", "MISSING", "PSI", "KS", "P", "ADJ. P", "SEVERITY"],
      r.features.map((f) => [
        f.feature,
        f.type,
        f.windowCount,
        f.missingShare,
        f.psi,
        f.ksStatistic,
        f.pValue,
        f.adjustedPValue,
        f.severity
      ])
    ),
    r.alerts.length === 0
      ? "no alerts"
      : `alerts: ${r.alerts.map((a) => `${a.feature} ${a.kind} ${a.severity}`).join(", ")}`
  ].join("\n")

/** A cell as the monitor's feature type wants it. */
const valueOf = (monitor: Monitor, feature: string, raw: unknown, where: string): Value => {
  const spec = monitor.features.find((f) => f.name === feature)!
  if (raw === null || raw === undefined || raw === "") return null
  if (spec.type === "categorical") return String(raw)
  const value = typeof raw === "number" ? raw : Number(String(raw).trim())
  if (!Number.isFinite(value)) throw usageError(`${where}: ${feature} is numeric, got ${JSON.stringify(raw)}`)
  return value
}

/** Records of a file (CSV or JSON Lines), restricted to the monitor's features, as typed rows. */
async function* monitorRows(monitor: Monitor, file: string, format: "csv" | "jsonl") {
  const names = monitor.features.map((f) => f.name)
  let index = 0
  const source: AsyncIterable<Record<string, unknown>> = format === "csv" ? csvRows(file) : jsonLines(file)
  for await (const raw of source) {
    index++
    if (index === 1) {
      const present = names.filter((n) => Object.hasOwn(raw, n))
      if (present.length === 0) {
        throw usageError(`${file} has none of the monitor's features (${names.join(", ")})`)
      }
    }
    const row: Record<string, Value> = {}
    for (const name of names) {
      if (Object.hasOwn(raw, name)) row[name] = valueOf(monitor, name, raw[name], `${file} record ${index}`)
    }
    yield row
  }
}

const parseFeature = (kind: "feature" | "prediction") => (entry: string) => {
  const [name, type = "numeric"] = entry.split(":")
  if (!name || (type !== "numeric" && type !== "categorical")) {
    throw usageError(`--${kind} takes name[:numeric|categorical], got "${entry}"`)
  }
  return { name, kind, type: type as "numeric" | "categorical" }
}

export const driftCommand = (run: Run): Command => {
  const drift = withExamples(
    new Command("drift").description("feature and prediction drift: monitors, baselines, checks, reports"),
    "ml drift monitor create --id fraud-inputs --model MODEL_ID --feature amount --feature country:categorical",
    "ml drift baseline set fraud-inputs --csv training.csv",
    "ml drift record fraud-inputs --csv today.csv && ml drift check fraud-inputs"
  )

  const monitor = withExamples(
    new Command("monitor").description("drift monitors"),
    "ml drift monitor list"
  )
  monitor.addCommand(withExamples(
    new Command("create")
      .description("create a monitor of a model's features and predictions")
      .requiredOption("--model <modelId>", "the monitored model")
      .option("--id <id>", "monitor id (default: generated)")
      .option(
        "--feature <name[:type]>",
        "input feature, numeric (default) or categorical (repeatable; none: the model signature's)",
        collect,
        []
      )
      .option("--prediction <name[:type]>", "prediction output, numeric or categorical (repeatable)", collect, [])
      .option("--window <n>", "values per feature in the checked window", parseInteger("--window"))
      .action(function(this: Command) {
        return run(this, async (context) => {
          const o = this.opts<
            { model: string; id?: string; feature: Array<string>; prediction: Array<string>; window?: number }
          >()
          const features = [...o.feature.map(parseFeature("feature")), ...o.prediction.map(parseFeature("prediction"))]
          // Without --feature/--prediction the server takes them from the model's signature (400 if it has none).
          const created = await context.client.drift.createMonitor({
            modelId: o.model,
            ...(features.length > 0 ? { features } : {}),
            ...(o.id !== undefined ? { id: o.id } : {}),
            ...(o.window !== undefined ? { settings: { windowSize: o.window } } : {})
          })
          context.out.result(created, () => monitorText(created))
        })
      }),
    "ml drift monitor create --id fraud-inputs --model MODEL_ID --feature amount --feature country:categorical \\\n" +
      "      --prediction score"
  ))
  monitor.addCommand(withExamples(
    new Command("list").description("list monitors").action(function(this: Command) {
      return run(this, async (context) => {
        const items = await context.client.drift.listMonitors()
        context.out.result({ items }, () =>
          table(
            ["ID", "MODEL", "FEATURES", "CREATED"],
            items.map((m) => [m.id, m.modelId, m.features.map((f) => f.name).join(","), m.createdAt])
          ))
      })
    }),
    "ml drift monitor list --json"
  ))
  monitor.addCommand(withExamples(
    new Command("get").description("show one monitor").argument("<monitorId>", "monitor id").action(
      function(this: Command, id: string) {
        return run(this, async (context) => {
          const found = await context.client.drift.getMonitor(id)
          context.out.result(found, () => monitorText(found))
        })
      }
    ),
    "ml drift monitor get fraud-inputs"
  ))
  drift.addCommand(monitor)

  const baseline = withExamples(
    new Command("baseline").description("reference distributions"),
    "ml drift baseline set fraud-inputs --csv training.csv"
  )
  baseline.addCommand(withExamples(
    new Command("set")
      .description("freeze a new baseline from a file (columns or keys named after the monitor's features)")
      .argument("<monitorId>", "monitor id")
      .option("--csv <file>", "CSV with a header row")
      .option("--jsonl <file>", "JSON Lines, one object per line")
      .action(function(this: Command, id: string) {
        return run(this, async (context) => {
          const o = this.opts<{ csv?: string; jsonl?: string }>()
          if ((o.csv === undefined) === (o.jsonl === undefined)) throw usageError("give one of --csv or --jsonl")
          const found = await context.client.drift.getMonitor(id)
          const values: Record<string, Array<Value>> = {}
          let rows = 0
          for await (const row of monitorRows(found, (o.csv ?? o.jsonl)!, o.csv !== undefined ? "csv" : "jsonl")) {
            rows++
            for (const [feature, value] of Object.entries(row)) (values[feature] ??= []).push(value)
          }
          await context.client.drift.setBaseline(id, values)
          const result = { monitorId: id, rows, features: Object.keys(values) }
          context.out.result(result, () => `baseline of ${id} set from ${rows} rows (${result.features.join(", ")})`)
        })
      }),
    "ml drift baseline set fraud-inputs --jsonl training.jsonl"
  ))
  drift.addCommand(baseline)

  drift.addCommand(withExamples(
    new Command("record")
      .description("send observed values from a CSV (batched, retried)")
      .argument("<monitorId>", "monitor id")
      .requiredOption("--csv <file>", "CSV with a header row")
      .action(function(this: Command, id: string) {
        return run(this, async (context) => {
          const file = this.opts<{ csv: string }>().csv
          const found = await context.client.drift.getMonitor(id)
          let rows = 0
          try {
            for await (const row of monitorRows(found, file, "csv")) {
              rows++
              context.client.drift.recordRow(id, row)
              // The recorder sends batches in the background; waiting for them now and then keeps
              // memory bounded by the batch, not by the file.
              if (rows % 5_000 === 0) await context.client.drift.flush()
            }
          } finally {
            await context.client.drift.close()
          }
          if (context.recorderErrors.length > 0) throw context.recorderErrors[0]
          context.out.result({ monitorId: id, rows }, () => `recorded ${rows} rows for ${id}`)
        })
      }),
    "ml drift record fraud-inputs --csv today.csv"
  ))

  drift.addCommand(withExamples(
    new Command("check").description("check the monitor's windows against its baselines now").argument(
      "<monitorId>",
      "monitor id"
    ).action(function(this: Command, id: string) {
      return run(this, async (context) => {
        const report = await context.client.drift.check(id)
        context.out.result(report, () => reportText(report))
      })
    }),
    "ml drift check fraud-inputs"
  ))

  drift.addCommand(withExamples(
    new Command("report")
      .description("one kept report by id; with --html, the self-contained page to save and share")
      .argument("<reportId>", "report id (as `ml drift reports` lists them)")
      .option("--html", "print the report as an HTML page (inline charts, no external assets)")
      .action(function(this: Command, id: string) {
        return run(this, async (context) => {
          if (this.opts<{ html?: boolean }>().html === true) {
            context.streams.stdout.write(await context.client.drift.getDriftReportHtml(id))
            return
          }
          const report = await context.client.drift.getDriftReport(id)
          context.out.result(report, () => reportText(report))
        })
      }),
    "ml drift report check-m0q3x1k0-8h2j5c0p --html > report.html"
  ))

  drift.addCommand(withExamples(
    new Command("reports")
      .description("past drift reports, of one monitor or all")
      .option("--monitor <monitorId>", "only this monitor")
      .option("--since <time>", "at or after this ISO 8601 time", parseInstant("--since"))
      .action(function(this: Command) {
        return run(this, async (context) => {
          const o = this.opts<{ monitor?: string; since?: string }>()
          const items = await context.client.drift.getDriftReports({
            ...(o.monitor !== undefined ? { monitorId: o.monitor } : {}),
            ...(o.since !== undefined ? { since: o.since } : {})
          })
          context.out.result({ items }, () =>
            table(
              ["ID", "MONITOR", "AT", "WORST", "ALERTS"],
              items.map((r) => [r.id, r.monitorId, r.at, worst(r), r.alerts.length])
            ))
        })
      }),
    "ml drift reports --monitor fraud-inputs --since 2026-06-01T00:00:00Z"
  ))

  return drift
}

const order = ["none", "low", "medium", "high", "critical"]
const worst = (r: DriftReport) =>
  r.features.reduce((w, f) => (order.indexOf(f.severity) > order.indexOf(w) ? f.severity : w), "none")
