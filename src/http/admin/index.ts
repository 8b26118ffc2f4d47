/** The admin API (/admin/*); the verbs it shares with the CLI live in src/admin/operations.ts. */

export { type AdminRouteDeps, adminRoutes, adminTokenMatches } from "./routes.ts";
