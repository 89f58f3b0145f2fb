/**
 * A progress bar on stderr for uploads, downloads and hashing, drawn only when stderr is a
 * terminal: piped or redirected stderr (CI logs, `2> file`) gets no control characters.
 */
import type { Streams } from "./Output.js"

export interface Progress {
  readonly advance: (bytes: number) => void
  readonly done: () => void
}

const noProgress: Progress = { advance: () => {}, done: () => {} }

const units = ["B", "KiB", "MiB", "GiB", "TiB"]
export const formatBytes = (bytes: number): string => {
  let value = bytes
  let unit = 0
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024
    unit++
  }
  return unit === 0 ? `${bytes} B` : `${value.toFixed(1)} ${units[unit]}`
}

/** A bar for `total` bytes (0: unknown, the count alone), labelled `label`; a no-op off a terminal. */
export const makeProgress = (stderr: Streams["stderr"], label: string, total: number): Progress => {
  if (!stderr.isTTY) return noProgress
  const width = Math.max(10, Math.min(40, (stderr.columns ?? 80) - label.length - 40))
  let seen = 0
  let lastDrawn = -1
  const draw = () => {
    const share = total > 0 ? Math.min(1, seen / total) : 0
    const percent = Math.floor(share * 100)
    // Redraw when the percentage moves (or, without a total, every MiB): a few hundred writes at most.
    const mark = total > 0 ? percent : Math.floor(seen / 1048576)
    if (mark === lastDrawn) return
    lastDrawn = mark
    const filled = Math.round(share * width)
    const bar = total > 0 ? `[${"#".repeat(filled)}${"-".repeat(width - filled)}] ${String(percent).padStart(3)}% ` : ""
    stderr.write(`\r${label} ${bar}${formatBytes(seen)}${total > 0 ? ` / ${formatBytes(total)}` : ""}\x1b[K`)
  }
  draw()
  return {
    advance: (bytes) => {
      seen += bytes
      draw()
    },
    done: () => {
      lastDrawn = -1
      draw()
      stderr.write("\n")
    }
  }
}
