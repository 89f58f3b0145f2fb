/**
 * `ml pipelines`: online-learning pipelines on a registered learner model (see `ml learner init`):
 * create, status, labelled samples from a CSV, updates, rollbacks and predictions.
 */
import type { AddSamplesResult, Pipeline, PipelineStatus, PublishPrecision, Sample } from "@org/ml-sdk"
import { Command, Option } from "commander"
import { parseInteger, parseNumber, parseNumericPairs, type Run, withExamples } from "../Context.js"
import { usageError } from "../ExitCodes.js"
import { csvRows } from "../Files.js"
import { formatNumber, record, table } from "../Output.js"

const pipelineText = (p: Pipeline) =>
  record({
    id: p.id,
    name: p.name,
    kind: p.kind,
    strategy: p.strategy,
    baseModelId: p.baseModelId,
    liveModelId: p.liveModelId,
    batchSize: p.batchSize,
    acceptedUpdates: p.acceptedUpdates,
    rejectedUpdates: p.rejectedUpdates,
    lastUpdateAt: p.lastUpdateAt,
    lastError: p.lastError
  })

const statusText = (s: PipelineStatus) =>
  [
    pipelineText(s.pipeline),
    `counters: ${Object.entries(s.counters).map(([k, v]) => `${k} ${v}`).join(", ")}`,
    `progressive (last ${s.progressive.window}): accuracy ${formatNumber(s.progressive.accuracy)}, ` +
    `log loss ${formatNumber(s.progressive.logLoss)}, rmse ${formatNumber(s.progressive.rmse)}`,
    "",
    s.updates.length === 0 ? "no updates yet" : table(
      ["AT", "KIND", "ACCEPTED", "SAMPLES", "BEFORE", "AFTER", "MODEL", "REASON"],
      s.updates.map((u) => [u.at, u.kind, u.accepted, u.samples, u.metricBefore, u.metricAfter, u.modelId, u.reason])
    )
  ].join("\n")

const BATCH = 10_000

