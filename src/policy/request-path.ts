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

/**
 * path: normalised, what rules match. asWritten: the path before normalisation, as a backend that
 * does not normalise reads it (in strip mode, the normalised path: those backends normalise).
 */
export type PathResult = { ok: true; path: string; asWritten: string } | { ok: false; error: string };

const AMBIGUOUS_SLASH = /%2f|%5c|%00|\\/i;
// An encoded ";" is data to a backend that splits parameters first (Tomcat) and a parameter to
// one that decodes first: no single reading is safe, so it is refused whatever the setting.
const ENCODED_SEMICOLON = /%3b/i;

// A "." or ".." segment, raw or percent-encoded. Browsers resolve them before sending and
// Traefik's sanitizePath removes them; behind other proxies backends disagree (Express routes
// /admin/../x under /admin; Go collapses "//" before resolving, WHATWG URL does not), so no
// reading is safe and a request that carries one is refused.
const DOT_SEGMENT = /(?:^|\/)(?:\.|%2e){1,2}(?:\/|$)/i;

const DOT_SEGMENT_REFUSED: PathResult = {
  ok: false,
  error: "path holds a dot segment ('.' or '..'), which backends resolve differently",
};

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
  if (settings.pathParameters === "strip") {
    // For backends that read paths as Tomcat does (parameters cut, then decoded and normalised):
    // the normalised path is their reading too, so there is no as-written reading to weigh.
    const stripped = stripPathParameters(rawPath);
    if (DOT_SEGMENT.test(stripped)) return DOT_SEGMENT_REFUSED;
    const path = normalisePath(stripped);
    return { ok: true, path, asWritten: path };
  }
  if (rawPath.includes(";")) {
    return { ok: false, error: "path holds a ';' path parameter (policy path_parameters: reject)" };
  }
  if (DOT_SEGMENT.test(rawPath)) return DOT_SEGMENT_REFUSED;
  return { ok: true, path: normalisePath(rawPath), asWritten: rawPath };
}
