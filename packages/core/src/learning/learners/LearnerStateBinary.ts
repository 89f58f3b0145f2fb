/**
 * Learner state format 2: sparse and binary, for artifacts. A hashed learner touches a small share
 * of its 2^bits slots, and format 1 (JSON) spells every slot, so an accepted update of a 2^20-slot
 * learner published megabytes of zeros. Format 2 stores the touched slots once and, per array,
 * their values as IEEE 754 doubles, so a loaded learner predicts exactly what the saved one did.
 * Plain Uint8Array and DataView, portable to every runtime the core runs on. Layout (integers
 * little-endian):
 *
 *   "MLLS"                        4 bytes, the magic that tells format 2 from JSON
 *   header length H               uint32
 *   header                        H bytes of UTF-8 JSON: formatVersion 2, config, bias, steps,
 *                                 slots (S, how many slots are stored), slotBytes (B) and arrays
 *                                 ([{ name, length }], in the order of the values below)
 *   slot list                     B bytes: S unsigned LEB128 varints, each slot's distance from
 *                                 the previous one less 1 (the first: the slot itself); ascending
 *   per array, in header order    S float64 values at the listed slots, then its entries past the
 *                                 learner's slots (the bias entry of AdaGrad's g2, FTRL's z and n)
 *   CRC-32                        uint32 of every byte before it
 *
 * A slot is stored when any array is non-zero there (or holds -0). FTRL's weights are not stored:
 * the optimizer derives them from z and n on load, as it does while learning.
 */
import { crc32 } from "../../shared/Crc32.js"
import { LearnerStateFormatError } from "../Errors.js"
import { checkConfig, type LearnerConfig, type LearnerState, type RestorableState, slotCount } from "./LearnerState.js"

export const LEARNER_BINARY_FORMAT_VERSION = 2

const MAGIC = [0x4d, 0x4c, 0x4c, 0x53] // "MLLS"
const PREFIX_BYTES = 8
const CHECKSUM_BYTES = 4
/** Arrays a state can hold: weights, optimizer accumulators (two today), standardization's three. */
const MAX_ARRAYS = 8
const ARRAY_NAME = /^(weights|accumulators\.[A-Za-z0-9_]{1,32}|standardization\.(count|mean|m2))$/u

/** Whether `bytes` start like a format-2 learner state (anything else is read as format 1 JSON). */
export const isBinaryLearnerState = (bytes: Uint8Array): boolean =>
  bytes.length >= MAGIC.length && MAGIC.every((b, i) => bytes[i] === b)

interface NamedArray {
  readonly name: string
  readonly values: ArrayLike<number>
}

/** The arrays a state stores, in file order; FTRL's weights are left out (derived from z and n). */
const arraysOf = (state: LearnerState): Array<NamedArray> => {
  const arrays: Array<NamedArray> = []
  if (state.config.optimizer.type !== "ftrl") arrays.push({ name: "weights", values: state.weights })
  for (const key of Object.keys(state.accumulators).sort()) {
    arrays.push({ name: `accumulators.${key}`, values: state.accumulators[key]! })
  }
  const std = state.standardization
  if (std) {
    arrays.push(
      { name: "standardization.count", values: std.count },
      { name: "standardization.mean", values: std.mean },
      { name: "standardization.m2", values: std.m2 }
    )
  }
  return arrays
}

const varintLength = (value: number): number => {
  let length = 1
  while (value >= 0x80) {
    value = Math.floor(value / 128)
    length++
  }
  return length
}

