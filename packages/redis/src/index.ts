export * as RedisClient from "./RedisClient.js"
export * as RedisModelStore from "./RedisModelStore.js"
export { registryKeys } from "./RedisKeys.js"
export * as RedisExperimentStore from "./RedisExperimentStore.js"
