import { defineConfig } from "vite"

// Preact through the automatic JSX runtime; hashed file names so the server can cache assets forever.
export default defineConfig({
  oxc: { jsx: { runtime: "automatic", importSource: "preact" } },
  build: { target: "es2022", outDir: "dist", emptyOutDir: true, sourcemap: true, reportCompressedSize: true },
  server: {
    proxy: { "/v1": "http://127.0.0.1:8080", "/healthz": "http://127.0.0.1:8080", "/readyz": "http://127.0.0.1:8080" }
  }
})
