/**
 * The server's /openapi.json: generated from the contract's endpoint tables (@org/ml-api), with
 * the hand-written entries of the routes not yet mounted from a table merged in, so the
 * document describes every route the app serves.
 */
import { endpoints, makeOpenApi as generate, namedSchemas, type OpenApiDocument } from "@org/ml-api"
import { legacyContract } from "./routes/LegacyOpenApi.js"

export const makeOpenApi = (): OpenApiDocument => generate({ endpoints, schemas: namedSchemas, legacy: legacyContract })
