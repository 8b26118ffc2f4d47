// Path matching on normalised paths: globs (matched segment by segment) and regexes.
//
// Glob syntax:
// - `*` any run of characters within one segment, `?` one character within one segment;
// - `**` as a whole segment: zero or more whole segments, so `/api/**/public` matches
//   `/api/public` and `/api/a/b/public` but never `/apipublic` or `/api/x/notpublic`; a trailing
//   `/**` also matches its parent (`/admin/**` matches `/admin` and `/admin/`);
// - `**` beside other text in one segment (`/a**b`, `/**.pdf`) is refused: it reads as "across
//   segments" but could only ever mean `*`, and a rule that silently matches less (or more) than
//   its author believes is how bypasses are written.
export type PathMatcher = (path: string) => boolean;

const escapeRegex = (text: string) => text.replace(/[.+^${}()|[\]\\]/g, "\\$&");

/** One glob segment (no "/", no "**") as regex source: "*" and "?" stay inside the segment. */
function segmentSource(segment: string): string {
  let source = "";
  for (const char of segment) {
    source += char === "*" ? "[^/]*" : char === "?" ? "[^/]" : escapeRegex(char);
  }
  return source;
}

const ANY_DEPTH = "**";

/** The glob's segments, validated; runs of "**" collapse into one (they mean the same). */
function globSegments(glob: string): string[] {
  if (!glob.startsWith("/")) throw new Error(`path "${glob}" must start with "/"`);
  const segments: string[] = [];
  for (const segment of glob.slice(1).split("/")) {
    if (segment !== ANY_DEPTH && segment.includes(ANY_DEPTH)) {
      throw new Error(
        `path "${glob}": "**" must be a whole segment ("/x/**/y"); use "*" to match within one segment`,
      );
    }
    if (segment === ANY_DEPTH && segments.at(-1) === ANY_DEPTH) continue;
    segments.push(segment);
  }
  return segments;
}

/**
 * The common glob (at most one "**", at most one "*" per segment) as one anchored regex: "**" in
 * the middle is `(?:/[^/]*)*` (whole segments only), at the end `(?:/.*)?`. Backtracking stays
 * linear in the path's length with only one such group and one "*" per segment.
 */
function singleDepthRegExp(segments: readonly string[]): RegExp {
  let source = "";
  segments.forEach((segment, i) => {
    if (segment !== ANY_DEPTH) source += `/${segmentSource(segment)}`;
    else source += i === segments.length - 1 ? "(?:/.*)?" : "(?:/[^/]*)*";
  });
  return new RegExp(`^${source}$`);
}

/**
 * The classic greedy wildcard walk: "*" any run, "?" one item, anything else one item that
 * `same` accepts. It only ever returns to the last "*" seen, so it costs O(items × pattern),
 * where a regex with several stars backtracks polynomially (a long hostile path could make one
 * match take seconds).
 */
function wildcardWalk<P, T>(
  pattern: ArrayLike<P>,
  items: ArrayLike<T>,
  isStar: (p: P) => boolean,
  same: (p: P, item: T) => boolean,
): boolean {
  let at = 0;
  let item = 0;
  let lastStar = -1;
  let resumeAt = 0;
  while (item < items.length) {
    if (at < pattern.length && isStar(pattern[at]!)) {
      lastStar = at++;
      resumeAt = item;
    } else if (at < pattern.length && same(pattern[at]!, items[item]!)) {
      at++;
      item++;
    } else if (lastStar >= 0) {
      at = lastStar + 1;
      item = ++resumeAt;
    } else {
      return false;
    }
  }
  while (at < pattern.length && isStar(pattern[at]!)) at++;
  return at === pattern.length;
}

/** wildcardWalk over the characters of one segment ("*" and "?" within it). */
const matchesSegment = (pattern: string, segment: string): boolean =>
  wildcardWalk(
    pattern,
    segment,
    (char) => char === "*",
    (char, actual) => char === "?" || char === actual,
  );

