/**
 * Every Redis key layout, in one place (documented in README). Every key starts with the
 * configured prefix.
 *
 * Two layouts: the single-Redis one (`cluster` false) is the one earlier releases wrote, byte for
 * byte, so existing data is read as it is. The cluster layout (`cluster` true) wraps the entity's
 * id in a hash tag, so the keys a script or MULTI touches together share one slot while different
 * experiments, monitors and pipelines spread over the nodes: `ab:experiment:{<id>}`,
 * `ab:assignment:{<id>}:<user>`, `drift:stats:<type>:{<id>}:<feature>`, `ml:pipeline:{<id>}:buffer`.
 * The registry (models, audit, production pointers, status counts) and the instance marker share
 * the one tag `{ml-registry}`: a promotion changes two versions, the production pointer, the
 * counts and two audit lists atomically, and every registry write checks the marker in the same
 * script. The API keys share `{ml-keys}`. Global indexes (experiments, monitors, pipelines,
 * reports, webhooks) are keys of their own; the stores update them in a separate step (README:
 * Redis Cluster).
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

/** `{part}` in the cluster layout (a hash tag: the slot is chosen by `part` alone), `part` otherwise. */
const tagger = (cluster: boolean) => (part: string) => cluster ? `{${part}}` : part

/** The registry's slot in the cluster layout: models, audit, production pointers, counts, marker. */
const registryTag = (cluster: boolean) => cluster ? "{ml-registry}" : ""

export const registryKeys = (basePrefix: string, cluster = false) => {
  const prefix = basePrefix + registryTag(cluster)
  return registryKeysOf(prefix)
}

const registryKeysOf = (prefix: string) => ({
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
  /** JSON of one registered model, its alias pointers included. */
  registered: (name: string) => `${prefix}ml:registered-model:${keyPart(name)}`,
  /** Sorted set of every registered model's name (all scores 0, ordered bytewise by name). */
  registeredIndex: () => `${prefix}ml:registered-models`,
  /** Lists of audit event JSON, per model and per name. */
  auditOfModel: (id: string) => `${prefix}ml:audit:model:${keyPart(id)}`,
  auditOfName: (name: string) => `${prefix}ml:audit:name:${keyPart(name)}`,
  /** The outbox: sorted set of `{"sequence":n,"event":...}` scored by n, written with the audit lists. */
  events: () => `${prefix}ml:events`,
  /** The last outbox sequence given out (INCR). */
  eventSequence: () => `${prefix}ml:event-sequence`,
  /** Hash consumer -> the last outbox sequence it handled. */
  eventCursors: () => `${prefix}ml:event-cursors`
})

export type RegistryKeys = ReturnType<typeof registryKeys>

export const experimentKeys = (prefix: string, cluster = false) => {
  const tag = tagger(cluster)
  return {
    experiment: (id: string) => `${prefix}ab:experiment:${tag(keyPart(id))}`,
    index: () => `${prefix}ab:experiments`,
    /** Counter bumped after each definition insert and commit: change feeds list only when it moved. */
    definitionChanges: () => `${prefix}ab:experiment-changes`,
    assignment: (id: string, userId: string) => `${prefix}ab:assignment:${tag(keyPart(id))}:${keyPart(userId)}`,
    /** Hash experiment id -> retention seconds: completed experiments whose assignments still need their TTL. */
    assignmentExpiry: () => `${prefix}ab:assignment-expiry`,
    /** SCAN MATCH pattern of every sticky assignment of one experiment. */
    assignmentsOf: (id: string) => `${globLiteral(prefix)}ab:assignment:${globLiteral(tag(keyPart(id)))}:*`,
    /** List of DefinitionRevision JSON, oldest first (the newest MAX_DEFINITION_HISTORY), beside the experiment. */
    definitions: (id: string) => `${prefix}ab:definitions:${tag(keyPart(id))}`,
    exposures: (id: string) => `${prefix}ab:exposures:${tag(keyPart(id))}`,
    /** Hash "<UTC day>:<variant>" -> exposures that day (the newest MAX_EXPOSURE_DAYS days). */
    exposureDays: (id: string) => `${prefix}ab:exposure-days:${tag(keyPart(id))}`,
    metrics: (id: string) => `${prefix}ab:metrics:${tag(keyPart(id))}`,
    /** Hash "<variant>:<metric>" -> running minimum of the always-valid p-value (17 digits). */
    sequential: (id: string) => `${prefix}ab:sequential:${tag(keyPart(id))}`,
    /** Hash "<dimension>" -> values kept, "<dimension>\x1f<value>" -> 1 (the distinct values of breakdowns). */
    dimensionValues: (id: string) => `${prefix}ab:dimension-values:${tag(keyPart(id))}`,
    /** Hash "<dimension>\x1f<value>\x1f<variant>:<metric>" -> summary. */
    dimensionMetrics: (id: string) => `${prefix}ab:dimension-metrics:${tag(keyPart(id))}`,
    /** Hash "<dimension>\x1f<value>\x1f<variant>" -> exposures. */
    dimensionExposures: (id: string) => `${prefix}ab:dimension-exposures:${tag(keyPart(id))}`
  }
}

