/**
 * Hono's router with its answers kept per method and path. The app's routes cannot all go into
 * Hono's RegExpRouter (`/v1/drift/reports/{id}.html` beside `/v1/drift/reports/{id}` is a shape it
 * refuses), so Hono falls back to its TrieRouter, which walks the trie, collects the matching
 * middleware and route handlers and sorts them on every request: about 3 KB of garbage and several
 * µs of a hot request (bench/PROFILE.md). Hot requests repeat the same few paths (one experiment's
 * assignments), and a match depends only on the method, the path and the routes, so the answer
 * is kept and handed out again: Hono reads a match, it never changes one. Bounded: at most `limit`
 * answers for paths up to `maxPathLength` characters, all forgotten when full or when a route is added.
 */
import type { Result, Router } from "hono/router"

export class MemoizedRouter<T> implements Router<T> {
  readonly name: string
  readonly #router: Router<T>
  readonly #answers = new Map<string, Result<T>>()
  readonly #limit: number
  readonly #maxPathLength: number

  constructor(router: Router<T>, { limit = 1024, maxPathLength = 256 } = {}) {
    this.#router = router
    this.#limit = limit
    this.#maxPathLength = maxPathLength
    this.name = `Memoized ${router.name}`
  }

  add(method: string, path: string, handler: T): void {
    this.#answers.clear()
    this.#router.add(method, path, handler)
  }

  match(method: string, path: string): Result<T> {
    if (path.length > this.#maxPathLength) return this.#router.match(method, path)
    // A method never contains a space, so the key is unambiguous.
    const key = `${method} ${path}`
    let answer = this.#answers.get(key)
    if (answer === undefined) {
      answer = this.#router.match(method, path)
      if (this.#answers.size >= this.#limit) this.#answers.clear()
      this.#answers.set(key, answer)
    }
    return answer
  }

  /** How many answers are kept (for tests of the bound). */
  get size(): number {
    return this.#answers.size
  }
}
