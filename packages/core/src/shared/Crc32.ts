/**
 * CRC-32 (IEEE 802.3, the polynomial zlib and PNG use) over bytes, portable (no node:zlib): the
 * checksum binary formats of the core carry, so a flipped bit is reported rather than loaded.
 */

const table = (() => {
  const t = new Uint32Array(256)
  for (let n = 0; n < 256; n++) {
    let c = n
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1
    t[n] = c >>> 0
  }
  return t
})()

/** The CRC-32 of `bytes` (unsigned 32-bit), equal to zlib's crc32 of the same bytes. */
export const crc32 = (bytes: Uint8Array): number => {
  let c = 0xffffffff
  for (let i = 0; i < bytes.length; i++) c = table[(c ^ bytes[i]!) & 0xff]! ^ (c >>> 8)
  return (c ^ 0xffffffff) >>> 0
}
