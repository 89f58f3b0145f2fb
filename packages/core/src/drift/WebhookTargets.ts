/**
 * Port: which URLs may receive webhooks. `refusal` names why a URL may not (null: it may); the
 * detector asks at registration and the notifier again before every delivery, since a name can
 * resolve elsewhere by then (DNS rebinding). Address checks need DNS, so the server provides the
 * real adapter; the portable one here only checks the URL itself, and is what runs when none is
 * provided (tests, edge runtimes).
 */
import { Context, Effect, Layer, Option } from "effect"

export interface WebhookTargetsShape {
  readonly refusal: (url: string) => Effect.Effect<string | null>
}

export class WebhookTargets extends Context.Service<WebhookTargets, WebhookTargetsShape>()(
  "@org/ml-core/WebhookTargets"
) {}

/** Rules on the URL alone: an http(s) URL without credentials (they would be sent to, and logged by, others). */
export const urlRefusal = (url: string): string | null => {
  let parsed: URL
  try {
    parsed = new URL(url)
  } catch {
    return "must be an http(s) URL"
  }
  if (parsed.protocol !== "http:" && parsed.protocol !== "https:") return "must be an http(s) URL"
  if (parsed.username !== "" || parsed.password !== "") return "must not contain credentials (user:password@)"
  return null
}

export const urlOnly: WebhookTargetsShape = { refusal: (url) => Effect.succeed(urlRefusal(url)) }

export const layerUrlOnly: Layer.Layer<WebhookTargets> = Layer.succeed(WebhookTargets, WebhookTargets.of(urlOnly))

/** The provided adapter, or the URL-only rules when none is. */
export const current: Effect.Effect<WebhookTargetsShape> = Effect.serviceOption(WebhookTargets).pipe(
  Effect.map(Option.getOrElse(() => urlOnly))
)
