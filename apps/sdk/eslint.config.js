// The SDK runs in browsers and workers too: it gets the same portability rules as the core.
import portable from "@org/lint/portable"
export default [...portable, {
  files: ["test/**/*.ts"],
  rules: { "no-restricted-imports": "off", "no-restricted-globals": "off" }
}]
