/**
 * The admin API's OpenAPI 3.1 document, generated from its contract (contract.ts): served at
 * GET /admin/openapi.json and rendered as docs/admin-api.md. Run this file to rewrite that page:
 * `bun run docs:admin-api` (a test fails while the committed page differs from this output).
 */
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { z } from "zod";
import { ADMIN_COMPONENTS, ADMIN_ROUTES, type AdminRoute } from "./contract.ts";

type JsonSchema = Record<string, unknown>;

/** /admin/users/:user → /admin/users/{user} */
export const openApiPath = (path: string) => path.replace(/:(\w+)/g, "{$1}");

const parametersOf = (path: string) => [...path.matchAll(/:(\w+)/g)].map((match) => match[1]!);

const schemaName = (route: AdminRoute, part: "body" | "response") =>
  `${route.operationId}_${part === "body" ? "request" : "response"}`;

/** Every schema of the contract as JSON Schema, named, referring to each other by component name. */
function componentSchemas(): Record<string, JsonSchema> {
  const registry = z.registry<{ id: string }>();
  for (const [id, schema] of Object.entries(ADMIN_COMPONENTS)) registry.add(schema, { id });
  for (const route of ADMIN_ROUTES) {
    registry.add(route.response, { id: schemaName(route, "response") });
    if (route.body) registry.add(route.body.schema, { id: schemaName(route, "body") });
  }
  const { schemas } = z.toJSONSchema(registry, {
    target: "draft-2020-12",
    uri: (id) => `#/components/schemas/${id}`,
    // The format says it; zod's long date-time pattern would only bury the shape in the docs.
    override: ({ jsonSchema }) => {
      if (jsonSchema.format === "date-time" || jsonSchema.format === "uri") delete jsonSchema.pattern;
    },
  });
  for (const schema of Object.values(schemas)) {
    delete schema.$schema;
    delete schema.$id;
  }
  return schemas as Record<string, JsonSchema>;
}

const errorAnswer = (description: string) => ({
  description,
  content: { "application/json": { schema: { $ref: "#/components/schemas/Error" } } },
});

function operation(route: AdminRoute) {
  const responses: Record<string, unknown> = {
    [route.status]: {
      description: route.status === 201 ? "Created" : "OK",
      content: {
        "application/json": { schema: { $ref: `#/components/schemas/${schemaName(route, "response")}` } },
      },
    },
    401: errorAnswer("No or a wrong admin token (with WWW-Authenticate: Bearer)"),
    503: errorAnswer(
      "`store_unavailable`: the store is down, full or read-only; nothing was changed, or the change " +
        "is unknown; retry (with Retry-After)",
    ),
  };
  for (const error of route.errors) {
    const previous = responses[error.status] as { description: string } | undefined;
    responses[error.status] = errorAnswer(previous ? `${previous.description}; ${error.when}` : error.when);
  }
  responses[500] = errorAnswer("An unexpected error: nothing was changed, or the change is unknown");
  return {
    operationId: route.operationId,
    summary: route.summary,
    parameters: parametersOf(route.path).map((name) => ({
      name,
      in: "path",
      required: true,
      schema: { type: "string" },
    })),
    ...(route.body && {
      requestBody: {
        required: route.body.required,
        content: {
          "application/json": { schema: { $ref: `#/components/schemas/${schemaName(route, "body")}` } },
        },
      },
    }),
    responses,
  };
}

/** The OpenAPI 3.1 document of the admin API. */
export function adminOpenApiDocument() {
  const paths: Record<string, Record<string, unknown>> = {};
  for (const route of ADMIN_ROUTES) {
    const path = openApiPath(route.path);
    paths[path] = { ...paths[path], [route.method]: operation(route) };
  }
  return {
    openapi: "3.1.0",
    info: {
      title: "Vigil admin API",
      version: "1",
      description:
        "Users, sessions, passkeys and enrollment links. Every call needs `Authorization: Bearer " +
        "<admin.token>` (VIGIL_ADMIN_TOKEN); with no token configured every /admin path answers 404. " +
        "Every call writes one audit line whose `action` is the operation id. Bodies are JSON, at most 16 KiB.",
    },
    security: [{ adminToken: [] }],
    paths,
    components: {
      securitySchemes: { adminToken: { type: "http", scheme: "bearer" } },
      schemas: componentSchemas(),
    },
  };
}

export type AdminOpenApiDocument = ReturnType<typeof adminOpenApiDocument>;

/** The document as a Markdown page for docs/. */
export function renderAdminApiMarkdown(document: AdminOpenApiDocument = adminOpenApiDocument()): string {
  const out: string[] = [
    "# Admin API",
    "",
    "<!-- Generated from src/http/admin/contract.ts by `bun run docs:admin-api`: do not edit by hand. -->",
    "",
    document.info.description,
    "",
    "The same description, as an OpenAPI 3.1 document, is served at `GET /admin/openapi.json` " +
      "(behind the admin token, like every /admin path). Errors are `{error, message}` " +
      "(schema [Error](#error)). In the schemas below, `#/components/schemas/<Name>` refers to " +
      "[Shared schemas](#shared-schemas).",
    "",
    "| Method | Path | Operation |",
    "|---|---|---|",
  ];
  for (const [path, methods] of Object.entries(document.paths)) {
    for (const [method, op] of Object.entries(methods) as [string, ReturnType<typeof operation>][]) {
      out.push(`| ${method.toUpperCase()} | \`${path}\` | [${op.operationId}](#${op.operationId}) |`);
    }
  }
  const schemas = document.components.schemas;
  const block = (schema: unknown) => ["```json", JSON.stringify(schema, null, 2), "```"];
  for (const [path, methods] of Object.entries(document.paths)) {
    for (const [method, op] of Object.entries(methods) as [string, ReturnType<typeof operation>][]) {
      out.push("", `## ${op.operationId}`, "", `\`${method.toUpperCase()} ${path}\``, "", op.summary);
      if (op.requestBody) {
        const name = op.requestBody.content["application/json"].schema.$ref.split("/").pop()!;
        out.push("", `Request body (JSON${op.requestBody.required ? "" : ", optional"}):`, "");
        out.push(...block(schemas[name]));
      }
      out.push("", "| Status | Answer |", "|---|---|");
      for (const [status, answer] of Object.entries(op.responses) as [string, { description: string }][]) {
        out.push(`| ${status} | ${answer.description} |`);
      }
      const success = Object.values(op.responses)[0] as {
        content: { "application/json": { schema: { $ref: string } } };
      };
      const name = success.content["application/json"].schema.$ref.split("/").pop()!;
      out.push("", "Answer:", "", ...block(schemas[name]));
    }
  }
  out.push("", "## Shared schemas");
  for (const name of Object.keys(ADMIN_COMPONENTS)) {
    out.push("", `### ${name}`, "", ...block(schemas[name]));
  }
  return `${out.join("\n")}\n`;
}

export const ADMIN_API_DOC = join(import.meta.dir, "../../../docs/admin-api.md");

if (import.meta.main) {
  writeFileSync(ADMIN_API_DOC, renderAdminApiMarkdown());
  console.log(`wrote ${ADMIN_API_DOC}`);
}
