/**
 * The registry's Redis key layout, in one place (documented in README). Every key starts with
 * the configured prefix; set a prefix holding a hash tag (for example "{ml}:") on Redis Cluster
 * so the multi-key scripts address one slot.
 */
export const registryKeys = (prefix: string) => ({
  /** JSON of one model (the ARCHITECTURE contract `ml:model:{model_id}`). */
  model: (id: string) => `${prefix}ml:model:${id}`,
  /** Sorted set of every model id (all scores 0, ordered by id = creation time). */
  index: () => `${prefix}ml:models`,
  /** Id of the model registered as (name, version): the uniqueness guard. */
  nameVersion: (name: string, version: string) => `${prefix}ml:model-version:${name}:${version}`,
  /** Id of the production version of a name. */
  production: (name: string) => `${prefix}ml:production:${name}`,
  /** Hash status -> number of models. */
  counts: () => `${prefix}ml:model-counts`,
  /** Lists of audit event JSON, per model and per name. */
  auditOfModel: (id: string) => `${prefix}ml:audit:model:${id}`,
  auditOfName: (name: string) => `${prefix}ml:audit:name:${name}`
})

export type RegistryKeys = ReturnType<typeof registryKeys>
