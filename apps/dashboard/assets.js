// Where the built dashboard lives, for the server that serves it (apps/server/src/Dashboard.ts).
import { fileURLToPath } from "node:url"

export const dashboardDirectory = fileURLToPath(new URL("./dist/", import.meta.url))
