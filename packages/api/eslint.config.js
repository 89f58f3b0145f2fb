import portable from "@org/lint/portable"
export default portable
