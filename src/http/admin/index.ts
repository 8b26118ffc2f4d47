/** The admin API (/admin/*) and the verbs it shares with the CLI. */

export { AdminError, type AdminOperations, createAdminOperations } from "./operations.ts";
export { type AdminRouteDeps, adminTokenMatches, registerAdminRoutes } from "./routes.ts";
