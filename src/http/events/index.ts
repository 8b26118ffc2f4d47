/** The Shared Signals (SSF/CAEP) push receiver, POST /events. */
export { type EventRouteDeps, eventRoutes } from "./routes.ts";
