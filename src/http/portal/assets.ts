/**
 * The portal's one script: client/portal.ts with @simplewebauthn/browser, bundled by Bun.build in
 * memory once at start (no files written) and served same-origin under a content-hashed path.
 */
import { createHash } from "node:crypto";
import { fileURLToPath } from "node:url";

export interface PortalAsset {
  /** e.g. /assets/portal.3f9a1c2b4d5e6f70.js */
  path: string;
  body: string;
}

let shared: Promise<PortalAsset> | undefined;

/** The bundle, built once per process however many routes (portal, account) serve pages using it. */
export function portalAsset(): Promise<PortalAsset> {
  shared ??= buildPortalAsset();
  return shared;
}

export async function buildPortalAsset(): Promise<PortalAsset> {
  const entry = fileURLToPath(new URL("./client/portal.ts", import.meta.url));
  const result = await Bun.build({ entrypoints: [entry], target: "browser", format: "esm", minify: true });
  const output = result.outputs[0];
  if (!result.success || output === undefined) {
    throw new Error(`portal bundle failed: ${result.logs.map((log) => String(log)).join("; ")}`);
  }
  const body = await output.text();
  const hash = createHash("sha256").update(body).digest("hex").slice(0, 16);
  return { path: `/assets/portal.${hash}.js`, body };
}