export const driftKeys = (prefix: string, cluster = false) => {
  const tag = tagger(cluster)
  return driftKeysOf(prefix, tag)
}

const driftKeysOf = (prefix: string, tag: (part: string) => string) => ({
  monitor: (id: string) => `${prefix}drift:monitor:${tag(keyPart(id))}`,
  monitors: () => `${prefix}drift:monitors`,
  baselines: (id: string, feature: string) => `${prefix}drift:baseline:${tag(keyPart(id))}:${keyPart(feature)}`,
  window: (type: string, id: string, feature: string) =>
    `${prefix}drift:stats:${keyPart(type)}:${tag(keyPart(id))}:${keyPart(feature)}`,
  /** The window's count and skip; `:meta` cannot end a window key, as encoded names hold no `:`. */
  windowMeta: (windowKey: string) => `${windowKey}:meta`,
  states: (id: string) => `${prefix}drift:state:${tag(keyPart(id))}`,
  reports: () => `${prefix}drift:reports`,
  report: (id: string) => `${prefix}drift:report:${tag(keyPart(id))}`,
  alert: (id: string) => `${prefix}drift:alert:${tag(keyPart(id))}`,
  webhooks: () => `${prefix}drift:webhooks`,
  /** Delivery attempts of one webhook (the newest maxDeliveriesPerWebhook), as `<sequence>|<JSON>`. */
  deliveriesOf: (webhookId: string) => `${prefix}drift:deliveries:${tag(keyPart(webhookId))}`,
  /** Set of the webhook ids that have delivery lists, and the counter that orders deliveries across them. */
  deliveryHooks: () => `${prefix}drift:delivery-hooks`,
  deliverySequence: () => `${prefix}drift:delivery-sequence`,
  /** The single list earlier releases kept every delivery in; migrated to the per-webhook lists. */
  legacyDeliveries: () => `${prefix}drift:deliveries`,
  lease: (name: string) => `${prefix}lease:${keyPart(name)}`
})

export const pipelineKeys = (prefix: string, cluster = false) => {
  const tag = tagger(cluster)
  return {
    pipeline: (id: string) => `${prefix}ml:pipeline:${tag(keyPart(id))}`,
    pipelines: () => `${prefix}ml:pipelines`,
    part: (
      id: string,
      part: "buffer" | "seen" | "seen-order" | "counters" | "state" | "progressive" | "validation" | "updates"
    ) => `${prefix}ml:pipeline:${tag(keyPart(id))}:${part}`,
    update: (id: string) => `${prefix}ml:update:${tag(keyPart(id))}`
  }
}

/** Hash {tokens, at} of one rate-limit bucket (a principal id or a client address), expiring once full again. */
export const rateLimitKey = (prefix: string, bucket: string) => `${prefix}ml:ratelimit:${keyPart(bucket)}`

/** The instance marker: which Redis (and which emptying of it) this data belongs to. */
export const instanceKey = (prefix: string, cluster = false) => `${prefix}${registryTag(cluster)}ml:instance`

/** The API keys' slot prefix: one tag in the cluster layout (a key's hashes and events change together). */
export const keyStorePrefix = (prefix: string, cluster = false) => prefix + (cluster ? "{ml-keys}" : "")

/** Index keys of which at least one exists whenever the prefix holds data (used to tell "empty" from "legacy"). */
export const dataIndexKeys = (prefix: string, cluster = false): ReadonlyArray<string> => [
  registryKeys(prefix, cluster).index(),
  experimentKeys(prefix, cluster).index(),
  driftKeys(prefix, cluster).monitors(),
  driftKeys(prefix, cluster).webhooks(),
  driftKeys(prefix, cluster).reports(),
  pipelineKeys(prefix, cluster).pipelines()
]
