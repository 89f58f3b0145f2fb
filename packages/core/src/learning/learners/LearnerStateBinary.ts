/**
 * Learner state format 2: sparse and binary, for artifacts. A hashed learner touches a small share
 * of its 2^bits slots, and format 1 (JSON) spells every slot, so an accepted update of a 2^20-slot
 * learner published megabytes of zeros. Format 2 stores the touched slots once and, per array,
 * their values in the array's encoding: float64 (exact; the default), varint (an array of
 * non-negative integers, such as standardization's counts: exact and a byte or two each) or, when
 * the writer asks for float32 precision, float32 for the arrays where rounding moves each weight
 * the model predicts with by at most 2^-24 of itself (see ROUNDABLE). Plain Uint8Array and
 * DataView, portable to every runtime the core runs on. Layout (integers little-endian):
 *
 *   "MLLS"                        4 bytes, the magic that tells format 2 from JSON
 *   header length H               uint32
 *   header                        H bytes of UTF-8 JSON: formatVersion 2, config, bias, steps,
 *                                 slots (S, how many slots are stored), slotBytes (B) and arrays
 *                                 ([{ name, length, encoding?, bytes? }], in the order of the
 *                                 values below; no encoding: float64; varint arrays give bytes)
 *   slot list                     B bytes: S unsigned LEB128 varints, each slot's distance from
 *                                 the previous one less 1 (the first: the slot itself); ascending
 *   per array, in header order    its S values at the listed slots, then its entries past the
 *                                 learner's slots (the bias entry of AdaGrad's g2, FTRL's z and n),
 *                                 as float64, float32 or unsigned LEB128 varints
 *   CRC-32                        uint32 of every byte before it
 *
 * A slot is stored when any array is non-zero there (or holds -0). FTRL's weights are not stored:
 * the optimizer derives them from z and n on load, as it does while learning. The first writer
 * wrote float64 arrays only and no encoding field, so its files read as they always did; a float64
 * state without integral arrays is still written byte for byte as it wrote it.
 */
import { crc32 } from "../../shared/Crc32.js"
import { checkConfig, type RestorableState, slotCount } from "./LearnerChecks.js"
import type { LearnerConfig, LearnerPrecision, LearnerState } from "./LearnerState.js"
import { LearnerStateFormatError } from "./LearnerStateFormatError.js"

export const LEARNER_BINARY_FORMAT_VERSION = 2

const MAGIC = [0x4d, 0x4c, 0x4c, 0x53] // "MLLS"
const PREFIX_BYTES = 8
const CHECKSUM_BYTES = 4
/** Arrays a state can hold: weights, optimizer accumulators (two today), standardization's three. */
const MAX_ARRAYS = 8
const ARRAY_NAME = /^(weights|accumulators\.[A-Za-z0-9_]{1,32}|standardization\.(count|mean|m2))$/u
/** A slot gap fits 4 varint bytes (slots are below 2^24); an integer value 8 (up to 2^53 - 1). */
const MAX_GAP_BYTES = 4
const MAX_VALUE_BYTES = 8

/**
 * Arrays float32 precision rounds: the weights, and the accumulators that only scale step sizes
 * (AdaGrad's g2 never enters a prediction; FTRL's n moves each derived weight by at most 2^-25 of
 * itself). Kept exact: FTRL's z (a weight is z less L1, so near L1 rounding z would move the weight
 * by far more than 2^-24 of itself) and standardization's mean and M2 (an input becomes x less the
 * mean, with the same cancellation).
 */
const ROUNDABLE: ReadonlySet<string> = new Set(["weights", "accumulators.g2", "accumulators.n"])

type Encoding = "float64" | "float32" | "varint"
const ENCODINGS: ReadonlySet<unknown> = new Set<Encoding>(["float64", "float32", "varint"])

/** Whether `bytes` start like a format-2 learner state (anything else is read as format 1 JSON). */
export const isBinaryLearnerState = (bytes: Uint8Array): boolean =>
  bytes.length >= MAGIC.length && MAGIC.every((b, i) => bytes[i] === b)

export interface EncodeLearnerStateOptions {
  /** float64 (the default) keeps every value exact; float32 rounds the arrays listed in ROUNDABLE. */
  readonly precision?: LearnerPrecision
}

interface NamedArray {
  readonly name: string
  readonly values: ArrayLike<number>
}

