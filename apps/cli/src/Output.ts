/**
 * How results reach the user: with `--json`, one JSON document on stdout (nothing else goes to
 * stdout); otherwise readable text: tables for lists, `key: value` lines for records. Progress
 * and notes always go to stderr, so stdout stays pipeable.
 */

export interface Output {
  readonly json: boolean
  /** Prints `data` as JSON, or `human()` as text. */
  readonly result: (data: unknown, human: () => string) => void
  /** A note for the human on stderr (suppressed nowhere: stderr is not machine output). */
  readonly note: (line: string) => void
}

export interface Streams {
  readonly stdout: NodeJS.WritableStream
  readonly stderr: NodeJS.WritableStream & { readonly isTTY?: boolean; readonly columns?: number }
}

export const makeOutput = (json: boolean, streams: Streams): Output => ({
  json,
  result: (data, human) => {
    const text = json ? JSON.stringify(data ?? null, null, 2) : human()
    if (text !== "") streams.stdout.write(text.endsWith("\n") ? text : `${text}\n`)
  },
  note: (line) => void streams.stderr.write(`${line}\n`)
})

const cell = (value: unknown): string => {
  if (value === null || value === undefined) return "-"
  if (typeof value === "string") return value
  if (typeof value === "number") return formatNumber(value)
  return JSON.stringify(value)
}

/** Up to 4 significant digits; integers as they are. */
export const formatNumber = (value: number | null | undefined): string => {
  if (value === null || value === undefined) return "-"
  if (Number.isInteger(value)) return String(value)
  const abs = Math.abs(value)
  if (abs !== 0 && (abs < 1e-3 || abs >= 1e6)) return value.toExponential(2)
  return String(Number(value.toPrecision(4)))
}

/** A plain table: a header row, then rows, columns padded to their widest cell. */
export const table = (headers: ReadonlyArray<string>, rows: ReadonlyArray<ReadonlyArray<unknown>>): string => {
  const cells = rows.map((row) => row.map(cell))
  const widths = headers.map((header, i) => Math.max(header.length, ...cells.map((row) => row[i]?.length ?? 0)))
  const line = (row: ReadonlyArray<string>) => row.map((c, i) => c.padEnd(widths[i]!)).join("  ").trimEnd()
  return [line(headers), ...cells.map(line)].join("\n")
}

/** A record as `key: value` lines (nested values as compact JSON). */
export const record = (value: Readonly<Record<string, unknown>>): string =>
  Object.entries(value).map(([key, v]) => `${key}: ${cell(v)}`).join("\n")
