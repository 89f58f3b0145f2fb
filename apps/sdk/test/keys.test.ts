// Key management through the SDK against a real server with authentication on.
import { describe, expect, it } from "vitest"
import { createClient, ForbiddenError, UnauthorizedError } from "../src/index.js"
import { useServer } from "./serverFixture.js"

const bootstrapToken = "sdk-bootstrap-token-0123456789"
const handle = useServer({ ML_API_TOKEN: bootstrapToken })

describe("API keys through the SDK", () => {
  it("creates, lists and revokes keys; a wrong role raises ForbiddenError naming the permission", async () => {
    const admin = createClient({ baseUrl: handle.url, token: bootstrapToken })
    const { key, token } = await admin.createKey({ name: "reader", role: "viewer" })
    expect(key).toMatchObject({ name: "reader", role: "viewer", createdBy: "bootstrap" })
    expect((await admin.listKeys()).map((k) => k.id)).toContain(key.id)

    const reader = createClient({ baseUrl: handle.url, token })
    await expect(reader.registry.listModelsPage()).resolves.toBeDefined()
    const refused = await reader.createKey({ name: "sneaky", role: "admin" }).catch((error: unknown) => error)
    expect(refused).toBeInstanceOf(ForbiddenError)
    expect((refused as ForbiddenError).problem.permission).toBe("keys:manage")

    await admin.revokeKey(key.id)
    await expect(reader.registry.listModelsPage()).rejects.toBeInstanceOf(UnauthorizedError)
    expect((await admin.listKeys()).find((k) => k.id === key.id)).toMatchObject({ revokedBy: "bootstrap" })
    expect((await admin.listKeyEvents()).filter((e) => e.keyId === key.id).map((e) => [e.action, e.actor])).toEqual([
      ["created", "bootstrap"],
      ["revoked", "bootstrap"]
    ])
  })

  it("tells a client who it is and what it may do", async () => {
    const admin = createClient({ baseUrl: handle.url, token: bootstrapToken })
    const { token } = await admin.createKey({ name: "scoped", role: "ingest", modelNames: ["fraud-*"] })
    const me = await createClient({ baseUrl: handle.url, token }).whoami()
    expect(me).toMatchObject({ name: "scoped", role: "ingest", modelNames: ["fraud-*"] })
    expect(me.permissions).toContain("drift:record")
    expect(me.permissions).not.toContain("models:write")
  })
})
