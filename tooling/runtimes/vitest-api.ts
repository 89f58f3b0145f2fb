/**
 * The vitest API the core's suites use (describe / it / it.each / test / afterAll / expect),
 * for runtimes where vitest itself does not run (Deno, workerd). Each runtime passes how a
 * named test is registered; `expect` is Jest's expect, the same matcher API vitest implements.
 */
import { expect as jestExpect } from "expect"

export type TestBody = () => unknown | Promise<unknown>

/**
 * `deferSuites` keeps top-level describe bodies until `collectSuites()` runs them: workerd refuses
 * random values while a module is evaluated, and suites draw them (ids of sample records) while
 * declaring their cases.
 */
export const makeVitestApi = (
  register: (name: string, body: TestBody) => void,
  options: { readonly deferSuites?: boolean } = {}
) => {
  const path: Array<string> = []
  const afterAllHooks: Array<TestBody> = []
  const deferredSuites: Array<() => void> = []
  let collecting = options.deferSuites !== true

  const describe = (name: string, body: () => void): void => {
    if (!collecting) {
      deferredSuites.push(() => describe(name, body))
      return
    }
    path.push(name)
    try {
      body()
    } finally {
      path.pop()
    }
  }

  const registerNamed = (name: string, body: TestBody) => register([...path, name].join(" > "), body)

  const format = (template: string, args: ReadonlyArray<unknown>) => {
    let index = 0
    return template.replace(/%[sdifjo]/g, () => String(args[index++]))
  }

  const it = Object.assign(registerNamed, {
    each: <T>(cases: ReadonlyArray<T>) => (name: string, body: (...args: Array<any>) => unknown) => {
      for (const testCase of cases) {
        const args = Array.isArray(testCase) ? testCase : [testCase]
        registerNamed(format(name, args), () => body(...args))
      }
    }
  })
  const afterAll = (body: TestBody) => afterAllHooks.push(body)
  const collectSuites = () => {
    collecting = true
    for (const suite of deferredSuites.splice(0)) suite()
  }
  return { describe, it, test: it, afterAll, afterAllHooks, collectSuites, expect }
}

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

const expect = Object.assign(
  (actual: unknown, message?: string) =>
    message === undefined ? jestExpect(actual) : withMessage(jestExpect(actual), message),
  jestExpect
) as unknown as typeof jestExpect & ((actual: unknown, message?: string) => ReturnType<typeof jestExpect>)