/** Any other glob, segment by segment: "**" is the star over whole segments. */
function segmentMatcher(segments: readonly string[]): PathMatcher {
  // Decided once per glob: which segments are "**", which need the wildcard walk.
  const tokens = segments.map((segment) => ({
    any: segment === ANY_DEPTH,
    wild: /[*?]/.test(segment),
    text: segment,
  }));
  const isAny = (token: (typeof tokens)[number]) => token.any;
  const same = (token: (typeof tokens)[number], segment: string) =>
    token.wild ? matchesSegment(token.text, segment) : token.text === segment;
  return (path) => wildcardWalk(tokens, path.slice(1).split("/"), isAny, same);
}

const starCount = (segment: string) => segment.split("*").length - 1;

/** Compiles one glob (see the syntax above); throws naming the glob when it is refused. */
export function compileGlob(glob: string): PathMatcher {
  const segments = globSegments(glob);
  const depths = segments.filter((segment) => segment === ANY_DEPTH).length;
  const simple = depths <= 1 && segments.every((segment) => segment === ANY_DEPTH || starCount(segment) <= 1);
  if (simple) {
    const regex = singleDepthRegExp(segments);
    return (path) => regex.test(path);
  }
  return segmentMatcher(segments);
}

export function compilePaths(globs: readonly string[] | undefined, regex: string | undefined): PathMatcher {
  const matchers = (globs ?? []).map(compileGlob);
  if (regex !== undefined) {
    let pattern: RegExp;
    try {
      pattern = new RegExp(regex);
    } catch (error) {
      throw new Error(`path_regex "${regex}": ${(error as Error).message}`);
    }
    matchers.push((path) => pattern.test(path));
  }
  return (path) => matchers.some((match) => match(path));
}

const UNRESERVED = /%(2[dDeE]|3[0-9]|[46][1-9a-fA-F]|[57][0-9aA]|5[fF]|7[eE])/g;

/**
 * Normalises a request path before matching, so "/%61dmin", "/a/../admin" and "//admin" cannot slip
 * past an "/admin/**" rule: decode percent-encoded unreserved characters, collapse repeated slashes,
 * and remove dot segments (RFC 3986 5.2.4). Reserved encodings such as %2F stay encoded.
 */
/** What normalisePath could change: a percent sign, an empty segment ("//"), a dot segment. */
const NEEDS_NORMALISING = /%|\/\/|\/\.\.?(?:\/|$)/;

export function normalisePath(rawPath: string): string {
  // Most paths are already normal: return them as they are, without splitting and joining.
  if (rawPath.startsWith("/") && !NEEDS_NORMALISING.test(rawPath)) return rawPath;
  const decoded = rawPath.replace(UNRESERVED, (encoded) =>
    String.fromCharCode(Number.parseInt(encoded.slice(1), 16)),
  );
  const segments: string[] = [];
  const parts = decoded.split("/");
  for (let i = 1; i < parts.length; i++) {
    const segment = parts[i]!;
    const isLast = i === parts.length - 1;
    if (segment === "..") {
      segments.pop();
      if (isLast) segments.push("");
    } else if (segment === ".") {
      if (isLast) segments.push("");
    } else if (segment === "" && !isLast) {
      // collapse "//"
    } else {
      segments.push(segment);
    }
  }
  return `/${segments.join("/")}`;
}

/**
 * Removes path parameters (";" up to the end of each segment), as Tomcat, Jetty, Spring and
 * Undertow do before they resolve dot segments: "/public/..;/admin/x" is "/public/../admin/x",
 * which normalisePath then reads as "/admin/x", like those backends.
 */
export function stripPathParameters(rawPath: string): string {
  if (!rawPath.includes(";")) return rawPath;
  return rawPath
    .split("/")
    .map((segment) => {
      const at = segment.indexOf(";");
      return at < 0 ? segment : segment.slice(0, at);
    })
    .join("/");
}
