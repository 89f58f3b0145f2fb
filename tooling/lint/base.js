// Shared ESLint flat config: the rules every package in the workspace follows.
import js from "@eslint/js"
import tseslint from "typescript-eslint"

export default tseslint.config(
  { ignores: ["dist/**", "node_modules/**"] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    rules: {
      "@typescript-eslint/no-unused-vars": ["error", { argsIgnorePattern: "^_", varsIgnorePattern: "^_" }],
      "@typescript-eslint/no-explicit-any": "off",
      "require-yield": "off",
      // dprint keeps code within 120 columns; this catches what it cannot split (strings, comments).
      "max-len": ["error", { code: 120, ignoreUrls: false }]
    }
  }
)
