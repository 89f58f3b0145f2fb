export { Registry } from "prom-client"
export * as PrometheusMetrics from "./PrometheusMetrics.js"
