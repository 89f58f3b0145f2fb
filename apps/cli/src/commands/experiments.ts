/**
 * `ml experiments`: A/B tests between registry models, and their results as a table (per
 * variant: exposures, n, mean with its interval; per comparison: lift with its interval, p-values;
 * CUPED-adjusted and ratio-metric comparisons when recorded; the caps; then the decision and its
 * reason). `results --watch` redraws until the experiment completes.
 */
import type { Experiment, ExperimentResults } from "@org/ml-sdk"
import { Command } from "commander"
import { collect, type Context, parseInteger, parseList, parseNumber, type Run, withExamples } from "../Context.js"
import { usageError } from "../ExitCodes.js"
import { readText } from "../Files.js"
import { formatNumber, record, table } from "../Output.js"

const experimentText = (e: Experiment) =>
  record({
    id: e.id,
    name: e.name,
    status: e.status,
    targetMetric: e.targetMetric,
    variants: e.variants.map((v) => `${v.modelId}${v.isControl ? " (control)" : ""} ${v.trafficPct}%`).join(", "),
    ...(e.featureKey === undefined ? {} : { featureKey: e.featureKey }),
    createdAt: e.createdAt,
    startedAt: e.startedAt,
    // Safe rollouts: shown only when the experiment has them.
    ...(e.ramp === undefined
      ? {}
      : {
        coverage: `${formatNumber(e.coverage * 100)}%`,
        ramp: `${e.ramp.steps.map((s) => `${formatNumber(s * 100)}%`).join(" -> ")} every ${e.ramp.intervalMinutes} min`
      }),
    ...(e.guardrails === undefined
      ? {}
      : { guardrails: e.guardrails.map((g) => `${g.metric} (${g.direction} is bad)`).join(", ") }),
    ...(e.pausedByGuardrail === undefined ? {} : { pausedByGuardrail: e.pausedByGuardrail.reason })
  })

const interval = (i: { readonly lower: number | null; readonly upper: number | null } | null | undefined) =>
  i ? `[${formatNumber(i.lower)}, ${formatNumber(i.upper)}]` : "-"

const percent = (value: number | null | undefined) =>
  value === null || value === undefined ? "-" : `${value >= 0 ? "+" : ""}${formatNumber(value * 100)}%`

const verdict = (c: { readonly significantlyBetter: boolean; readonly significantlyWorse: boolean }) =>
  c.significantlyBetter ? "better" : c.significantlyWorse ? "worse" : "no difference"

/** CUPED-adjusted and ratio-metric comparisons and the caps, each only when there are any. */
const pairedText = (r: ExperimentResults): Array<string> => {
  const lines: Array<string> = []
  if (r.covariateAdjusted.length > 0) {
    lines.push(
      "CUPED (adjusted by each user's pre-experiment value)",
      table(
        ["VARIANT", "METRIC", "DIFFERENCE", "INTERVAL", "LIFT", "P", "ADJ. P", "VARIANCE -", "VERDICT"],
        r.covariateAdjusted.map((c) => [
          c.modelId,
          c.metric,
          c.difference,
          interval(c.differenceInterval),
          percent(c.relativeLift),
          c.pValue,
          c.adjustedPValue,
          percent(c.varianceReduction),
          c.notComputable ?? verdict(c)
        ])
      ),
      ""
    )
  }
  if (r.ratioMetrics.length > 0) {
    lines.push(
      "Ratio metrics (delta method)",
      table(
        ["VARIANT", "METRIC", "RATIO", "CONTROL", "LIFT", "LIFT INTERVAL", "P", "ADJ. P", "VERDICT"],
        r.ratioMetrics.map((c) => [
          c.modelId,
          c.metric,
          c.treatmentRatio,
          c.controlRatio,
          percent(c.relativeLift),
          c.relativeLiftInterval
            ? `[${percent(c.relativeLiftInterval.lower)}, ${percent(c.relativeLiftInterval.upper)}]`
            : "-",
          c.pValue,
          c.adjustedPValue,
          c.notComputable ?? verdict(c)
        ])
      ),
      ""
    )
  }
  const caps = Object.entries(r.metricCaps)
  if (caps.length > 0) {
    const bounds = caps.map(([m, cap]) =>
      `${m} to [${cap.lower === undefined ? "-inf" : formatNumber(cap.lower)}, ${formatNumber(cap.upper)}]`
    )
    lines.push(`capped at recording: ${bounds.join(", ")}`, "")
  }
  return lines
}

