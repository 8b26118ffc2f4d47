/** Method matching, case-insensitive. */
export type MethodMatcher = (method: string) => boolean;

const TOKEN = /^[A-Za-z]+$/;

/** A matcher for a rule's `methods`; a name that is not an HTTP token is refused at load. */
export function compileMethods(methods: readonly string[]): MethodMatcher {
  const allowed = new Set(
    methods.map((method) => {
      if (!TOKEN.test(method)) throw new Error(`method "${method}" is not an HTTP method`);
      return method.toUpperCase();
    }),
  );
  return (method) => allowed.has(method);
}
