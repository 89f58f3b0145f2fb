/**
 * The server's /openapi.json: generated from the contract's endpoint tables (@org/ml-api), which
 * describe every route the app serves.
 */
import { endpoints, makeOpenApi as generate, namedSchemas, type OpenApiDocument } from "@org/ml-api"

export const makeOpenApi = (): OpenApiDocument => generate({ endpoints, schemas: namedSchemas })
