/**
 * Cheap structural checks on parsed JSON bodies, for the predicates that let a hot route's body
 * skip its schema's walk (BodySpec.acceptsAsIs): they allocate nothing and leave anything unusual
 * (a "__proto__" key, an inherited key) to the schema.
 */

/** Whether `value` is a JSON object (not null, not an array). */
export const isPlainObject = (value: unknown): value is object =>
  typeof value === "object" && value !== null && !Array.isArray(value)

/** Own enumerable keys of `value`, counted without building the key list; -1 at a "__proto__" or inherited key. */
export const plainKeyCount = (value: object): number => {
  let count = 0
  for (const key in value) {
    // A JSON "__proto__" is an own property of the parsed object; leave such bodies to the schema.
    if (!Object.hasOwn(value, key) || key === "__proto__") return -1
    count++
  }
  return count
}
