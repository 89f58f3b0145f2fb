import base from "@org/lint/base"
export default base
