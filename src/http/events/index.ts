/** The Shared Signals (SSF/CAEP) push receiver, POST /events. */
export { type EventRouteDeps, registerEventRoutes } from "./routes.ts";
