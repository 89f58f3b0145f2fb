/** Moved to @org/ml-pipeline, which the library entry shares with the server; re-exported for the server's modules. */
export * from "@org/ml-pipeline/background-work"
