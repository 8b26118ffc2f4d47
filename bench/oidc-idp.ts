/**
 * A real OpenID Provider (oidc-provider) on loopback for the oauth2-proxy rows: one confidential
 * client, any login name accepted on oidc-provider's development login and consent pages, an
 * email claim. Only what a real sign-in through oauth2-proxy needs.
 */
import { createServer, type Server } from "node:http";
import Provider from "oidc-provider";
import { freePort, LOOPBACK } from "./lib.ts";

export interface TestIdp {
  issuer: string;
  stop(): Promise<void>;
}

export async function startIdp(client: {
  id: string;
  secret: string;
  redirectUri: string;
}): Promise<TestIdp> {
  const port = await freePort();
  const issuer = `http://${LOOPBACK}:${port}`;
  const provider = new Provider(issuer, {
    clients: [
      {
        client_id: client.id,
        client_secret: client.secret,
        redirect_uris: [client.redirectUri],
        grant_types: ["authorization_code"],
        response_types: ["code"],
        token_endpoint_auth_method: "client_secret_post",
      },
    ],
    claims: { openid: ["sub"], email: ["email", "email_verified"] },
    findAccount: (_context, id) => ({
      accountId: id,
      claims: () => ({ sub: id, email: `${id}@example.com`, email_verified: true }),
    }),
    features: { devInteractions: { enabled: true } },
    // Plain-HTTP loopback issuer: oidc-provider's cookies must not demand a secure connection.
    cookies: { keys: [crypto.randomUUID()] },
  });
  const server: Server = createServer(provider.callback());
  await new Promise<void>((resolve) => server.listen(port, LOOPBACK, resolve));
  return {
    issuer,
    stop: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