/** An array as written: its encoding and the bytes its values take. */
interface EncodedArray extends NamedArray {
  readonly encoding: Encoding
  readonly bytes: number
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

/** Writes `value` (a non-negative safe integer) as an unsigned LEB128 varint; returns the offset past it. */
const writeVarint = (bytes: Uint8Array, offset: number, value: number): number => {
  while (value >= 0x80) {
    bytes[offset++] = (value % 128) | 0x80
    value = Math.floor(value / 128)
  }
  bytes[offset++] = value
  return offset
}

/** What an array is stored as: the smallest exact encoding, or float32 where asked and allowed. */
const encodingOf = (
  { name, values }: NamedArray,
  slots: ReadonlyArray<number>,
  size: number,
  precision: LearnerPrecision
): EncodedArray => {
  const count = slots.length + values.length - size
  let integral = true
  let varintBytes = 0
  let fitsFloat32 = precision === "float32" && ROUNDABLE.has(name)
  for (let k = 0; k < count && (integral || fitsFloat32); k++) {
    const v = values[k < slots.length ? slots[k]! : size + k - slots.length]!
    if (integral) {
      // -0 is not stored as an integer: a varint would bring it back as +0.
      if (Number.isSafeInteger(v) && v >= 0 && !Object.is(v, -0)) varintBytes += varintLength(v)
      else integral = false
    }
    // A value past float32's range (or not finite) keeps the array exact.
    if (fitsFloat32 && !Number.isFinite(Math.fround(v))) fitsFloat32 = false
  }
  if (integral && varintBytes < 8 * count) return { name, values, encoding: "varint", bytes: varintBytes }
  if (fitsFloat32) return { name, values, encoding: "float32", bytes: 4 * count }
  return { name, values, encoding: "float64", bytes: 8 * count }
}

/** The header's description of an array (float64 arrays as the first writer described them). */
const describeArray = ({ bytes, encoding, name, values }: EncodedArray) =>
  encoding === "float64"
    ? { name, length: values.length }
    : encoding === "float32"
    ? { name, length: values.length, encoding }
    : { name, length: values.length, encoding, bytes }

/**
 * The format-2 bytes of a learner state: what an accepted update publishes (at the pipeline's
 * precision) and what the pipeline stores keep as the live state (always float64, exact).
 */
export const encodeLearnerState = (
  state: LearnerState,
  options: EncodeLearnerStateOptions = {}
): Uint8Array<ArrayBuffer> => {
  checkConfig(state.config)
  const size = slotCount(state.config)
  const named = arraysOf(state)
  for (const { name, values } of named) {
    if (values.length < size || values.length > size + 1) {
      throw new LearnerStateFormatError({
        part: "header",
        message: `${name} has ${values.length} entries; a learner with ${size} slots has ${size} or ${size + 1}`
      })
    }
  }
  // The touched slots: those where any array holds something other than +0.
  const touched = new Uint8Array(size)
  for (const { values } of named) {
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
  const arrays = named.map((a) => encodingOf(a, slots, size, options.precision ?? "float64"))
  const header = new TextEncoder().encode(JSON.stringify({
    formatVersion: LEARNER_BINARY_FORMAT_VERSION,
    config: state.config,
    bias: state.bias,
    steps: state.steps,
    slots: slots.length,
    slotBytes,
    arrays: arrays.map(describeArray)
  }))
  const valueBytes = arrays.reduce((sum, a) => sum + a.bytes, 0)
  const bytes = new Uint8Array(PREFIX_BYTES + header.length + slotBytes + valueBytes + CHECKSUM_BYTES)
  const view = new DataView(bytes.buffer)
  bytes.set(MAGIC, 0)
  view.setUint32(4, header.length, true)
  bytes.set(header, PREFIX_BYTES)
  let offset = PREFIX_BYTES + header.length
  for (let k = 0, previous = -1; k < slots.length; k++) {
    offset = writeVarint(bytes, offset, slots[k]! - previous - 1)
    previous = slots[k]!
  }
  for (const { encoding, values } of arrays) {
    const count = slots.length + values.length - size
    for (let k = 0; k < count; k++) {
      const v = values[k < slots.length ? slots[k]! : size + k - slots.length]!
      if (encoding === "float64") {
        view.setFloat64(offset, v, true)
        offset += 8
      } else if (encoding === "float32") {
        view.setFloat32(offset, v, true)
        offset += 4
      } else offset = writeVarint(bytes, offset, v)
    }
  }
  view.setUint32(offset, crc32(bytes.subarray(0, offset)), true)
  return bytes
}

const fail = (part: LearnerStateFormatError["part"], message: string): never => {
  throw new LearnerStateFormatError({ part, message: `learner state (format 2): ${message}` })
}

interface HeaderArray {
  readonly name: string
  readonly length: number
  readonly encoding: Encoding
  /** The bytes its values take. */
  readonly bytes: number
}

interface Header {
  readonly config: LearnerConfig
  readonly bias: number
  readonly steps: number
  readonly slots: number
  readonly slotBytes: number
  readonly arrays: ReadonlyArray<HeaderArray>
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
  try {
    checkConfig(h.config as LearnerConfig)
  } catch (error) {
    // A config missing its optimizer or features fails on a property read, not a named check.
    if (error instanceof TypeError) fail("header", "config is not a learner configuration")
    throw error
  }
  const size = slotCount(h.config as LearnerConfig)
  const slots = h.slots as number
  if (slots > size) fail("header", `slots is ${slots}, more than the learner's ${size} slots`)
  const names = new Set<string>()
  const arrays = (h.arrays as ReadonlyArray<Record<string, unknown> | null>).map((a, i): HeaderArray => {
    if (typeof a !== "object" || a === null || typeof a.name !== "string" || !ARRAY_NAME.test(a.name)) {
      return fail("header", `arrays[${i}] must name weights, accumulators.<name> or standardization.<count|mean|m2>`)
    }
    const { length, name } = a
    if (names.has(name)) fail("header", `arrays[${i}]: ${name} is listed twice`)
    names.add(name)
    if (length !== size && length !== size + 1) {
      fail("header", `arrays[${i}] (${name}): length must be ${size} or ${size + 1}, got ${String(length)}`)
    }
    const encoding = a.encoding ?? "float64"
    if (!ENCODINGS.has(encoding)) {
      fail("header", `arrays[${i}] (${name}): encoding must be float64, float32 or varint, got ${String(encoding)}`)
    }
    const count = slots + (length as number) - size
    if (encoding === "varint" && !(isCount(a.bytes) && a.bytes >= count && a.bytes <= MAX_VALUE_BYTES * count)) {
      const most = MAX_VALUE_BYTES * count
      fail("header", `arrays[${i}] (${name}): bytes must be from ${count} to ${most} for ${count} varints`)
    }
    const perValue = encoding === "float64" ? 8 : 4
    return {
      name,
      length: length as number,
      encoding: encoding as Encoding,
      bytes: encoding === "varint" ? a.bytes as number : perValue * count
    }
  })
  return { ...(h as unknown as Header), arrays }
}

/**
 * Reads `count` unsigned LEB128 varints from `offset`, each of at most `maxBytes`, handing each to
 * `take`; fails (naming `part`) when the region ends first. Returns the offset past the last one.
 */
const readVarints = (
  bytes: Uint8Array,
  offset: number,
  end: number,
  count: number,
  maxBytes: number,
  what: { readonly part: "slots" | "values"; readonly list: string; readonly noun: string },
  take: (k: number, value: number) => void
): number => {
  for (let k = 0; k < count; k++) {
    let value = 0
    let scale = 1
    for (let length = 1;; length++) {
      if (offset >= end) return fail(what.part, `${what.list} ends after ${k} of ${count} ${what.noun}s`)
      const byte = bytes[offset++]!
      value += (byte & 0x7f) * scale
      scale *= 128
      if (byte < 0x80) break
      if (length >= maxBytes) return fail(what.part, `${what.noun} ${k} is encoded in more than ${maxBytes} bytes`)
    }
    take(k, value)
  }
  return offset
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
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength)
  const headerEnd = PREFIX_BYTES + view.getUint32(4, true)
  const expected = headerEnd + slotBytes + arrays.reduce((sum, a) => sum + a.bytes, 0) + CHECKSUM_BYTES
  if (bytes.length !== expected) {
    fail(
      "length",
      bytes.length < expected
        ? `truncated: the header describes ${expected} bytes, got ${bytes.length}`
        : `${bytes.length - expected} bytes past the end the header describes (${expected})`
    )
  }
  const bodyEnd = expected - CHECKSUM_BYTES
  const stored = view.getUint32(bodyEnd, true)
  const computed = crc32(bytes.subarray(0, bodyEnd))
  if (stored !== computed) {
    fail("checksum", `CRC-32 ${computed.toString(16)} of the content differs from the stored ${stored.toString(16)}`)
  }
  const slotList = new Int32Array(slots)
  const slotsEnd = headerEnd + slotBytes
  let previous = -1
  let offset = readVarints(
    bytes,
    headerEnd,
    slotsEnd,
    slots,
    MAX_GAP_BYTES,
    { part: "slots", list: "slot list", noun: "slot" },
    (k, gap) => {
      const slot = previous + 1 + gap
      if (slot >= size) fail("slots", `slot ${slot} (entry ${k}) is outside the learner's ${size} slots`)
      slotList[k] = slot
      previous = slot
    }
  )
  if (offset !== slotsEnd) {
    fail("slots", `the slot list is ${slotBytes} bytes, its ${slots} slots take ${offset - headerEnd}`)
  }
  /** Where the k-th stored value of an array goes: the listed slots, then the entries past them. */
  const indexOf = (k: number) => (k < slots ? slotList[k]! : size + k - slots)
  const restored = new Map<string, Float64Array>()
  for (const { bytes: arrayBytes, encoding, length, name } of arrays) {
    const values = new Float64Array(length)
    const count = slots + length - size
    if (encoding === "float64") {
      for (let k = 0; k < count; k++, offset += 8) values[indexOf(k)] = view.getFloat64(offset, true)
    } else if (encoding === "float32") {
      for (let k = 0; k < count; k++, offset += 4) values[indexOf(k)] = view.getFloat32(offset, true)
    } else {
      const start = offset
      const what = { part: "values", list: `${name} (varint)`, noun: "value" } as const
      offset = readVarints(bytes, start, start + arrayBytes, count, MAX_VALUE_BYTES, what, (k, value) => {
        if (value > Number.MAX_SAFE_INTEGER) fail("values", `${name}: value ${k} is past 2^53 - 1`)
        values[indexOf(k)] = value
      })
      if (offset !== start + arrayBytes) {
        fail("values", `${name}: the header gives ${arrayBytes} bytes, its ${count} values take ${offset - start}`)
      }
    }
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
