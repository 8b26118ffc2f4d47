/**
 * The path a policy matches, from the request's raw (still-encoded) path: refuses what backends
 * read differently (see the policy's encoded_slashes and path_parameters), strips or refuses path
 * parameters, then normalises. A refusal is a 400 with this reason; nothing is guessed.
 */
import { normalisePath, stripPathParameters } from "./matchers/path.ts";

export interface PathSettings {
  encodedSlashes: "reject" | "keep";
  pathParameters: "reject" | "strip";
}

export type PathResult = { ok: true; path: string } | { ok: false; error: string };

const AMBIGUOUS_SLASH = /%2f|%5c|%00|\\/i;
// An encoded ";" is data to a backend that splits parameters first (Tomcat) and a parameter to
// one that decodes first: no single reading is safe, so it is refused whatever the setting.
const ENCODED_SEMICOLON = /%3b/i;

export function requestPath(rawPath: string, settings: PathSettings): PathResult {
  if (settings.encodedSlashes === "reject" && AMBIGUOUS_SLASH.test(rawPath)) {
    return {
      ok: false,
      error: "path holds an encoded slash, backslash or NUL (policy encoded_slashes: reject)",
    };
  }
  if (ENCODED_SEMICOLON.test(rawPath)) {
    return { ok: false, error: "path holds an encoded semicolon (%3B), which backends read differently" };
  }
  if (rawPath.includes(";")) {
    if (settings.pathParameters === "reject") {
      return { ok: false, error: "path holds a ';' path parameter (policy path_parameters: reject)" };
    }
    return { ok: true, path: normalisePath(stripPathParameters(rawPath)) };
  }
  return { ok: true, path: normalisePath(rawPath) };
}
