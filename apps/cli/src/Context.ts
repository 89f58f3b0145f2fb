/**
 * What every command's action receives: the global options resolved (server, token, --json),
 * an SDK client built from them, and the output channels. Also the small helpers that turn
 * option text into numbers and lists with a usage error naming the option.
 */
import { createClient, type MlClient } from "@org/ml-sdk"
import type { Command } from "commander"
import { usageError } from "./ExitCodes.js"
import { makeOutput, type Output, type Streams } from "./Output.js"

export const defaultServer = "http://127.0.0.1:8080"

export interface GlobalOptions {
  readonly server: string
  readonly token?: string | undefined
  readonly json?: boolean | undefined
}

export interface Context {
  readonly server: string
  readonly out: Output
  readonly streams: Streams
  /** An SDK client for the server; `recorderErrors` collects failures of the buffered recorders. */
  readonly client: MlClient
  readonly recorderErrors: Array<unknown>
}

export const makeContext = (command: Command, streams: Streams): Context => {
  // The nearest command's value wins (commander's optsWithGlobals lets the program's default win).
  const chain: Array<Record<string, unknown>> = []
  for (let c: Command | null = command; c !== null; c = c.parent) chain.push(c.opts())
  const pick = (key: keyof GlobalOptions) => chain.find((o) => o[key] !== undefined)?.[key]
  const options: GlobalOptions = {
    server: (pick("server") as string | undefined) ?? defaultServer,
    token: pick("token") as string | undefined,
    json: pick("json") === true
  }
  const recorderErrors: Array<unknown> = []
  // The recorders retry with backoff, then hand a batch to onError: the command reports it and fails.
  const recorder = { onError: (error: unknown) => void recorderErrors.push(error), batchSize: 10_000 }
  return {
    server: options.server,
    out: makeOutput(options.json === true, streams),
    streams,
    client: createClient({
      baseUrl: options.server,
      token: options.token || undefined,
      driftRecorder: recorder,
      sampleRecorder: recorder
    }),
    recorderErrors
  }
}

/** How a command's action runs: with its context, errors turned into messages and an exit code (Cli.ts). */
export type Run = (command: Command, body: (context: Context) => Promise<void>) => Promise<void>

/** A command group's or command's example, shown at the end of its --help. */
export const withExamples = (command: Command, ...examples: ReadonlyArray<string>): Command =>
  command.addHelpText(
    "after",
    `\nExample${examples.length > 1 ? "s" : ""}:\n${examples.map((e) => `  $ ${e}`).join("\n")}`
  )

export const parseNumber = (option: string) => (text: string): number => {
  const value = Number(text)
  if (text.trim() === "" || !Number.isFinite(value)) throw usageError(`${option} must be a number, got "${text}"`)
  return value
}

export const parseInteger = (option: string, min = 1) => (text: string): number => {
  const value = Number(text)
  if (!Number.isInteger(value) || value < min) throw usageError(`${option} must be an integer >= ${min}, got "${text}"`)
  return value
}

/** Comma-separated values; empty entries are dropped. */
export const parseList = (text: string): Array<string> => text.split(",").map((s) => s.trim()).filter((s) => s !== "")

/** Repeatable option: collects every occurrence. */
export const collect = (value: string, previous: Array<string> = []): Array<string> => [...previous, value]

/** `key=value` pairs (repeatable or comma-separated) as numbers, for metrics and features. */
export const parseNumericPairs = (option: string, entries: ReadonlyArray<string>): Record<string, number> => {
  const result: Record<string, number> = {}
  for (const entry of entries.flatMap(parseList)) {
    const at = entry.indexOf("=")
    if (at <= 0) throw usageError(`${option} takes name=number, got "${entry}"`)
    result[entry.slice(0, at)] = parseNumber(`${option} ${entry.slice(0, at)}`)(entry.slice(at + 1))
  }
  return result
}

/** An instant for --at / --since / --expires: ISO 8601, checked here so a typo is a usage error. */
export const parseInstant = (option: string) => (text: string): string => {
  const time = Date.parse(text)
  if (Number.isNaN(time)) {
    throw usageError(`${option} must be an ISO 8601 time, e.g. 2026-06-01T00:00:00Z; got "${text}"`)
  }
  return new Date(time).toISOString()
}