/** The format-2 bytes of a learner state (what an accepted update publishes). */
export const encodeLearnerState = (state: LearnerState): Uint8Array<ArrayBuffer> => {
  checkConfig(state.config)
  const size = slotCount(state.config)
  const arrays = arraysOf(state)
  for (const { name, values } of arrays) {
    if (values.length < size || values.length > size + 1) {
      throw new LearnerStateFormatError({
        part: "header",
        message: `${name} has ${values.length} entries; a learner with ${size} slots has ${size} or ${size + 1}`
      })
    }
  }
  // The touched slots: those where any array holds something other than +0.
  const touched = new Uint8Array(size)
  for (const { values } of arrays) {
    for (let i = 0; i < size; i++) {
      const v = values[i]!
      if (v !== 0 || Object.is(v, -0)) touched[i] = 1
    }
  }
  const slots: Array<number> = []
  let slotBytes = 0
  for (let i = 0, previous = -1; i < size; i++) {
    if (touched[i] === 0) continue
    slots.push(i)
    slotBytes += varintLength(i - previous - 1)
    previous = i
  }
  const header = new TextEncoder().encode(JSON.stringify({
    formatVersion: LEARNER_BINARY_FORMAT_VERSION,
    config: state.config,
    bias: state.bias,
    steps: state.steps,
    slots: slots.length,
    slotBytes,
    arrays: arrays.map(({ name, values }) => ({ name, length: values.length }))
  }))
  const valueCount = arrays.reduce((sum, { values }) => sum + slots.length + values.length - size, 0)
  const total = PREFIX_BYTES + header.length + slotBytes + 8 * valueCount + CHECKSUM_BYTES
  const bytes = new Uint8Array(total)
  const view = new DataView(bytes.buffer)
  bytes.set(MAGIC, 0)
  view.setUint32(4, header.length, true)
  bytes.set(header, PREFIX_BYTES)
  let offset = PREFIX_BYTES + header.length
  for (let k = 0, previous = -1; k < slots.length; k++) {
    let gap = slots[k]! - previous - 1
    previous = slots[k]!
    while (gap >= 0x80) {
      bytes[offset++] = (gap & 0x7f) | 0x80
      gap = Math.floor(gap / 128)
    }
    bytes[offset++] = gap
  }
  for (const { values } of arrays) {
    for (let k = 0; k < slots.length; k++, offset += 8) view.setFloat64(offset, values[slots[k]!]!, true)
    for (let i = size; i < values.length; i++, offset += 8) view.setFloat64(offset, values[i]!, true)
  }
  view.setUint32(offset, crc32(bytes.subarray(0, offset)), true)
  return bytes
}

const fail = (part: LearnerStateFormatError["part"], message: string): never => {
  throw new LearnerStateFormatError({ part, message: `learner state (format 2): ${message}` })
}

interface Header {
  readonly config: LearnerConfig
  readonly bias: number
  readonly steps: number
  readonly slots: number
  readonly slotBytes: number
  readonly arrays: ReadonlyArray<{ readonly name: string; readonly length: number }>
}

const isCount = (value: unknown): value is number =>
  typeof value === "number" && Number.isSafeInteger(value) && value >= 0

/** The header's fields, each checked; the configuration by checkConfig (a StatsInputError naming the field). */
const readHeader = (bytes: Uint8Array): Header => {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength)
  if (bytes.length < PREFIX_BYTES + CHECKSUM_BYTES) {
    fail("length", `${bytes.length} bytes is shorter than the smallest state (${PREFIX_BYTES + CHECKSUM_BYTES})`)
  }
  const headerLength = view.getUint32(4, true)
  if (headerLength > bytes.length - PREFIX_BYTES - CHECKSUM_BYTES) {
    fail("length", `header of ${headerLength} bytes declared, only ${bytes.length - PREFIX_BYTES} bytes follow`)
  }
  let parsed: unknown
  try {
    parsed = JSON.parse(new TextDecoder("utf-8", { fatal: true }).decode(
      bytes.subarray(PREFIX_BYTES, PREFIX_BYTES + headerLength)
    ))
  } catch {
    return fail("header", "the header is not UTF-8 JSON")
  }
  const h = parsed as Partial<Record<keyof Header | "formatVersion", unknown>> | null
  if (typeof h !== "object" || h === null) return fail("header", "the header is not an object")
  if (h.formatVersion !== LEARNER_BINARY_FORMAT_VERSION) {
    fail("header", `formatVersion ${JSON.stringify(h.formatVersion)}; this version reads format 2`)
  }
  if (typeof h.config !== "object" || h.config === null) fail("header", "config is missing")
  if (typeof h.bias !== "number" || !Number.isFinite(h.bias)) fail("header", "bias must be a finite number")
  if (!isCount(h.steps)) fail("header", "steps must be a non-negative integer")
  if (!isCount(h.slots)) fail("header", "slots must be a non-negative integer")
  if (!isCount(h.slotBytes)) fail("header", "slotBytes must be a non-negative integer")
  if (!Array.isArray(h.arrays) || h.arrays.length > MAX_ARRAYS) {
    fail("header", `arrays must be a list of at most ${MAX_ARRAYS} arrays`)
  }
  const arrays = h.arrays as ReadonlyArray<{ name?: unknown; length?: unknown }>
  try {
    checkConfig(h.config as LearnerConfig)
  } catch (error) {
    // A config missing its optimizer or features fails on a property read, not a named check.
    if (error instanceof TypeError) fail("header", "config is not a learner configuration")
    throw error
  }
  const size = slotCount(h.config as LearnerConfig)
  if ((h.slots as number) > size) fail("header", `slots is ${h.slots}, more than the learner's ${size} slots`)
  const names = new Set<string>()
  for (const [i, a] of arrays.entries()) {
    if (typeof a !== "object" || a === null || typeof a.name !== "string" || !ARRAY_NAME.test(a.name)) {
      return fail("header", `arrays[${i}] must name weights, accumulators.<name> or standardization.<count|mean|m2>`)
    }
    if (names.has(a.name)) fail("header", `arrays[${i}]: ${a.name} is listed twice`)
    names.add(a.name)
    if (a.length !== size && a.length !== size + 1) {
      fail("header", `arrays[${i}] (${a.name}): length must be ${size} or ${size + 1}, got ${String(a.length)}`)
    }
  }
  return h as unknown as Header
}

