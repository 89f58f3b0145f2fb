/**
 * Webhook signatures, both schemes, in one place for the sender (WebhookNotifier) and the
 * receiver (the SDK's verifyWebhook/onAlert). Web Crypto only and no Effect, so the SDK can
 * import it (`@org/ml-core/webhook-signature`) without loading Effect at run time.
 * - x-ml-signature: "t=<unix seconds>,v1=<hex HMAC-SHA256(secret as UTF-8, t + "." + body)>".
 * - Standard Webhooks (standardwebhooks.com): webhook-id, webhook-timestamp and webhook-signature
 *   "v1,<base64 HMAC-SHA256(key, id + "." + timestamp + "." + body)>"; the key is the base64 after
 *   `whsec_` for such secrets, otherwise the secret's UTF-8 bytes (a standard library then takes
 *   "whsec_" + base64(secret)).
 */

const encoder = new TextEncoder()

const hmacSha256 = async (key: Uint8Array, message: string): Promise<Uint8Array> => {
  const cryptoKey = await globalThis.crypto.subtle.importKey(
    "raw",
    key as Uint8Array<ArrayBuffer>,
    { name: "HMAC", hash: "SHA-256" },
    false,
    ["sign"]
  )
  return new Uint8Array(await globalThis.crypto.subtle.sign("HMAC", cryptoKey, encoder.encode(message)))
}

const hex = (bytes: Uint8Array) => Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("")
const base64 = (bytes: Uint8Array) => btoa(String.fromCharCode(...bytes))

/** Constant-time comparison of two strings of equal alphabet (hex or base64 MACs). */
const sameText = (a: string, b: string) => {
  if (a.length !== b.length) return false
  let diff = 0
  for (let i = 0; i < a.length; i++) diff |= a.charCodeAt(i) ^ b.charCodeAt(i)
  return diff === 0
}

const standardPrefix = "whsec_"

/** The Standard Webhooks signing key of a webhook secret. */
const standardKey = (secret: string): Uint8Array =>
  secret.startsWith(standardPrefix)
    ? Uint8Array.from(atob(secret.slice(standardPrefix.length)), (c) => c.charCodeAt(0))
    : encoder.encode(secret)

/** Whether a `whsec_` secret carries valid base64 (other secrets are used as UTF-8 bytes). */
export const isValidStandardSecret = (secret: string): boolean => {
  if (!secret.startsWith(standardPrefix)) return true
  try {
    return standardKey(secret).length >= 16
  } catch {
    return false
  }
}

/** The x-ml-signature header of a body sent at `unixSeconds`. */
export const signWebhook = async (secret: string, body: string, unixSeconds: number): Promise<string> =>
  `t=${unixSeconds},v1=${hex(await hmacSha256(encoder.encode(secret), `${unixSeconds}.${body}`))}`

/** The Standard Webhooks headers of a message `id` sent at `unixSeconds`. */
export const standardWebhookHeaders = async (
  secret: string,
  id: string,
  body: string,
  unixSeconds: number
): Promise<Record<"webhook-id" | "webhook-timestamp" | "webhook-signature", string>> => ({
  "webhook-id": id,
  "webhook-timestamp": String(unixSeconds),
  "webhook-signature": `v1,${base64(await hmacSha256(standardKey(secret), `${id}.${unixSeconds}.${body}`))}`
})

export interface VerifyOptions {
  /** How far the signed timestamp may be from now (default 300 seconds). */
  readonly toleranceSeconds?: number
  readonly nowSeconds?: number
}

const withinTolerance = (timestamp: number, options: VerifyOptions) =>
  Math.abs((options.nowSeconds ?? Math.floor(Date.now() / 1000)) - timestamp) <= (options.toleranceSeconds ?? 300)

/** Verifies an x-ml-signature header against the raw body and the timestamp tolerance. */
export const verifyWebhookSignature = async (
  secret: string,
  header: string | null,
  body: string,
  options: VerifyOptions = {}
): Promise<boolean> => {
  const match = header ? /^t=(\d+),v1=([0-9a-f]{64})$/.exec(header) : null
  if (!match || !withinTolerance(Number(match[1]), options)) return false
  return sameText(hex(await hmacSha256(encoder.encode(secret), `${match[1]}.${body}`)), match[2]!)
}

/**
 * Verifies Standard Webhooks headers (webhook-id, webhook-timestamp, webhook-signature, which may
 * list several space-separated "v1,<base64>" signatures during a secret rotation).
 */
export const verifyStandardWebhook = async (
  secret: string,
  headers: { readonly get: (name: string) => string | null },
  body: string,
  options: VerifyOptions = {}
): Promise<boolean> => {
  const id = headers.get("webhook-id")
  const timestamp = headers.get("webhook-timestamp")
  const signatures = headers.get("webhook-signature")
  if (!id || !timestamp || !/^\d+$/.test(timestamp) || !signatures) return false
  if (!withinTolerance(Number(timestamp), options) || !isValidStandardSecret(secret)) return false
  const expected = base64(await hmacSha256(standardKey(secret), `${id}.${timestamp}.${body}`))
  return signatures.split(" ").some((s) => s.startsWith("v1,") && sameText(s.slice(3), expected))
}
