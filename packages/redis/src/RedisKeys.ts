/**
 * Every Redis key layout, in one place (documented in README). Every key starts with the
 * configured prefix; set a prefix holding a hash tag (for example "{ml}:") on Redis Cluster so
 * the multi-key scripts address one slot.
 *
 * Every name that comes from a user or a caller (ids, model names, feature names, user ids,
 * webhook ids) goes through `keyPart`, which percent-encodes the separator `:`, the hash-tag
 * braces, `%` itself, whitespace and control characters. The encoding is injective, so two names
 * never share a key, and an encoded name holds no `:`, so no key is another key plus a suffix
 * (a feature `f:meta` is not the window metadata of `f`). Names without those characters are
 * unchanged, so keys written by earlier releases for them stay byte-identical.
 */

const needsEncoding = /[%:{}\s\p{Cc}\p{Cs}]/u
const encodedCharacters = /[%:{}\s\p{Cc}\p{Cs}]/gu

const percentEncode = (character: string): string => {
  const code = character.charCodeAt(0)
  // A lone surrogate has no UTF-8 form (encodeURIComponent throws); `%u` + 4 hex digits cannot
  // be confused with `%XX`, since `u` is not a hex digit.
  return code >= 0xd800 && code <= 0xdfff ? `%u${code.toString(16).toUpperCase()}` : encodeURIComponent(character)
}

/** The name as one key segment: unchanged unless it holds `%`, `:`, `{`, `}`, whitespace or controls. */
export const keyPart = (name: string): string =>
  needsEncoding.test(name) ? name.replace(encodedCharacters, percentEncode) : name

/** Escapes Redis glob characters, so a prefix or a name matches itself literally in SCAN MATCH. */
export const globLiteral = (text: string): string => text.replace(/[*?[\]\\]/g, (c) => `\\${c}`)

export const registryKeys = (prefix: string) => ({
  /** JSON of one model (the ARCHITECTURE contract `ml:model:{model_id}`). */
  model: (id: string) => `${prefix}ml:model:${keyPart(id)}`,
  /** Sorted set of every model id (all scores 0, ordered by id = creation time). */
  index: () => `${prefix}ml:models`,
  /** Id of the model registered as (name, version): the uniqueness guard. */
  nameVersion: (name: string, version: string) => `${prefix}ml:model-version:${keyPart(name)}:${keyPart(version)}`,
  /** Id of the production version of a name. */
  production: (name: string) => `${prefix}ml:production:${keyPart(name)}`,
  /** Hash status -> number of models. */
  counts: () => `${prefix}ml:model-counts`,
  /** Lists of audit event JSON, per model and per name. */
  auditOfModel: (id: string) => `${prefix}ml:audit:model:${keyPart(id)}`,
  auditOfName: (name: string) => `${prefix}ml:audit:name:${keyPart(name)}`
})

export type RegistryKeys = ReturnType<typeof registryKeys>

export const experimentKeys = (prefix: string) => ({
  experiment: (id: string) => `${prefix}ab:experiment:${keyPart(id)}`,
  index: () => `${prefix}ab:experiments`,
  assignment: (id: string, userId: string) => `${prefix}ab:assignment:${keyPart(id)}:${keyPart(userId)}`,
  /** SCAN MATCH pattern of every sticky assignment of one experiment. */
  assignmentsOf: (id: string) => `${globLiteral(prefix)}ab:assignment:${globLiteral(keyPart(id))}:*`,
  exposures: (id: string) => `${prefix}ab:exposures:${keyPart(id)}`,
  /** Hash "<UTC day>:<variant>" -> exposures that day (the newest MAX_EXPOSURE_DAYS days). */
  exposureDays: (id: string) => `${prefix}ab:exposure-days:${keyPart(id)}`,
  metrics: (id: string) => `${prefix}ab:metrics:${keyPart(id)}`
})

export const driftKeys = (prefix: string) => ({
  monitor: (id: string) => `${prefix}drift:monitor:${keyPart(id)}`,
  monitors: () => `${prefix}drift:monitors`,
  baselines: (id: string, feature: string) => `${prefix}drift:baseline:${keyPart(id)}:${keyPart(feature)}`,
  window: (type: string, id: string, feature: string) =>
    `${prefix}drift:stats:${keyPart(type)}:${keyPart(id)}:${keyPart(feature)}`,
  /** The window's count and skip; `:meta` cannot end a window key, as encoded names hold no `:`. */
  windowMeta: (windowKey: string) => `${windowKey}:meta`,
  states: (id: string) => `${prefix}drift:state:${keyPart(id)}`,
  reports: () => `${prefix}drift:reports`,
  report: (id: string) => `${prefix}drift:report:${keyPart(id)}`,
  alert: (id: string) => `${prefix}drift:alert:${keyPart(id)}`,
  webhooks: () => `${prefix}drift:webhooks`,
  /** Delivery attempts of one webhook (the newest maxDeliveriesPerWebhook), as `<sequence>|<JSON>`. */
  deliveriesOf: (webhookId: string) => `${prefix}drift:deliveries:${keyPart(webhookId)}`,
  /** Set of the webhook ids that have delivery lists, and the counter that orders deliveries across them. */
  deliveryHooks: () => `${prefix}drift:delivery-hooks`,
  deliverySequence: () => `${prefix}drift:delivery-sequence`,
  /** The single list earlier releases kept every delivery in; migrated to the per-webhook lists. */
  legacyDeliveries: () => `${prefix}drift:deliveries`,
  lease: (name: string) => `${prefix}lease:${keyPart(name)}`
})

export const pipelineKeys = (prefix: string) => ({
  pipeline: (id: string) => `${prefix}ml:pipeline:${keyPart(id)}`,
  pipelines: () => `${prefix}ml:pipelines`,
  part: (
    id: string,
    part: "buffer" | "seen" | "seen-order" | "counters" | "state" | "progressive" | "validation" | "updates"
  ) => `${prefix}ml:pipeline:${keyPart(id)}:${part}`,
  update: (id: string) => `${prefix}ml:update:${keyPart(id)}`
})

/** Hash {tokens, at} of one rate-limit bucket (a principal id or a client address), expiring once full again. */
export const rateLimitKey = (prefix: string, bucket: string) => `${prefix}ml:ratelimit:${keyPart(bucket)}`

/** The instance marker: which Redis (and which emptying of it) this data belongs to. */
export const instanceKey = (prefix: string) => `${prefix}ml:instance`

/** Index keys of which at least one exists whenever the prefix holds data (used to tell "empty" from "legacy"). */
export const dataIndexKeys = (prefix: string): ReadonlyArray<string> => [
  registryKeys(prefix).index(),
  experimentKeys(prefix).index(),
  driftKeys(prefix).monitors(),
  driftKeys(prefix).webhooks(),
  driftKeys(prefix).reports(),
  pipelineKeys(prefix).pipelines()
]
