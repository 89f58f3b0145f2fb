/**
 * Time-sortable identifiers (ULID: 48-bit millisecond time + 80 random bits, Crockford base32).
 * Sorting ids as strings sorts them by creation time, which the stores use for stable
 * pagination; ids made in the same millisecond by one process increase monotonically (the
 * random part is incremented, as the ULID spec's monotonic mode does). Randomness comes from
 * Web Crypto, available in every runtime the core supports.
 */
const alphabet = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"

export const ulidPattern = /^[0-9A-HJKMNP-TV-Z]{26}$/u

let lastTime = -1
const lastRandom = new Uint8Array(16) // one base32 digit (0..31) per byte

const encodeTime = (timeMillis: number): string => {
  let time = ""
  let t = Math.floor(timeMillis)
  for (let i = 0; i < 10; i++) {
    time = alphabet[t % 32] + time
    t = Math.floor(t / 32)
  }
  return time
}

export const makeUlid = (timeMillis: number): string => {
  const time = Math.floor(timeMillis)
  if (time === lastTime) {
    let i = 15
    while (i >= 0 && lastRandom[i] === 31) lastRandom[i--] = 0
    if (i >= 0) lastRandom[i]!++
  } else {
    globalThis.crypto.getRandomValues(lastRandom)
    for (let i = 0; i < 16; i++) lastRandom[i] = lastRandom[i]! % 32
    lastRandom[0] = lastRandom[0]! & 15 // headroom so increments within one millisecond never overflow
    lastTime = time
  }
  let random = ""
  for (let i = 0; i < 16; i++) random += alphabet[lastRandom[i]!]
  return encodeTime(time) + random
}
