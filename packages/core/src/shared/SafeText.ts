/**
 * Free text a person or service sends and others later read (audit trails, logs, listings). A
 * control character can forge a log line (newline) or hide text (DEL, C1), and a bidi control
 * (e.g. U+202E right-to-left override) makes a name read differently from what it is, so both
 * are refused wherever text is shown as written; every such field also has a length limit.
 */
import { Schema } from "effect"

// C0, DEL and C1 controls, and the bidi embedding, override, isolate and mark characters.
// The u flag makes Effect export the pattern to JSON Schema (OpenAPI), whose regexes are Unicode-mode.
// Matching control characters is the point here, hence the lint exceptions.
// eslint-disable-next-line no-control-regex
const unsafeCharacter = /[\u0000-\u001F\u007F-\u009F\u061C\u200E\u200F\u202A-\u202E\u2066-\u2069]/u
// eslint-disable-next-line no-control-regex
const unsafeCharacterInText = /[\u0000-\u0008\u000B-\u001F\u007F-\u009F\u061C\u200E\u200F\u202A-\u202E\u2066-\u2069]/u

export const controlCharacterMessage = "must not contain control or bidirectional-override characters"

const refusing = (pattern: RegExp, message: string) => Schema.makeFilter((s: string) => !pattern.test(s) || message)

/** One line of text up to `maxLength` characters, without control or bidi characters (names, labels, tags). */
export const SafeLabel = (maxLength: number, options: { readonly minLength?: number } = {}) => {
  const bounded = Schema.String.check(
    Schema.isMaxLength(maxLength, { message: `must be at most ${maxLength} characters` }),
    refusing(unsafeCharacter, controlCharacterMessage)
  )
  return options.minLength
    ? bounded.check(Schema.isMinLength(options.minLength, { message: "must not be empty" }))
    : bounded
}

/**
 * Prose up to `maxLength` characters (descriptions, reasons): newlines and tabs are allowed, other
 * control characters and bidi controls are not.
 */
export const SafeText = (maxLength: number) =>
  Schema.String.check(
    Schema.isMaxLength(maxLength, { message: `must be at most ${maxLength} characters` }),
    refusing(
      unsafeCharacterInText,
      "must not contain control characters other than newline and tab, nor bidirectional-override characters"
    )
  )

/** The longest `onBehalfOf` annotation: who a caller says it acts for. */
export const MAX_ON_BEHALF_OF_LENGTH = 256

/**
 * Who the authenticated caller says it acts for (a body's `actor`, the x-actor header). Recorded
 * beside the actor, never as it: the actor is always the authenticated principal.
 */
export const OnBehalfOf = SafeLabel(MAX_ON_BEHALF_OF_LENGTH, { minLength: 1 }).annotate({
  description: "Who the caller says it acts for; recorded beside the authenticated actor, never as it"
})

/** Whether `text` contains a control or bidi character (for values read outside a schema, e.g. headers). */
export const hasUnsafeCharacter = (text: string): boolean => unsafeCharacter.test(text)
