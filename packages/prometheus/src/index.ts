export * as PrometheusMetrics from "./PrometheusMetrics.js"
export { Registry } from "prom-client"
