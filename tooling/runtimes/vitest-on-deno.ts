/**
 * Runs vitest-style suites (describe / it / expect) on Deno's own test runner, so the core's
 * tests execute unchanged in Deno: each `it` becomes a `Deno.test` named by its describe path,
 * and `expect` is Jest's expect, the same matcher API vitest implements.
 */
import { expect as jestExpect } from "expect"

declare const Deno: {
  test: (options: { name: string; fn: () => Promise<void>; sanitizeOps?: boolean; sanitizeResources?: boolean }) => void
}

type Body = () => unknown | Promise<unknown>
const path: Array<string> = []
const afterAllHooks: Array<Body> = []

export const describe = (name: string, body: () => void): void => {
  path.push(name)
  try {
    body()
  } finally {
    path.pop()
  }
}

const register = (name: string, body: Body) => {
  Deno.test({
    name: [...path, name].join(" > "),
    fn: async () => {
      await body()
    },
    sanitizeOps: false,
    sanitizeResources: false
  })
}

const format = (template: string, args: ReadonlyArray<unknown>) => {
  let index = 0
  return template.replace(/%[sdifjo]/g, () => String(args[index++]))
}

export const it = Object.assign(register, {
  each: <T>(cases: ReadonlyArray<T>) => (name: string, body: (...args: Array<any>) => unknown) => {
    for (const testCase of cases) {
      const args = Array.isArray(testCase) ? testCase : [testCase]
      register(format(name, args), () => body(...args))
    }
  }
})
export const test = it
export const afterAll = (body: Body) => afterAllHooks.push(body)

/**
 * Vitest's `expect(value, message)` names the case in a failure; Jest's takes one argument, so
 * here a message wraps each matcher (and .not, .resolves, .rejects) to prefix its failure.
 */
const withMessage = <T extends object>(matchers: T, message: string): T =>
  new Proxy(matchers, {
    get: (target, key, receiver) => {
      const value = Reflect.get(target, key, receiver)
      if (typeof value === "function") {
        return (...args: Array<unknown>) => {
          const prefixed = (error: unknown) => {
            if (error instanceof Error) error.message = `${message}: ${error.message}`
            throw error
          }
          try {
            const result = value.apply(target, args)
            return result instanceof Promise ? result.catch(prefixed) : result
          } catch (error) {
            return prefixed(error)
          }
        }
      }
      return value !== null && typeof value === "object" ? withMessage(value, message) : value
    }
  })

export const expect = Object.assign(
  (actual: unknown, message?: string) =>
    message === undefined ? jestExpect(actual) : withMessage(jestExpect(actual), message),
  jestExpect
) as unknown as typeof jestExpect & ((actual: unknown, message?: string) => ReturnType<typeof jestExpect>)
