/** Path matching on normalised paths: globs ("*" one segment, "**" any depth) and regexes. */
export type PathMatcher = (path: string) => boolean;

const escapeRegex = (text: string) => text.replace(/[.+^${}()|[\]\\]/g, "\\$&");

/** Turns "/admin/**" into a regex. "/admin/**" also matches "/admin" itself. */
export function globToRegExp(glob: string): RegExp {
  if (!glob.startsWith("/")) throw new Error(`path "${glob}" must start with "/"`);
  let source = "";
  for (let i = 0; i < glob.length; i++) {
    const char = glob[i]!;
    if (char === "*" && glob[i + 1] === "*") {
      i++;
      // "/x/**" matches "/x", "/x/" and anything below; a bare "**" matches anything.
      if (source.endsWith("/") && (i + 1 === glob.length || glob[i + 1] === "/")) {
        source = `${source.slice(0, -1)}(?:/.*)?`;
        if (glob[i + 1] === "/") i++;
      } else {
        source += ".*";
      }
    } else if (char === "*") {
      source += "[^/]*";
    } else if (char === "?") {
      source += "[^/]";
    } else {
      source += escapeRegex(char);
    }
  }
  return new RegExp(`^${source}$`);
}

export function compilePaths(globs: readonly string[] | undefined, regex: string | undefined): PathMatcher {
  const patterns = (globs ?? []).map(globToRegExp);
  if (regex !== undefined) {
    try {
      patterns.push(new RegExp(regex));
    } catch (error) {
      throw new Error(`path_regex "${regex}": ${(error as Error).message}`);
    }
  }
  return (path) => patterns.some((pattern) => pattern.test(path));
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