/** The results of an experiment as text: variants, comparisons with the control, the decision. */
export const resultsText = (r: ExperimentResults): string => {
  const metric = r.targetMetric
  const variants = table(
    ["VARIANT", "ROLE", "TRAFFIC", "EXPOSURES", "N", `MEAN ${metric}`, "95% INTERVAL"],
    r.variants.map((v) => {
      const summary = v.metrics[metric]
      return [
        v.modelId,
        v.isControl ? "control" : "treatment",
        `${formatNumber(v.trafficPct)}%`,
        v.exposures,
        summary?.n ?? 0,
        summary?.mean ?? null,
        interval(summary?.interval)
      ]
    })
  )
  const comparisons = r.comparisons.length === 0 ? "no comparisons yet" : table(
    ["VARIANT", "METRIC", "LIFT", "LIFT INTERVAL", "P", "ADJ. P", "SEQ. P", "P(BEAT)", "RISK", "VERDICT"],
    r.comparisons.map((c) => [
      c.modelId,
      c.metric,
      percent(c.relativeLift),
      c.relativeLiftInterval
        ? `[${percent(c.relativeLiftInterval.lower)}, ${percent(c.relativeLiftInterval.upper)}]`
        : "-",
      c.pValue,
      c.adjustedPValue,
      c.sequentialPValue,
      c.bayesian?.chanceToBeatControl ?? null,
      c.bayesian ? percent(c.bayesian.riskOfChoosingTreatment) : "-",
      verdict(c)
    ])
  )
  const decision = r.decision
  const lines = [
    `experiment ${r.experimentId} (${r.status}), target metric ${metric}`,
    "",
    variants,
    "",
    comparisons,
    "",
    ...pairedText(r)
  ]
  if (r.srm.detected) lines.push(`sample ratio mismatch detected (p = ${formatNumber(r.srm.pValue)})`)
  lines.push(
    `decision: ${decision.outcome}${decision.winnerModelId ? ` (winner ${decision.winnerModelId})` : ""}`,
    `reason:   ${decision.reason}`
  )
  return lines.join("\n")
}

/** An option's JSON object, or null. */
const parseJsonOption = (option: string, text: string): Record<string, unknown> | null => {
  let value: unknown
  try {
    value = JSON.parse(text)
  } catch (error) {
    throw usageError(`${option} is not JSON (${(error as Error).message})`)
  }
  if (value !== null && (typeof value !== "object" || Array.isArray(value))) {
    throw usageError(`${option} must be a JSON object or null`)
  }
  return value as Record<string, unknown> | null
}

const readJsonObject = async (file: string): Promise<Record<string, unknown>> => {
  let value: unknown
  try {
    value = JSON.parse(await readText(file))
  } catch (error) {
    if (error instanceof SyntaxError) throw usageError(`${file} is not JSON (${error.message})`)
    throw error
  }
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    throw usageError(`${file} is not a JSON object`)
  }
  return value as Record<string, unknown>
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))

