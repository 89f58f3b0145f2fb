/**
 * Time-sortable identifiers (ULID: 48-bit millisecond time + 80 random bits, Crockford base32).
 * Sorting ids as strings sorts them by creation time, which the stores use for stable
 * pagination. A sequence is monotonic, as the ULID spec's monotonic mode: within one millisecond,
 * or when the clock steps back, the random part of the last id is incremented instead of drawn,
 * so every id of a sequence sorts after the one before. Use cases take the time from Effect's
 * `Clock` and the randomness from Effect's `Random` (`makeUlidGenerator`), so a test with a
 * TestClock and a seeded Random gets the same ids on every run.
 */
import { Effect, Random } from "effect"

const alphabet = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
const randomDigits = 16 // 80 bits, one base32 digit (0..31) each
const maxTime = 2 ** 48 - 1

export const ulidPattern = /^[0-9A-HJKMNP-TV-Z]{26}$/u

/** The next id at `timeMillis`; `randomDigit` (0..31) is drawn only when the time moves forward. */
export type UlidSequence = (timeMillis: number, randomDigit: () => number) => string

const encodeTime = (timeMillis: number): string => {
  let time = ""
  let t = timeMillis
  for (let i = 0; i < 10; i++) {
    time = alphabet[t % 32] + time
    t = Math.floor(t / 32)
  }
  return time
}

/** Adds one to the random part; false when it overflowed (all digits are then zero). */
const increment = (digits: Uint8Array): boolean => {
  for (let i = digits.length - 1; i >= 0; i--) {
    if (digits[i] !== 31) {
      digits[i]!++
      return true
    }
    digits[i] = 0
  }
  return false
}

/** A fresh monotonic sequence: its own last time and random part. */
export const makeUlidSequence = (): UlidSequence => {
  let lastTime = -1
  const random = new Uint8Array(randomDigits)
  const draw = (randomDigit: () => number) => {
    for (let i = 0; i < randomDigits; i++) random[i] = randomDigit()
  }
  return (timeMillis, randomDigit) => {
    const time = Math.min(Math.max(0, Math.floor(timeMillis)), maxTime)
    if (time > lastTime) {
      lastTime = time
      draw(randomDigit)
    } else if (!increment(random)) {
      // 2^80 ids in one millisecond: borrow the next millisecond rather than repeat an id.
      lastTime = Math.min(lastTime + 1, maxTime)
      draw(randomDigit)
    }
    let id = encodeTime(lastTime)
    for (let i = 0; i < randomDigits; i++) id += alphabet[random[i]!]
    return id
  }
}

/**
 * Makes an id generator with its own sequence: the id at `timeMillis` (the caller reads it from
 * the Clock, so the id and the record's timestamps agree), random digits from the Random service.
 */
export const makeUlidGenerator: Effect.Effect<(timeMillis: number) => Effect.Effect<string>> = Effect.sync(() => {
  const sequence = makeUlidSequence()
  return (timeMillis) =>
    Effect.withFiberSucceed((fiber) => {
      const random = fiber.getRef(Random.Random)
      return sequence(timeMillis, () => Math.floor(random.nextDoubleUnsafe() * 32))
    })
})

const processSequence = makeUlidSequence()
const cryptoDigit = () => globalThis.crypto.getRandomValues(new Uint8Array(1))[0]! & 31

/**
 * An id at `timeMillis` outside any Effect (fixtures, adapter tests): one process-wide sequence,
 * randomness from Web Crypto. Use cases use `makeUlidGenerator` instead.
 */
export const makeUlid = (timeMillis: number): string => processSequence(timeMillis, cryptoDigit)
