export * as Migrations from "./Migrations.js"
export * as PostgresClient from "./PostgresClient.js"
export * as PostgresModelStore from "./PostgresModelStore.js"
