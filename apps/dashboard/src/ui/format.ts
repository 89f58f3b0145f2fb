/** Number, size, time and hash formatting, one way everywhere in the dashboard. */
export const formatNumber = (value: number | null | undefined, digits = 3): string =>
  value === null || value === undefined || !Number.isFinite(value)
    ? "—"
    : Math.abs(value) >= 1e6 || (Math.abs(value) < 1e-3 && value !== 0)
    ? value.toExponential(2)
    : Number(value.toPrecision(digits)).toLocaleString("en-US", { maximumFractionDigits: 6 })

export const formatCount = (value: number | null | undefined): string =>
  value === null || value === undefined ? "—" : value.toLocaleString("en-US")

export const formatPercent = (value: number | null | undefined, digits = 1): string =>
  value === null || value === undefined || !Number.isFinite(value) ? "—" : `${(value * 100).toFixed(digits)}%`

export const formatBytes = (bytes: number | null | undefined): string => {
  if (bytes === null || bytes === undefined) return "—"
  const units = ["B", "KiB", "MiB", "GiB", "TiB"]
  let value = bytes
  let unit = 0
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024
    unit++
  }
  return `${unit === 0 ? value : value.toFixed(1)} ${units[unit]}`
}

export const formatTime = (iso: string | number | Date | null | undefined): string => {
  if (iso === null || iso === undefined) return "—"
  const date = iso instanceof Date ? iso : new Date(iso)
  return Number.isNaN(date.getTime()) ? "—" : date.toISOString().replace("T", " ").replace(/\.\d+Z$/, "Z")
}

/** The first 12 hex digits, enough to tell artifacts apart at a glance; the full value goes in a title. */
export const shortSha = (sha256: string | null | undefined): string => (sha256 ? sha256.slice(0, 12) : "—")