/**
 * The configuration and restorable state in format-2 `bytes`; throws a LearnerStateFormatError
 * naming the part at fault (or a StatsInputError naming the configuration's field).
 */
export const decodeLearnerState = (
  bytes: Uint8Array
): { readonly config: LearnerConfig; readonly state: RestorableState } => {
  if (!isBinaryLearnerState(bytes)) fail("magic", "does not start with the format-2 magic \"MLLS\"")
  const header = readHeader(bytes)
  const { arrays, config, slotBytes, slots } = header
  const size = slotCount(config)
  const headerEnd = PREFIX_BYTES + new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength).getUint32(4, true)
  const valueCount = arrays.reduce((sum, a) => sum + slots + a.length - size, 0)
  const expected = headerEnd + slotBytes + 8 * valueCount + CHECKSUM_BYTES
  if (bytes.length !== expected) {
    fail(
      "length",
      bytes.length < expected
        ? `truncated: the header describes ${expected} bytes, got ${bytes.length}`
        : `${bytes.length - expected} bytes past the end the header describes (${expected})`
    )
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength)
  const bodyEnd = expected - CHECKSUM_BYTES
  const stored = view.getUint32(bodyEnd, true)
  const computed = crc32(bytes.subarray(0, bodyEnd))
  if (stored !== computed) {
    fail("checksum", `CRC-32 ${computed.toString(16)} of the content differs from the stored ${stored.toString(16)}`)
  }
  const slotList = new Int32Array(slots)
  let offset = headerEnd
  const slotsEnd = headerEnd + slotBytes
  for (let k = 0, previous = -1; k < slots; k++) {
    let gap = 0
    let scale = 1
    for (;;) {
      if (offset >= slotsEnd) return fail("slots", `slot list ends after ${k} of ${slots} slots`)
      const byte = bytes[offset++]!
      gap += (byte & 0x7f) * scale
      scale *= 128
      if (byte < 0x80) break
      if (scale >= 2 ** 28) return fail("slots", `slot ${k} is encoded in more than 4 bytes`)
    }
    const slot = previous + 1 + gap
    if (slot >= size) fail("slots", `slot ${slot} (entry ${k}) is outside the learner's ${size} slots`)
    slotList[k] = slot
    previous = slot
  }
  if (offset !== slotsEnd) {
    fail("slots", `the slot list is ${slotBytes} bytes, its ${slots} slots take ${offset - headerEnd}`)
  }
  const restored = new Map<string, Float64Array>()
  for (const { length, name } of arrays) {
    const values = new Float64Array(length)
    for (let k = 0; k < slots; k++, offset += 8) values[slotList[k]!] = view.getFloat64(offset, true)
    for (let i = size; i < length; i++, offset += 8) values[i] = view.getFloat64(offset, true)
    restored.set(name, values)
  }
  const accumulators: Record<string, Float64Array> = {}
  for (const [name, values] of restored) {
    if (name.startsWith("accumulators.")) accumulators[name.slice("accumulators.".length)] = values
  }
  const count = restored.get("standardization.count")
  const mean = restored.get("standardization.mean")
  const m2 = restored.get("standardization.m2")
  return {
    config,
    state: {
      weights: restored.get("weights") ?? new Float64Array(size),
      bias: header.bias,
      steps: header.steps,
      accumulators,
      standardization: count && mean && m2 ? { count, mean, m2 } : null
    }
  }
}
