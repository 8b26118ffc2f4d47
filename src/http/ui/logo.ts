/**
 * The optional configured logo (ui.logo_path): read once, served same-origin under a
 * content-hashed path. A missing, empty or oversized file stops the start with a clear message.
 */
import { createHash } from "node:crypto";
import { readFileSync, statSync } from "node:fs";

export const MAX_LOGO_BYTES = 256 * 1024;

const TYPES: Record<string, string> = {
  svg: "image/svg+xml",
  png: "image/png",
  webp: "image/webp",
};

export interface LogoAsset {
  /** e.g. /assets/logo.3f9a1c2b4d5e6f70.svg */
  path: string;
  body: Uint8Array<ArrayBuffer>;
  contentType: string;
}

const loaded = new Map<string, LogoAsset>();

export function loadLogo(filePath: string): LogoAsset {
  // Keyed by the file's state too: an app built later in the same process sees a replaced file.
  const stat = statSync(filePath, { throwIfNoEntry: false });
  const key = `${filePath}\0${stat?.mtimeMs}\0${stat?.size}`;
  const cached = loaded.get(key);
  if (cached) return cached;
  const extension = /\.(svg|png|webp)$/i.exec(filePath)?.[1]?.toLowerCase() ?? "";
  const contentType = TYPES[extension];
  if (contentType === undefined) throw new Error(`ui.logo_path: must be a .svg, .png or .webp file`);
  let body: Uint8Array<ArrayBuffer>;
  try {
    body = new Uint8Array(readFileSync(filePath));
  } catch (error) {
    throw new Error(`ui.logo_path: cannot read ${filePath}: ${(error as Error).message}`);
  }
  if (body.byteLength === 0 || body.byteLength > MAX_LOGO_BYTES) {
    throw new Error(`ui.logo_path: ${filePath} must be 1 byte to ${MAX_LOGO_BYTES / 1024} KiB`);
  }
  const hash = createHash("sha256").update(body).digest("hex").slice(0, 16);
  const asset = { path: `/assets/logo.${hash}.${extension}`, body, contentType };
  loaded.set(key, asset);
  return asset;
}