export const experimentsCommand = (run: Run): Command => {
  const experiments = withExamples(
    new Command("experiments").description("A/B tests between registry models: lifecycle and results"),
    "ml experiments create --name ranker --metric conversion --control MODEL_A --treatment MODEL_B",
    "ml experiments results EXPERIMENT_ID --watch"
  )

  experiments.addCommand(withExamples(
    new Command("create")
      .description("create an experiment (draft); traffic is split evenly unless --traffic says otherwise")
      .option("--name <name>", "experiment name")
      .option("--metric <name>", "target metric")
      .option("--control <modelId>", "the control model")
      .option("--treatment <modelId>", "a treatment model (repeatable)", collect, [])
      .option("--traffic <pcts>", "traffic per variant in percent, control first, e.g. 50,50")
      .option("--id <id>", "experiment id (default: generated)")
      .option("--description <text>", "description")
      .option("--feature-key <key>", "the feature GrowthBook SDKs read it as (default: the experiment id)")
      .option("--min-samples <n>", "minimum samples per variant before a decision", parseInteger("--min-samples"))
      .option("--file <json>", "the whole request body as JSON (the other options override its fields)")
      .action(function(this: Command) {
        return run(this, async (context) => {
          const o = this.opts<{
            name?: string
            metric?: string
            control?: string
            treatment: Array<string>
            traffic?: string
            id?: string
            description?: string
            featureKey?: string
            minSamples?: number
            file?: string
          }>()
          const base = o.file !== undefined ? await readJsonObject(o.file) : {}
          let variants = base["variants"]
          if (o.control !== undefined || o.treatment.length > 0) {
            if (o.control === undefined || o.treatment.length === 0) {
              throw usageError("--control and at least one --treatment are needed together")
            }
            const ids = [o.control, ...o.treatment]
            const shares = o.traffic !== undefined
              ? parseList(o.traffic).map(parseNumber("--traffic"))
              : ids.map((_, i) =>
                i === 0 ? 100 - Math.floor(100 / ids.length) * (ids.length - 1) : Math.floor(100 / ids.length)
              )
            if (shares.length !== ids.length) {
              throw usageError(`--traffic needs ${ids.length} values (control first), got ${shares.length}`)
            }
            variants = ids.map((modelId, i) => ({ modelId, isControl: i === 0, trafficPct: shares[i]! }))
          }
          const input = {
            ...base,
            ...(o.id !== undefined ? { id: o.id } : {}),
            ...(o.name !== undefined ? { name: o.name } : {}),
            ...(o.metric !== undefined ? { targetMetric: o.metric } : {}),
            ...(o.description !== undefined ? { description: o.description } : {}),
            ...(o.featureKey !== undefined ? { featureKey: o.featureKey } : {}),
            ...(o.minSamples !== undefined ? { minSamplesPerVariant: o.minSamples } : {}),
            ...(variants !== undefined ? { variants } : {})
          }
          if (input["name"] === undefined || input["targetMetric"] === undefined || input["variants"] === undefined) {
            throw usageError("an experiment needs --name, --metric, --control and --treatment (or --file)")
          }
          const created = await context.client.experiments.create(
            input as Parameters<typeof context.client.experiments.create>[0]
          )
          context.out.result(created, () => experimentText(created))
        })
      }),
    "ml experiments create --name ranker --metric conversion --control MODEL_A --treatment MODEL_B --traffic 80,20"
  ))

  experiments.addCommand(withExamples(
    new Command("list").description("list experiments").action(function(this: Command) {
      return run(this, async (context) => {
        const items = await context.client.experiments.list()
        context.out.result({ items }, () =>
          table(
            ["ID", "NAME", "STATUS", "METRIC", "VARIANTS", "STARTED"],
            items.map((e) => [e.id, e.name, e.status, e.targetMetric, e.variants.length, e.startedAt])
          ))
      })
    }),
    "ml experiments list --json"
  ))

  const simple = (
    name: string,
    description: string,
    call: (context: Context, id: string) => Promise<Experiment>
  ) =>
    withExamples(
      new Command(name).description(description).argument("<experimentId>", "experiment id").action(
        function(this: Command, id: string) {
          return run(this, async (context) => {
            const experiment = await call(context, id)
            context.out.result(experiment, () => experimentText(experiment))
          })
        }
      ),
      `ml experiments ${name} EXPERIMENT_ID`
    )
  experiments.addCommand(simple("get", "show one experiment", (c, id) => c.client.experiments.get(id)))
  experiments.addCommand(simple("start", "start (or resume) an experiment", (c, id) => c.client.experiments.start(id)))
  experiments.addCommand(simple("pause", "pause a running experiment", (c, id) => c.client.experiments.pause(id)))

  experiments.addCommand(withExamples(
    new Command("resplit")
      .description("change the traffic split (one percentage per variant, in variant order)")
      .argument("<experimentId>", "experiment id")
      .requiredOption("--traffic <pcts>", "percentages, e.g. 90,10")
      .action(function(this: Command, id: string) {
        return run(this, async (context) => {
          const trafficPct = parseList(this.opts<{ traffic: string }>().traffic).map(parseNumber("--traffic"))
          const experiment = await context.client.experiments.update(id, { trafficPct })
          context.out.result(experiment, () => experimentText(experiment))
        })
      }),
    "ml experiments resplit EXPERIMENT_ID --traffic 90,10"
  ))

  experiments.addCommand(withExamples(
    new Command("retarget")
      .description(
        "change the targeting condition and/or the metric caps (JSON; null removes them): new assignments " +
          "follow the condition, sticky users keep theirs; caps apply to values recorded from now on"
      )
      .argument("<experimentId>", "experiment id")
      .option("--condition <json>", "a GrowthBook condition, e.g. '{\"country\":{\"$in\":[\"DE\",\"AT\"]}}', or null")
      .option("--metric-caps <json>", "caps by metric, e.g. '{\"revenue\":{\"upper\":500}}', or null")
      .action(function(this: Command, id: string) {
        return run(this, async (context) => {
          const o = this.opts<{ condition?: string; metricCaps?: string }>()
          if (o.condition === undefined && o.metricCaps === undefined) {
            throw usageError("give --condition, --metric-caps or both")
          }
          const experiment = await context.client.experiments.update(
            id,
            {
              ...(o.condition === undefined ? {} : { condition: parseJsonOption("--condition", o.condition) }),
              ...(o.metricCaps === undefined ? {} : { metricCaps: parseJsonOption("--metric-caps", o.metricCaps) })
            } as Parameters<typeof context.client.experiments.update>[1]
          )
          context.out.result(experiment, () => experimentText(experiment))
        })
      }),
    `ml experiments retarget EXPERIMENT_ID --condition '{"country":{"$in":["DE","AT"]}}'`
  ))

  experiments.addCommand(withExamples(
    new Command("feature-key")
      .description("rename the feature GrowthBook SDKs read the experiment as (unique among unfinished experiments)")
      .argument("<experimentId>", "experiment id")
      .argument("<featureKey>", "the new feature key")
      .action(function(this: Command, id: string, featureKey: string) {
        return run(this, async (context) => {
          const experiment = await context.client.experiments.update(id, { featureKey })
          context.out.result(experiment, () => experimentText(experiment))
        })
      }),
    "ml experiments feature-key EXPERIMENT_ID checkout-model"
  ))

  experiments.addCommand(withExamples(
    new Command("complete")
      .description("complete an experiment; --promote-winner promotes a winner step by step to production")
      .argument("<experimentId>", "experiment id")
      .option("--promote-winner", "promote the winner (if there is one)")
      .action(function(this: Command, id: string) {
        return run(this, async (context) => {
          const promoteWinner = this.opts<{ promoteWinner?: boolean }>().promoteWinner === true
          const experiment = await context.client.experiments.complete(id, promoteWinner ? { promoteWinner } : {})
          context.out.result(experiment, () => experimentText(experiment))
        })
      }),
    "ml experiments complete EXPERIMENT_ID --promote-winner"
  ))

  experiments.addCommand(withExamples(
    new Command("results")
      .description("results: per variant n, mean and interval; lift, p-values; the decision and its reason")
      .argument("<experimentId>", "experiment id")
      .option("--watch", "redraw every --interval seconds until the experiment completes (Ctrl-C stops)")
      .option("--interval <seconds>", "refresh interval for --watch", parseNumber("--interval"), 5)
      .action(function(this: Command, id: string) {
        return run(this, async (context) => {
          const o = this.opts<{ watch?: boolean; interval: number }>()
          const terminal = (context.streams.stdout as { isTTY?: boolean }).isTTY === true
          for (let first = true;; first = false) {
            const results = await context.client.experiments.getExperimentResults(id)
            // On a terminal each refresh replaces the last; piped, refreshes follow one another.
            if (o.watch && terminal && !first && !context.out.json) context.streams.stdout.write("\x1b[H\x1b[2J")
            context.out.result(results, () => resultsText(results))
            if (!o.watch || results.status === "completed") return
            await sleep(Math.max(0.2, o.interval) * 1000)
          }
        })
      }),
    "ml experiments results EXPERIMENT_ID --watch --interval 10"
  ))

  return experiments
}