export const pipelinesCommand = (run: Run): Command => {
  const pipelines = withExamples(
    new Command("pipelines").description("online learning: pipelines, samples, updates, rollbacks, predictions"),
    "ml pipelines create --name fraud --model MODEL_ID --strategy mini-batch --batch-size 500",
    "ml pipelines samples add fraud-online --csv labelled.csv --label is_fraud"
  )

  pipelines.addCommand(withExamples(
    new Command("create")
      .description("create a pipeline on a registered learner model")
      .requiredOption("--name <name>", "pipeline name")
      .requiredOption("--model <modelId>", "the learner model it starts from")
      .option("--id <id>", "pipeline id (default: generated)")
      .addOption(
        new Option("--strategy <strategy>", "when to update").choices([
          "incremental",
          "mini-batch",
          "periodic",
          "adaptive"
        ])
      )
      .option("--batch-size <n>", "samples per update", parseInteger("--batch-size"))
      .option("--min-samples <n>", "fewest samples an update learns from", parseInteger("--min-samples"))
      .option("--every <seconds>", "update period (periodic)", parseInteger("--every"))
      .option("--learning-rate <rate>", "step size for updates", parseNumber("--learning-rate"))
      .option(
        "--holdout <share>",
        "share of samples held out to validate an update (0 to <1)",
        parseNumber("--holdout")
      )
      .option("--monitor <monitorId>", "drift monitor whose alerts make updates more cautious")
      .addOption(
        new Option(
          "--publish-precision <precision>",
          "artifacts of accepted updates: float64 (exact) or float32 (rounded weights, smaller)"
        ).choices(["float64", "float32"])
      )
      .action(function(this: Command) {
        return run(this, async (context) => {
          const o = this.opts<{
            name: string
            model: string
            id?: string
            strategy?: Pipeline["strategy"]
            batchSize?: number
            minSamples?: number
            every?: number
            learningRate?: number
            holdout?: number
            monitor?: string
            publishPrecision?: PublishPrecision
          }>()
          const created = await context.client.learner.createPipeline({
            name: o.name,
            modelId: o.model,
            ...(o.id !== undefined ? { id: o.id } : {}),
            ...(o.strategy !== undefined ? { strategy: o.strategy } : {}),
            ...(o.batchSize !== undefined ? { batchSize: o.batchSize } : {}),
            ...(o.minSamples !== undefined ? { minSamples: o.minSamples } : {}),
            ...(o.every !== undefined ? { updateFrequencySeconds: o.every } : {}),
            ...(o.learningRate !== undefined ? { learningRate: o.learningRate } : {}),
            ...(o.holdout !== undefined ? { holdoutShare: o.holdout } : {}),
            ...(o.monitor !== undefined ? { monitorId: o.monitor } : {}),
            ...(o.publishPrecision !== undefined ? { publish: { precision: o.publishPrecision } } : {})
          })
          context.out.result(created, () => pipelineText(created))
        })
      }),
    "ml pipelines create --id fraud-online --name fraud --model MODEL_ID --strategy mini-batch --batch-size 500"
  ))

  pipelines.addCommand(withExamples(
    new Command("list").description("list pipelines").action(function(this: Command) {
      return run(this, async (context) => {
        const items = await context.client.learner.listPipelines()
        context.out.result({ items }, () =>
          table(
            ["ID", "NAME", "KIND", "STRATEGY", "LIVE MODEL", "UPDATES"],
            items.map((p) => [p.id, p.name, p.kind, p.strategy, p.liveModelId, p.acceptedUpdates])
          ))
      })
    }),
    "ml pipelines list"
  ))

  pipelines.addCommand(withExamples(
    new Command("status").description("a pipeline, its counters, progressive metrics and updates").argument(
      "<pipelineId>",
      "pipeline id"
    ).action(function(this: Command, id: string) {
      return run(this, async (context) => {
        const status = await context.client.learner.getPipelineStatus(id)
        context.out.result(status, () => statusText(status))
      })
    }),
    "ml pipelines status fraud-online"
  ))

  const samples = withExamples(
    new Command("samples").description("labelled samples"),
    "ml pipelines samples add fraud-online --csv labelled.csv --label is_fraud"
  )
  samples.addCommand(withExamples(
    new Command("add")
      .description("send labelled samples from a CSV (numeric feature columns, a label column)")
      .argument("<pipelineId>", "pipeline id")
      .requiredOption("--csv <file>", "CSV with a header row")
      .option("--label <column>", "the label column", "label")
      .option("--id-column <column>", "column holding a sample id (a repeated id is ignored by the server)")
      .option("--weight-column <column>", "column holding a sample weight")
      .action(function(this: Command, id: string) {
        return run(this, async (context) => {
          const o = this.opts<{ csv: string; label: string; idColumn?: string; weightColumn?: string }>()
          const reserved = new Set([o.label, o.idColumn, o.weightColumn])
          const number = (text: string | undefined, what: string, index: number) => {
            const value = Number(text)
            if (text === undefined || text.trim() === "" || !Number.isFinite(value)) {
              throw usageError(`${o.csv} record ${index}: ${what} must be a number, got ${JSON.stringify(text ?? "")}`)
            }
            return value
          }
          const totals = { added: 0, duplicates: 0, updates: [] as Array<NonNullable<AddSamplesResult["update"]>> }
          let batch: Array<Sample> = []
          const send = async () => {
            if (batch.length === 0) return
            const result = await context.client.learner.addSamples(id, batch)
            totals.added += result.added
            totals.duplicates += result.duplicates
            if (result.update) totals.updates.push(result.update)
            batch = []
          }
          let index = 0
          for await (const row of csvRows(o.csv)) {
            index++
            if (index === 1 && !Object.hasOwn(row, o.label)) {
              throw usageError(`${o.csv} has no "${o.label}" column (--label)`)
            }
            const features: Record<string, number> = {}
            for (const [column, text] of Object.entries(row)) {
              if (!reserved.has(column) && text.trim() !== "") features[column] = number(text, column, index)
            }
            batch.push({
              features,
              label: number(row[o.label], o.label, index),
              ...(o.idColumn !== undefined && row[o.idColumn] ? { sampleId: row[o.idColumn]! } : {}),
              ...(o.weightColumn !== undefined ? { weight: number(row[o.weightColumn], o.weightColumn, index) } : {})
            } as Sample)
            if (batch.length >= BATCH) await send()
          }
          await send()
          context.out.result(
            { pipelineId: id, samples: index, ...totals },
            () =>
              `sent ${index} samples to ${id}: ${totals.added} added, ${totals.duplicates} duplicates, ` +
              `${totals.updates.length} update(s)${
                totals.updates.map((u) => `\n  ${u.accepted ? "accepted" : "rejected"}: ${u.reason}`).join("")
              }`
          )
        })
      }),
    "ml pipelines samples add fraud-online --csv labelled.csv --label is_fraud --id-column event_id"
  ))
  pipelines.addCommand(samples)

  pipelines.addCommand(withExamples(
    new Command("update").description("update now from the buffered samples").argument("<pipelineId>", "pipeline id")
      .action(function(this: Command, id: string) {
        return run(this, async (context) => {
          const update = await context.client.learner.triggerUpdate(id)
          context.out.result({ update }, () =>
            update === null
              ? "nothing to learn from (no buffered samples)"
              : `${update.accepted ? "accepted" : "rejected"}: ${update.reason} (model ${update.modelId})`)
        })
      }),
    "ml pipelines update fraud-online"
  ))

  pipelines.addCommand(withExamples(
    new Command("rollback")
      .description("serve a previous version again (default: the live version's parent)")
      .argument("<pipelineId>", "pipeline id")
      .option("--to <modelId>", "the version to serve")
      .action(function(this: Command, id: string) {
        return run(this, async (context) => {
          const to = this.opts<{ to?: string }>().to
          const rollback = await context.client.learner.rollback(id, to)
          context.out.result(rollback, () => `${id} now serves ${rollback.modelId} (was ${rollback.previousModelId})`)
        })
      }),
    "ml pipelines rollback fraud-online --to MODEL_ID"
  ))

  pipelines.addCommand(withExamples(
    new Command("predict")
      .description("predict with the live learner: one row from --features, or every row of a CSV")
      .argument("<pipelineId>", "pipeline id")
      .option("--features <name=value,...>", "one row, e.g. amount=12.5,age=40")
      .option("--csv <file>", "rows of numeric feature columns")
      .action(function(this: Command, id: string) {
        return run(this, async (context) => {
          const o = this.opts<{ features?: string; csv?: string }>()
          if ((o.features === undefined) === (o.csv === undefined)) throw usageError("give one of --features or --csv")
          if (o.features !== undefined) {
            const prediction = await context.client.learner.predict(id, parseNumericPairs("--features", [o.features]))
            context.out.result({ prediction }, () => formatNumber(prediction))
            return
          }
          const rows: Array<Record<string, number>> = []
          for await (const row of csvRows(o.csv!)) {
            rows.push(parseNumericPairs(o.csv!, Object.entries(row).map(([k, v]) => `${k}=${v}`)))
          }
          const predictions = await context.client.learner.predict(id, rows)
          context.out.result({ predictions }, () => predictions.map((p) => formatNumber(p)).join("\n"))
        })
      }),
    "ml pipelines predict fraud-online --features amount=12.5,age=40"
  ))

  return pipelines
}
