/**
 * A value as a message shows it, briefly and without walking it: numbers as JavaScript prints
 * them (NaN, Infinity), strings as JSON (cut at 64 characters), arrays and objects by kind only
 * (stringifying a hostile nesting would overflow the stack, and a large one would flood the message).
 * Its own module, free of Effect, for the learners' edge entry.
 */
export const describeValue = (value: unknown): string => {
  if (typeof value === "string") return JSON.stringify(value.length > 64 ? `${value.slice(0, 64)}...` : value)
  if (Array.isArray(value)) return "an array"
  if (typeof value === "object" && value !== null) return "an object"
  return String(value)
}
