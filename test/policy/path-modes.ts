/**
 * What the path-reading test files share: one policy with a bypass, a deny and an authenticated
 * rule, served by two Vigils, one per `path_parameters` mode, and a forwardAuth call to either.
 */
import { afterAll, beforeAll } from "bun:test";
import { startVigil, type TestVigil } from "../helpers/vigil.ts";

export const POLICY = `
rules:
  - { name: public, paths: ["/public/**"], action: bypass }
  - { name: admin, paths: ["/admin/**"], action: deny }
  - { name: app, action: authenticated }
default: deny
`;

/** The Vigil with the default `path_parameters: reject` (real Redis); set by usePathModes. */
export let reject: TestVigil;
/** The Vigil with `path_parameters: strip` (memory store); set by usePathModes. */
export let strip: TestVigil;

/** Starts both Vigils before the calling file's tests and stops them after. */
export function usePathModes(): void {
  beforeAll(async () => {
    reject = await startVigil({ policyText: POLICY });
    strip = await startVigil({ policyText: `path_parameters: strip\n${POLICY}`, store: "memory" });
  });
  afterAll(async () => {
    await reject?.close();
    await strip?.close();
  });
}

/** GET app.example.com`uri` as Traefik asks /auth about it (an API client: JSON answers). */
export const auth = (vigil: TestVigil, uri: string) =>
  fetch(`${vigil.url}/auth`, {
    redirect: "manual",
    headers: {
      "X-Forwarded-Method": "GET",
      "X-Forwarded-Proto": "https",
      "X-Forwarded-Host": "app.example.com",
      "X-Forwarded-Uri": uri,
      Accept: "application/json",
    },
  });
