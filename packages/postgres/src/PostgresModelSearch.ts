/**
 * The registry's search (ModelSearch.ts in the core) as one parameterised SQL query: every value and
 * key the caller wrote is a bound parameter, only the operators and directions (from fixed lists)
 * are SQL text. The meaning is the core's `searchModelsIn`, which the contract suite checks: a
 * missing field or a value of another type is NULL and so matches nothing, text compares under
 * COLLATE "C" (code point order), ILIKE folds ASCII only (lower() under "C"), missing order values
 * come last. Equality on a key-value tag is written as JSONB containment and metric and parameter
 * conditions test the key's presence, so the GIN indexes of migration 17 can answer them.
 */
import type {
  ComparisonOperator,
  ModelSearchQuery,
  OrderField,
  SearchCondition,
  SearchField,
  SearchValue
} from "@org/ml-core"
import type { Fragment, Sql } from "postgres"

const TEXT_ARRAY = 25
const FLOAT8_ARRAY = 701

type ValueKind = "string" | "number"

/** The operator as SQL text: chosen from this fixed table, never from the input. */
const operatorSql = (sql: Sql, op: ComparisonOperator): Fragment => {
  switch (op) {
    case "=":
      return sql`=`
    case "!=":
      return sql`<>`
    case "<":
      return sql`<`
    case "<=":
      return sql`<=`
    case ">":
      return sql`>`
    case ">=":
      return sql`>=`
  }
}

/** The field's value of `kind`, NULL when the model has none of that type. */
const fieldSql = (sql: Sql, field: Exclude<SearchField, { kind: "labels" }>, kind: ValueKind): Fragment => {
  switch (field.kind) {
    case "attribute":
      switch (field.name) {
        case "name":
          return sql`name`
        case "version":
          return sql`version`
        case "status":
          return sql`status`
        case "framework":
          return sql`framework`
        case "algorithm":
          return sql`(record->>'algorithm')`
        case "created_at":
          return sql`(record->>'createdAt')`
      }
      break
    case "metric":
      return sql`((record->'metrics'->>${field.key}::text)::float8)`
    case "tag":
      return sql`(record->'keyValueTags'->>${field.key}::text)`
    case "param":
      // CASE evaluates the cast only for numbers, so a string parameter never fails the query.
      return kind === "number"
        ? sql`(CASE WHEN jsonb_typeof(record->'parameters'->${field.key}::text) = 'number'
               THEN (record->'parameters'->>${field.key}::text)::float8 END)`
        : sql`(CASE WHEN jsonb_typeof(record->'parameters'->${field.key}::text) = 'string'
               THEN record->'parameters'->>${field.key}::text END)`
  }
}

const kindOf = (value: SearchValue): ValueKind => typeof value === "number" ? "number" : "string"

/** `field op value` for one literal, typed by the literal. */
const compareSql = (
  sql: Sql,
  field: Exclude<SearchField, { kind: "labels" }>,
  op: ComparisonOperator,
  value: SearchValue
): Fragment =>
  typeof value === "number"
    ? sql`${fieldSql(sql, field, "number")} ${operatorSql(sql, op)} ${value}::float8`
    : sql`${fieldSql(sql, field, "string")} COLLATE "C" ${operatorSql(sql, op)} ${value}::text`

const anyOf = (sql: Sql, field: Exclude<SearchField, { kind: "labels" }>, values: ReadonlyArray<SearchValue>) => {
  const strings = values.filter((v): v is string => kindOf(v) === "string")
  const numbers = values.filter((v): v is number => kindOf(v) === "number")
  const parts: Array<Fragment> = []
  if (strings.length > 0) {
    parts.push(sql`${fieldSql(sql, field, "string")} COLLATE "C" = ANY (${sql.array(strings, TEXT_ARRAY)})`)
  }
  if (numbers.length > 0) {
    parts.push(sql`${fieldSql(sql, field, "number")} = ANY (${sql.array(numbers, FLOAT8_ARRAY)})`)
  }
  return parts.reduce((all, part) => sql`${all} OR ${part}`)
}

const conditionSql = (sql: Sql, condition: SearchCondition): Fragment => {
  const { field } = condition
  if (field.kind === "labels") {
    if (condition.op === "IN") return sql`tags && ${sql.array(condition.values.map(String), TEXT_ARRAY)}`
    const has = sql`tags @> ${sql.array([String(condition.value)], TEXT_ARRAY)}`
    return condition.op === "!=" ? sql`NOT (${has})` : has
  }
  // The key's presence first: the GIN indexes on metrics and parameters answer it.
  const guard = field.kind === "metric"
    ? sql`(record->'metrics') ? ${field.key}::text AND `
    : field.kind === "param"
    ? sql`(record->'parameters') ? ${field.key}::text AND `
    : sql``
  switch (condition.op) {
    case "IN":
      return sql`(${guard}(${anyOf(sql, field, condition.values)}))`
    case "LIKE":
      return sql`(${fieldSql(sql, field, "string")} LIKE ${condition.value}::text)`
    case "ILIKE":
      return sql`(lower(${
        fieldSql(sql, field, "string")
      } COLLATE "C") LIKE lower(${condition.value}::text COLLATE "C"))`
    default:
      if (field.kind === "tag" && condition.op === "=" && typeof condition.value === "string") {
        return sql`((record->'keyValueTags') @> jsonb_build_object(${field.key}::text, ${condition.value}::text))`
      }
      return sql`(${guard}${compareSql(sql, field, condition.op, condition.value)})`
  }
}

/** The order's value: numbers for a metric, text under "C" otherwise. */
const orderSql = (sql: Sql, field: OrderField): Fragment =>
  field.kind === "metric" ? fieldSql(sql, field, "number") : sql`${fieldSql(sql, field, "string")} COLLATE "C"`

const castValue = (sql: Sql, field: OrderField, value: SearchValue) =>
  field.kind === "metric" ? sql`${value}::float8` : sql`${value}::text`

/** Rows after the cursor in the order: a later value, the same value and a later id, or (missing values last) none. */
const afterSql = (sql: Sql, query: ModelSearchQuery): Fragment => {
  const { after, order } = query
  if (after === undefined) return sql``
  if (order === undefined) return sql`AND id > ${after.id}`
  const value = orderSql(sql, order.field)
  if (after.value === null) return sql`AND (${value} IS NULL AND id > ${after.id})`
  const cursor = castValue(sql, order.field, after.value)
  const beyond = order.direction === "ASC" ? sql`>` : sql`<`
  return sql`AND (${value} ${beyond} ${cursor} OR (${value} = ${cursor} AND id > ${after.id}) OR ${value} IS NULL)`
}

/** The search as one query: filters, cursor, order, limit. */
export const searchModels = (sql: Sql, query: ModelSearchQuery) => {
  const where = query.filter.reduce((all, condition) => sql`${all} AND ${conditionSql(sql, condition)}`, sql`true`)
  const order = query.order === undefined
    ? sql`id`
    : sql`${orderSql(sql, query.order.field)} ${query.order.direction === "ASC" ? sql`ASC` : sql`DESC`} NULLS LAST, id`
  return sql<Array<{ id: string; record: unknown }>>`
    SELECT id, record FROM ml_models WHERE ${where} ${afterSql(sql, query)}
    ORDER BY ${order} LIMIT ${query.limit}`
}
