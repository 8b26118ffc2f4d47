/**
 * Deployment artefacts (traefik/, k8s/, compose.yml, Dockerfile) must parse, validate against the
 * Kubernetes and Traefik CRD schemas, and agree with each other and with the code: middleware
 * names, the X-Auth-* header list, the cookie name, /auth on the default port, probe paths.
 */
import { describe, expect, test } from "bun:test";
import { existsSync, readdirSync, readFileSync, statSync } from "node:fs";
import { join, relative } from "node:path";
import { IngressRoute, Middleware } from "@kubernetes-models/traefik/traefik.io/v1alpha1";
import { Deployment, StatefulSet } from "kubernetes-models/apps/v1";
import { HorizontalPodAutoscaler } from "kubernetes-models/autoscaling/v2";
import { NetworkPolicy } from "kubernetes-models/networking.k8s.io/v1";
import { PodDisruptionBudget } from "kubernetes-models/policy/v1";
import { ConfigMap, Namespace, Secret, Service, ServiceAccount } from "kubernetes-models/v1";
import { parse, parseAllDocuments } from "yaml";
import { loadConfig } from "../../src/config/load.ts";
import { configSchema } from "../../src/config/schema.ts";
import { AUTH_RESPONSE_HEADERS } from "../../src/http/forward-auth/headers.ts";
import { compilePolicyText } from "../../src/policy/compile.ts";
import { matchRule } from "../../src/policy/engine.ts";
import { RUNTIME_ENV } from "../../src/runtime-tuning.ts";
import { SESSION_COOKIE } from "../../src/session/cookie.ts";

// biome-ignore lint/suspicious/noExplicitAny: parsed YAML is walked structurally and asserted on.
type Node = any;

const ROOT = join(import.meta.dir, "..", "..");
const at = (...parts: string[]) => join(ROOT, ...parts);
const read = (...parts: string[]) => readFileSync(at(...parts), "utf8");

/** The port Vigil listens on when VIGIL_PORT is unset, straight from the config schema. */
const DEFAULT_PORT: number = configSchema.parse({}).port;
const MIDDLEWARE_NAMES = ["vigil", "vigil-stepup"];
const STEPUP_SECONDS = "300";

function yamlFilesUnder(dir: string): string[] {
  const out: string[] = [];
  for (const entry of readdirSync(dir)) {
    const path = join(dir, entry);
    if (statSync(path).isDirectory()) out.push(...yamlFilesUnder(path));
    else if (/\.ya?ml$/.test(entry)) out.push(path);
  }
  return out.sort();
}

/** All documents of a (multi-document) YAML file; throws on any parse error or warning. */
function loadDocs(path: string): Node[] {
  const docs = parseAllDocuments(readFileSync(path, "utf8"), { prettyErrors: true });
  const problems = docs.flatMap((d) => [...d.errors, ...d.warnings].map((e) => e.message));
  if (problems.length > 0) throw new Error(`${relative(ROOT, path)}:\n${problems.join("\n")}`);
  return docs.map((d) => d.toJS()).filter((d) => d !== null && d !== undefined);
}

const YAML_FILES = [...yamlFilesUnder(at("k8s")), ...yamlFilesUnder(at("traefik")), at("compose.yml")];

/** Kubernetes manifest files: everything under k8s/ except kustomize's own file and the app configs. */
const MANIFEST_FILES = yamlFilesUnder(at("k8s")).filter((path) => {
  const rel = relative(at("k8s"), path);
  return rel !== "kustomization.yaml" && !rel.startsWith("config/");
});

/** Validating model per apiVersion/kind (kubernetes-models and @kubernetes-models/traefik). */
const MODELS: Record<string, new (data: Node) => { validate(): void }> = {
  "v1/Namespace": Namespace,
  "v1/ServiceAccount": ServiceAccount,
  "v1/Service": Service,
  "v1/ConfigMap": ConfigMap,
  "v1/Secret": Secret,
  "apps/v1/Deployment": Deployment,
  "apps/v1/StatefulSet": StatefulSet,
  "policy/v1/PodDisruptionBudget": PodDisruptionBudget,
  "autoscaling/v2/HorizontalPodAutoscaler": HorizontalPodAutoscaler,
  "networking.k8s.io/v1/NetworkPolicy": NetworkPolicy,
  "traefik.io/v1alpha1/Middleware": Middleware,
  "traefik.io/v1alpha1/IngressRoute": IngressRoute,
};

/**
 * spec.forwardAuth fields of the traefik.io/v1alpha1 Middleware CRD (reference doc, section 3).
 * The generated schemas accept unknown properties, so a typo (e.g. authResponseHeader) is caught here.
 */
const FORWARD_AUTH_FIELDS = new Set([
  "address",
  "trustForwardHeader",
  "authResponseHeaders",
  "authResponseHeadersRegex",
  "authRequestHeaders",
  "tls",
  "maxResponseBodySize",
  "addAuthCookiesToResponse",
  "headerField",
  "forwardBody",
  "maxBodySize",
  "preserveLocationHeader",
  "preserveRequestMethod",
  "authSigninURL",
]);

function validateObject(obj: Node): void {
  const key = `${obj.apiVersion}/${obj.kind}`;
  const Model = MODELS[key];
  if (!Model) throw new Error(`no schema registered for ${key} (${obj.metadata?.name})`);
  new Model(obj).validate();
  if (obj.kind === "Middleware") {
    const fa = obj.spec?.forwardAuth;
    if (fa) {
      const unknown = Object.keys(fa).filter((k) => !FORWARD_AUTH_FIELDS.has(k));
      if (unknown.length > 0)
        throw new Error(`Middleware ${obj.metadata.name}: unknown forwardAuth ${unknown}`);
      if (typeof fa.address !== "string" || fa.address === "") {
        throw new Error(`Middleware ${obj.metadata.name}: forwardAuth.address is required`);
      }
    }
  }
}

const rawObjects: Node[] = MANIFEST_FILES.flatMap((path) =>
  loadDocs(path).map((doc) => ({ ...doc, __file: relative(ROOT, path) })),
);
const strip = ({ __file: _, ...obj }: Node): Node => obj;
const rawOf = (kind: string, name: string): Node => {
  const found = rawObjects.find((o) => o.kind === kind && o.metadata?.name === name);
  if (!found) throw new Error(`k8s/: no ${kind} named ${name}`);
  return found;
};
const labelsMatch = (selector: Record<string, string> | undefined, labels: Record<string, string>) =>
  selector !== undefined && Object.entries(selector).every(([k, v]) => labels[k] === v);

const kustomization: Node = parse(read("k8s", "kustomization.yaml"));
const NAMESPACE: string = kustomization.namespace;

const dynamic: Node = parse(read("traefik", "dynamic", "vigil.yml"));
const traefikStatic: Node = parse(read("traefik", "traefik.yml"));
const compose: Node = parse(read("compose.yml"));
const dockerfile = read("Dockerfile");

const vigilDeployment = rawOf("Deployment", "vigil");
const vigilPod = vigilDeployment.spec.template;
const vigilContainer = vigilPod.spec.containers.find((c: Node) => c.name === "vigil");
const redisSet = rawOf("StatefulSet", "vigil-redis");
const envOf = (container: Node): Record<string, string> =>
  Object.fromEntries(
    (container.env ?? [])
      .filter((e: Node) => typeof e.value === "string")
      .map((e: Node) => [e.name, e.value]),
  );

/** Middlewares from both sources, normalised to {source, name, forwardAuth}. */
const middlewares = [
  ...Object.entries(dynamic.http.middlewares).map(([name, mw]: [string, Node]) => ({
    source: "traefik/dynamic/vigil.yml",
    name,
    fa: mw.forwardAuth,
  })),
  ...rawObjects
    .filter((o) => o.kind === "Middleware")
    .map((o) => ({ source: o.__file as string, name: o.metadata.name as string, fa: o.spec.forwardAuth })),
];

const hostOfRule = (rule: string): string => {
  const m = /Host\(`([^`]+)`\)/.exec(rule);
  if (!m?.[1]) throw new Error(`no Host() in rule ${rule}`);
  return m[1];
};

describe("every YAML file parses", () => {
  for (const path of YAML_FILES) {
    test(relative(ROOT, path), () => {
      const docs = loadDocs(path);
      expect(docs.length).toBeGreaterThan(0);
      for (const doc of docs) expect(typeof doc).toBe("object");
    });
  }
});

describe("Kubernetes manifests validate against the schemas", () => {
  test("every object in k8s/ (including secret.example.yaml) validates", () => {
    expect(rawObjects.length).toBeGreaterThan(10);
    for (const obj of rawObjects) {
      try {
        validateObject(strip(obj));
      } catch (error) {
        throw new Error(`${obj.__file}: ${obj.kind} ${obj.metadata?.name}: ${(error as Error).message}`);
      }
    }
  });

  test("the validator really rejects bad objects", () => {
    const bad = structuredClone(strip(rawOf("Middleware", "vigil")));
    bad.spec.forwardAuth.authResponseHeader = bad.spec.forwardAuth.authResponseHeaders;
    expect(() => validateObject(bad)).toThrow(/unknown forwardAuth/);
    const badDeployment = structuredClone(strip(vigilDeployment));
    delete badDeployment.spec.selector;
    expect(() => validateObject(badDeployment)).toThrow();
    const badPort = structuredClone(strip(rawOf("Service", "vigil")));
    badPort.spec.ports[0].port = "eighty";
    expect(() => validateObject(badPort)).toThrow();
  });

  test("Traefik CRDs use the v3 API group traefik.io (traefik.containo.us is gone in v3)", () => {
    for (const obj of rawObjects) expect(obj.apiVersion).not.toContain("containo.us");
    const crds = rawObjects.filter((o) => o.apiVersion === "traefik.io/v1alpha1");
    expect(crds.map((o) => o.kind).sort()).toEqual([
      "IngressRoute",
      "IngressRoute",
      "Middleware",
      "Middleware",
    ]);
  });
});

describe("kustomize base", () => {
  const resources: string[] = kustomization.resources;

  test("every listed resource exists and every manifest is listed, except the Secret example", () => {
    for (const resource of resources) expect(existsSync(at("k8s", resource))).toBe(true);
    const listed = new Set(resources.map((r) => join("k8s", r)));
    const unlisted = MANIFEST_FILES.map((p) => relative(ROOT, p)).filter((p) => !listed.has(p));
    expect(unlisted).toEqual(["k8s/secret.example.yaml"]);
  });

  test("the Secret is referenced but not shipped: placeholder only, never in resources", () => {
    const secret = rawOf("Secret", "vigil-secrets");
    expect(resources).not.toContain("secret.example.yaml");
    expect(kustomization.secretGenerator).toBeUndefined();
    for (const value of Object.values(secret.stringData) as string[]) expect(value).toContain("REPLACE-ME");
    const refs = [vigilContainer, ...redisSet.spec.template.spec.containers].flatMap((c: Node) =>
      (c.env ?? []).map((e: Node) => e.valueFrom?.secretKeyRef).filter(Boolean),
    );
    expect(refs.length).toBeGreaterThan(0);
    for (const ref of refs) {
      expect(ref.name).toBe("vigil-secrets");
      expect(Object.keys(secret.stringData)).toContain(ref.key);
    }
  });

  test("the ConfigMap generator ships vigil.yaml and policy.yaml from k8s/config/", () => {
    const gen = kustomization.configMapGenerator.find((g: Node) => g.name === "vigil-config");
    expect(gen.files).toEqual(["vigil.yaml=config/vigil.yaml", "policy.yaml=config/policy.yaml"]);
    for (const file of gen.files as string[]) expect(existsSync(at("k8s", file.split("=")[1]!))).toBe(true);
    const volume = vigilPod.spec.volumes.find((v: Node) => v.configMap);
    expect(volume.configMap.name).toBe("vigil-config");
  });

  const kubectl = Bun.which("kubectl");
  if (!kubectl) {
    test.skip("kubectl kustomize k8s renders (SKIPPED: kubectl not found on PATH)", () => {});
  } else {
    test("kubectl kustomize k8s renders, and every rendered object validates", () => {
      const run = Bun.spawnSync([kubectl, "kustomize", "k8s"], { cwd: ROOT, stderr: "pipe" });
      if (run.exitCode !== 0) throw new Error(`kubectl kustomize failed:\n${run.stderr.toString()}`);
      const rendered: Node[] = parseAllDocuments(run.stdout.toString())
        .map((d) => d.toJS())
        .filter(Boolean);
      for (const obj of rendered) validateObject(obj);

      const kinds = new Set(rendered.map((o) => o.kind));
      for (const kind of [
        "Namespace",
        "Deployment",
        "Service",
        "ConfigMap",
        "StatefulSet",
        "Middleware",
        "IngressRoute",
        "PodDisruptionBudget",
        "HorizontalPodAutoscaler",
        "NetworkPolicy",
      ]) {
        expect(kinds.has(kind)).toBe(true);
      }
      expect(kinds.has("Secret")).toBe(false);
      for (const obj of rendered) {
        if (obj.kind === "Namespace") expect(obj.metadata.name).toBe(NAMESPACE);
        else expect(obj.metadata.namespace).toBe(NAMESPACE);
      }

      // The Deployment mounts the hashed ConfigMap that kustomize generated, with the source files.
      const deployment = rendered.find((o) => o.kind === "Deployment" && o.metadata.name === "vigil");
      const cmName = deployment.spec.template.spec.volumes.find((v: Node) => v.configMap).configMap.name;
      expect(cmName).toMatch(/^vigil-config-[a-z0-9]+$/);
      const configMap = rendered.find((o) => o.kind === "ConfigMap" && o.metadata.name === cmName);
      expect(configMap.data["vigil.yaml"]).toBe(read("k8s", "config", "vigil.yaml"));
      expect(configMap.data["policy.yaml"]).toBe(read("k8s", "config", "policy.yaml"));
      // $(REDIS_PASSWORD) must survive rendering (the kubelet expands it, not kustomize).
      const redisUrl = deployment.spec.template.spec.containers[0].env.find(
        (e: Node) => e.name === "REDIS_URL",
      );
      expect(redisUrl.value).toContain("$(REDIS_PASSWORD)");
    });
  }
});

describe("forwardAuth middlewares agree with the code (traefik/ and k8s/)", () => {
  test("both sources define exactly vigil and vigil-stepup", () => {
    expect(Object.keys(dynamic.http.middlewares).sort()).toEqual(MIDDLEWARE_NAMES);
    expect(
      rawObjects
        .filter((o) => o.kind === "Middleware")
        .map((o) => o.metadata.name)
        .sort(),
    ).toEqual(MIDDLEWARE_NAMES);
  });

  for (const { source, name, fa } of middlewares) {
    test(`${source}: ${name}`, () => {
      // Exactly the headers Vigil sets: a missing one could be forged by the client.
      expect(fa.authResponseHeaders).toEqual([...AUTH_RESPONSE_HEADERS]);
      expect(fa.authResponseHeadersRegex).toBeUndefined();
      expect(fa.addAuthCookiesToResponse).toEqual([SESSION_COOKIE]);
      expect(fa.trustForwardHeader).toBe(false);
      expect(typeof fa.maxResponseBodySize).toBe("number");
      expect(fa.maxResponseBodySize).toBeGreaterThan(0);
      expect(fa.forwardBody ?? false).toBe(false);
      // No authSigninURL: Vigil answers browsers with its own 302 and API clients with 401 + RFC 9470.
      expect(fa.authSigninURL).toBeUndefined();

      const url = new URL(fa.address);
      expect(url.protocol).toBe("http:");
      expect(url.pathname).toBe("/auth");
      expect(Number(url.port)).toBe(DEFAULT_PORT);
      if (name === "vigil") expect(url.search).toBe("");
      else expect([...url.searchParams]).toEqual([["stepup", STEPUP_SECONDS]]);
    });
  }

  test("compose: the address host is the vigil service, reached directly (not through Traefik)", () => {
    for (const { source, fa } of middlewares.filter((m) => m.source.startsWith("traefik/"))) {
      expect(new URL(fa.address).hostname, source).toBe("vigil");
    }
    expect(compose.services.vigil).toBeDefined();
    const server = new URL(dynamic.http.services.vigil.loadBalancer.servers[0].url);
    expect(server.hostname).toBe("vigil");
    expect(Number(server.port)).toBe(DEFAULT_PORT);
  });

  test("k8s: the address is the vigil Service's cluster DNS name and port, which targets the container", () => {
    const service = rawOf("Service", "vigil");
    for (const { source, fa } of middlewares.filter((m) => m.source.startsWith("k8s/"))) {
      expect(new URL(fa.address).hostname, source).toBe(
        `${service.metadata.name}.${NAMESPACE}.svc.cluster.local`,
      );
    }
    const port = service.spec.ports.find((p: Node) => p.port === DEFAULT_PORT);
    expect(port).toBeDefined();
    const containerPort = vigilContainer.ports.find((p: Node) => p.name === port.targetPort);
    expect(containerPort.containerPort).toBe(DEFAULT_PORT);
    expect(labelsMatch(service.spec.selector, vigilPod.metadata.labels)).toBe(true);
  });

  test("the listen port is the code's default everywhere", () => {
    expect(DEFAULT_PORT).toBe(8080);
    expect(dockerfile).toMatch(new RegExp(`^EXPOSE ${DEFAULT_PORT}$`, "m"));
    expect(compose.services.vigil.environment.VIGIL_PORT).toBe(String(DEFAULT_PORT));
    expect(envOf(vigilContainer).VIGIL_PORT).toBe(String(DEFAULT_PORT));
  });
});

describe("routers: portal without auth, app with vigil, /admin with vigil-stepup", () => {
  const routers: Record<string, Node> = dynamic.http.routers;
  const composeConfig = () => loadConfig({ ...composeVigilEnv(), VIGIL_CONFIG: at("traefik", "vigil.yaml") });
  const k8sConfig = () =>
    loadConfig({ ...envOf(vigilContainer), VIGIL_CONFIG: at("k8s", "config", "vigil.yaml") });

  test("traefik/dynamic: router references resolve", () => {
    for (const [name, router] of Object.entries(routers)) {
      for (const mw of router.middlewares ?? [])
        expect(dynamic.http.middlewares[mw], `${name} → ${mw}`).toBeDefined();
      expect(dynamic.http.services[router.service], `${name} → ${router.service}`).toBeDefined();
      expect(router.entryPoints).toEqual(["websecure"]);
      expect(router.tls).toBeDefined();
    }
  });

  test("traefik/dynamic: portal host = public_url, no middleware; app and /admin protected", () => {
    const config = composeConfig();
    const portalHost = new URL(config.public_url).hostname;
    const portal = Object.values(routers).filter((r) => hostOfRule(r.rule) === portalHost);
    expect(portal.length).toBe(1);
    expect(portal[0].middlewares ?? []).toEqual([]);
    expect(portal[0].service).toBe("vigil");

    const app = routers.app;
    const admin = routers["app-admin"];
    expect(app.middlewares).toEqual(["vigil"]);
    expect(admin.middlewares).toEqual(["vigil-stepup"]);
    expect(hostOfRule(admin.rule)).toBe(hostOfRule(app.rule));
    expect(admin.rule).toContain("PathPrefix(`/admin`)");
    expect(admin.priority).toBeGreaterThan(app.priority ?? app.rule.length);
    // Every router except the portal is behind Vigil.
    for (const [name, router] of Object.entries(routers)) {
      if (router !== portal[0]) expect((router.middlewares ?? []).length, name).toBeGreaterThan(0);
    }
  });

  test("k8s: portal IngressRoute host = public_url, no middleware; app routes protected", () => {
    const config = k8sConfig();
    const portalHost = new URL(config.public_url).hostname;
    const portal = rawOf("IngressRoute", "vigil-portal");
    for (const route of portal.spec.routes) {
      expect(hostOfRule(route.match)).toBe(portalHost);
      expect(route.middlewares ?? []).toEqual([]);
      expect(route.services).toEqual([{ name: "vigil", port: DEFAULT_PORT }]);
    }
    const app = rawOf("IngressRoute", "whoami");
    const admin = app.spec.routes.find((r: Node) => r.match.includes("PathPrefix(`/admin`)"));
    const rest = app.spec.routes.filter((r: Node) => r !== admin);
    expect(admin.middlewares).toEqual([{ name: "vigil-stepup", namespace: NAMESPACE }]);
    for (const route of rest) expect(route.middlewares).toEqual([{ name: "vigil", namespace: NAMESPACE }]);
    for (const route of rest) expect(admin.priority).toBeGreaterThan(route.priority ?? route.match.length);
    for (const ir of [portal, app]) {
      expect(ir.spec.entryPoints).toEqual(["websecure"]);
      expect(ir.spec.tls).toBeDefined();
      for (const route of ir.spec.routes) {
        expect(route.kind).toBe("Rule");
        for (const svc of route.services) {
          const service = rawOf("Service", svc.name);
          expect(service.spec.ports.map((p: Node) => p.port)).toContain(svc.port);
        }
      }
    }
  });

  test("the portal host publishes only the portal's paths (not /auth, /admin, /metrics, probes)", () => {
    const PUBLISHED = [
      "Path(`/`)",
      "PathPrefix(`/login`)",
      "PathPrefix(`/stepup`)",
      "PathPrefix(`/enroll/`)",
      "PathPrefix(`/webauthn/`)",
      "Path(`/logout`)",
      "PathPrefix(`/assets/`)",
      "Path(`/events`)",
    ];
    const rules = [
      Object.values(routers).find((r) => r.service === "vigil").rule as string,
      rawOf("IngressRoute", "vigil-portal").spec.routes[0].match as string,
    ];
    for (const rule of rules) {
      const paths: string[] = [...(rule.match(/(?:Path|PathPrefix)\(`[^`]*`\)/g) ?? [])];
      expect(paths.sort()).toEqual([...PUBLISHED].sort());
      expect(rule).not.toMatch(/\/(auth|admin|metrics|readyz|healthz)\b/);
    }
    const caddy = readFileSync("traefik/Caddyfile.example", "utf8");
    expect(caddy).toContain("@portal path / /login /stepup /enroll/* /webauthn/* /logout /assets/* /events");
  });

  test("the Vigil configs load with the code's own loader and match the hosts", () => {
    for (const [config, routes] of [
      [composeConfig(), Object.values(routers).map((r) => r.rule)],
      [
        k8sConfig(),
        rawObjects
          .filter((o) => o.kind === "IngressRoute")
          .flatMap((o) => o.spec.routes.map((r: Node) => r.match)),
      ],
    ] as const) {
      const domain = config.cookie.domain!;
      expect(domain).toBeTruthy();
      for (const rule of routes) expect(hostOfRule(rule).endsWith(`.${domain}`)).toBe(true);
      expect(config.rpId).toBe(domain);
      expect(config.cookieSecure).toBe(true);
      expect(config.public_url.startsWith("https://")).toBe(true);
    }
  });
});

/** compose.yml's environment for vigil, without values interpolated from the user's shell. */
function composeVigilEnv(): Record<string, string> {
  const env: Record<string, string> = compose.services.vigil.environment;
  return Object.fromEntries(Object.entries(env).filter(([, v]) => !String(v).includes("${")));
}

describe("policy files", () => {
  for (const path of [at("traefik", "policy.yaml"), at("k8s", "config", "policy.yaml")]) {
    test(`${relative(ROOT, path)} is a mapping with a rules list`, () => {
      const policy: Node = parse(readFileSync(path, "utf8"));
      expect(Array.isArray(policy.rules)).toBe(true);
      expect(policy.rules.length).toBeGreaterThan(0);
      const names = policy.rules.map((r: Node) => r.name);
      expect(new Set(names).size).toBe(names.length);
      for (const rule of policy.rules) {
        expect(typeof rule.name).toBe("string");
        expect(["bypass", "authenticated", "stepup", "deny"]).toContain(rule.action);
      }
      expect(policy.default).toBe("deny");
      // The /admin rule demands at most what the vigil-stepup middleware asks (300 s).
      const admin = policy.rules.find((r: Node) => r.name === "admin");
      expect(admin.action).toBe("stepup");
      expect(admin.groups).toContain("admins");
    });
  }

  /** The policy each setup ships, its config, and the app host its routers protect. */
  const setups = () => [
    {
      policy: read("traefik", "policy.yaml"),
      config: loadConfig({ ...composeVigilEnv(), VIGIL_CONFIG: at("traefik", "vigil.yaml") }),
      appHost: hostOfRule(dynamic.http.routers.app.rule),
    },
    {
      policy: read("k8s", "config", "policy.yaml"),
      config: loadConfig({ ...envOf(vigilContainer), VIGIL_CONFIG: at("k8s", "config", "vigil.yaml") }),
      appHost: hostOfRule(rawOf("IngressRoute", "whoami").spec.routes.at(-1).match),
    },
  ];

  test("both policies compile with the code's policy compiler and route the app as the proxy does", () => {
    for (const { policy, config, appHost } of setups()) {
      const compiled = compilePolicyText(policy, { defaultMaxAgeMs: config.stepup.default_max_age });
      const rule = (path: string, host = appHost) =>
        matchRule(compiled, { host, path, method: "GET", clientIp: "203.0.113.7" });
      expect(rule("/").action).toBe("authenticated");
      expect(rule("/some/page").action).toBe("authenticated");
      expect(rule("/health").action).toBe("bypass");
      // The /admin route carries vigil-stepup (?stepup=300); the policy asks no less on its own.
      for (const path of ["/admin", "/admin/users"]) {
        const admin = rule(path);
        expect(admin.action).toBe("stepup");
        expect(admin.maxAgeMs).toBeLessThanOrEqual(Number(STEPUP_SECONDS) * 1000);
        expect(admin.groups).toContain("admins");
      }
      expect(rule("/", "unknown.example.org").action).toBe("deny");
    }
  });

  test("the policy path Vigil is told about is where the file is mounted", () => {
    const composeEnv = compose.services.vigil.environment;
    expect(compose.services.vigil.volumes).toContain(`./traefik/policy.yaml:${composeEnv.VIGIL_POLICY}:ro`);
    expect(compose.services.vigil.volumes).toContain(`./traefik/vigil.yaml:${composeEnv.VIGIL_CONFIG}:ro`);
    const env = envOf(vigilContainer);
    const mount = vigilContainer.volumeMounts.find((m: Node) => m.name === "config");
    expect(env.VIGIL_POLICY).toBe(`${mount.mountPath}/policy.yaml`);
    expect(env.VIGIL_CONFIG).toBe(`${mount.mountPath}/vigil.yaml`);
  });
});

describe("Kubernetes workload hardening", () => {
  test("Vigil Deployment: replicas, probes, resources", () => {
    expect(vigilDeployment.spec.replicas).toBeGreaterThanOrEqual(2);
    expect(vigilDeployment.spec.strategy.rollingUpdate.maxUnavailable).toBe(0);
    const probePort = (probe: Node) => {
      const port = probe.httpGet.port;
      return typeof port === "number"
        ? port
        : vigilContainer.ports.find((p: Node) => p.name === port).containerPort;
    };
    expect(vigilContainer.readinessProbe.httpGet.path).toBe("/readyz");
    expect(vigilContainer.livenessProbe.httpGet.path).toBe("/healthz");
    expect(vigilContainer.startupProbe.httpGet.path).toBe("/healthz");
    for (const probe of [
      vigilContainer.readinessProbe,
      vigilContainer.livenessProbe,
      vigilContainer.startupProbe,
    ]) {
      expect(probePort(probe)).toBe(DEFAULT_PORT);
    }
    const { requests, limits } = vigilContainer.resources;
    expect(requests.cpu).toBeDefined();
    expect(requests.memory).toBeDefined();
    expect(limits.memory).toBeDefined();
    // geoip data alone is ~145 MiB resident: a limit below 256 MiB would OOM-kill at start.
    expect(Number.parseInt(limits.memory, 10)).toBeGreaterThanOrEqual(256);
  });

  for (const [label, pod] of [
    ["vigil", vigilPod],
    ["vigil-redis", redisSet.spec.template],
    ["whoami", rawOf("Deployment", "whoami").spec.template],
  ] as const) {
    test(`${label}: non-root, read-only root, no privilege escalation, no caps, seccomp, no SA token`, () => {
      expect(pod.spec.automountServiceAccountToken).toBe(false);
      expect(pod.spec.securityContext.runAsNonRoot).toBe(true);
      expect(pod.spec.securityContext.runAsUser).toBeGreaterThan(0);
      expect(pod.spec.securityContext.seccompProfile.type).toBe("RuntimeDefault");
      for (const c of pod.spec.containers) {
        expect(c.securityContext.allowPrivilegeEscalation).toBe(false);
        expect(c.securityContext.readOnlyRootFilesystem).toBe(true);
        expect(c.securityContext.capabilities.drop).toEqual(["ALL"]);
        expect(c.securityContext.privileged ?? false).toBe(false);
        expect(c.resources.limits.memory).toBeDefined();
      }
    });
  }

  test("the pod's runAsUser is the Dockerfile's numeric non-root USER", () => {
    const user = /^USER (\d+)(?::(\d+))?$/m.exec(dockerfile);
    expect(user).not.toBeNull();
    expect(Number(user![1])).toBeGreaterThan(0);
    expect(vigilPod.spec.securityContext.runAsUser).toBe(Number(user![1]));
  });

  test("Redis StatefulSet: AOF on a PersistentVolume, password from the Secret", () => {
    const args: string[] = redisSet.spec.template.spec.containers[0].args;
    expect(args[args.indexOf("--appendonly") + 1]).toBe("yes");
    expect(args[args.indexOf("--maxmemory-policy") + 1]).toBe("noeviction");
    expect(args[args.indexOf("--requirepass") + 1]).toBe("$(REDIS_PASSWORD)");
    const dir = args[args.indexOf("--dir") + 1];
    const claim = redisSet.spec.volumeClaimTemplates[0];
    const mount = redisSet.spec.template.spec.containers[0].volumeMounts.find(
      (m: Node) => m.name === claim.metadata.name,
    );
    expect(mount.mountPath).toBe(dir);
    expect(claim.spec.resources.requests.storage).toBeDefined();
    const redisService = rawOf("Service", redisSet.spec.serviceName);
    expect(redisService.spec.ports[0].port).toBe(6379);
    expect(labelsMatch(redisService.spec.selector, redisSet.spec.template.metadata.labels)).toBe(true);
    const redisUrl = new URL(
      vigilContainer.env.find((e: Node) => e.name === "REDIS_URL").value.replace("$(REDIS_PASSWORD)", "x"),
    );
    expect(redisUrl.hostname).toBe(`${redisService.metadata.name}.${NAMESPACE}.svc.cluster.local`);
    expect(redisUrl.port).toBe("6379");
  });

  test("PodDisruptionBudget and HorizontalPodAutoscaler target the Vigil Deployment", () => {
    const pdb = rawOf("PodDisruptionBudget", "vigil");
    expect(labelsMatch(pdb.spec.selector.matchLabels, vigilPod.metadata.labels)).toBe(true);
    expect(pdb.spec.minAvailable).toBeLessThan(vigilDeployment.spec.replicas);
    const hpa = rawOf("HorizontalPodAutoscaler", "vigil");
    expect(hpa.spec.scaleTargetRef).toEqual({ apiVersion: "apps/v1", kind: "Deployment", name: "vigil" });
    expect(hpa.spec.minReplicas).toBeGreaterThanOrEqual(2);
    expect(hpa.spec.maxReplicas).toBeGreaterThan(hpa.spec.minReplicas);
  });
});

describe("NetworkPolicies", () => {
  const policies = rawObjects.filter((o) => o.kind === "NetworkPolicy");
  const selecting = (labels: Record<string, string>) =>
    policies.filter((p) => labelsMatch(p.spec.podSelector.matchLabels ?? {}, labels));

  test("default deny for all ingress in the namespace", () => {
    const deny = policies.find((p) => Object.keys(p.spec.podSelector).length === 0);
    expect(deny.spec.policyTypes).toEqual(["Ingress"]);
    expect(deny.spec.ingress ?? []).toEqual([]);
  });

  test("only Traefik's pods in Traefik's namespace may reach Vigil, on 8080 only", () => {
    const allows = selecting(vigilPod.metadata.labels).filter((p) => p.spec.ingress);
    expect(allows.length).toBe(1);
    for (const rule of allows[0].spec.ingress) {
      expect(rule.ports).toEqual([{ protocol: "TCP", port: DEFAULT_PORT }]);
      for (const peer of rule.from) {
        expect(peer.namespaceSelector.matchLabels["kubernetes.io/metadata.name"]).toBe("traefik");
        expect(peer.podSelector.matchLabels["app.kubernetes.io/name"]).toBe("traefik");
        expect(peer.ipBlock).toBeUndefined();
      }
    }
  });

  test("only Vigil may reach Redis, on 6379 only", () => {
    const allows = selecting(redisSet.spec.template.metadata.labels).filter((p) => p.spec.ingress);
    expect(allows.length).toBe(1);
    for (const rule of allows[0].spec.ingress) {
      expect(rule.ports).toEqual([{ protocol: "TCP", port: 6379 }]);
      for (const peer of rule.from) {
        expect(peer.namespaceSelector).toBeUndefined();
        expect(peer.ipBlock).toBeUndefined();
        expect(labelsMatch(peer.podSelector.matchLabels, vigilPod.metadata.labels)).toBe(true);
      }
    }
  });
});

describe("Traefik static config and compose", () => {
  test("traefik.yml: web redirects to websecure (TLS), trustedIPs set explicitly, file provider", () => {
    const { web, websecure } = traefikStatic.entryPoints;
    expect(web.address).toBe(":80");
    expect(web.http.redirections.entryPoint.to).toBe("websecure");
    expect(web.http.redirections.entryPoint.scheme).toBe("https");
    expect(websecure.address).toBe(":443");
    expect(websecure.http.tls).toBeDefined();
    for (const ep of [web, websecure]) expect(Array.isArray(ep.forwardedHeaders.trustedIPs)).toBe(true);
    expect(websecure.forwardedHeaders.insecure).toBeUndefined();
    expect(traefikStatic.providers.file.directory).toBe("/etc/traefik/dynamic");
    const k8sStatic: Node = parse(read("traefik", "traefik-k8s.yml"));
    expect(k8sStatic.providers.kubernetesCRD).toBeDefined();
  });

  test("compose.yml: traefik v3, vigil from the Dockerfile, redis 7 with AOF on a volume, whoami", () => {
    const { traefik, vigil, redis, whoami } = compose.services;
    expect(traefik.image).toMatch(/^traefik:v3/);
    expect(traefik.ports.map((p: string) => p.split(":").slice(-2).join(":")).sort()).toEqual([
      "443:443",
      "80:80",
    ]);
    expect(traefik.volumes).toContain("./traefik/traefik.yml:/etc/traefik/traefik.yml:ro");
    expect(traefik.volumes).toContain(`./traefik/dynamic:${traefikStatic.providers.file.directory}:ro`);

    expect(vigil.build.context).toBe(".");
    expect(existsSync(at(vigil.build.dockerfile))).toBe(true);
    expect(vigil.ports).toBeUndefined(); // only Traefik reaches Vigil
    expect(new URL(vigil.environment.REDIS_URL).hostname).toBe("redis");
    expect(vigil.read_only).toBe(true);
    // Vigil believes X-Forwarded-For only from Traefik's fixed address.
    const traefikIp = traefik.networks.vigil.ipv4_address;
    expect(vigil.environment.VIGIL_TRUSTED_PROXIES).toBe(`${traefikIp}/32`);

    expect(redis.image).toMatch(/^redis:7/);
    const command: string[] = redis.command;
    expect(command[command.indexOf("--appendonly") + 1]).toBe("yes");
    expect(redis.ports).toBeUndefined();
    const dataVolume = (redis.volumes as string[]).find((v) => v.endsWith(":/data"));
    expect(dataVolume).toBeDefined();
    expect(compose.volumes).toHaveProperty(dataVolume!.split(":")[0]!);

    expect(whoami.image).toMatch(/^traefik\/whoami/);
    expect(new URL(dynamic.http.services.whoami.loadBalancer.servers[0].url).hostname).toBe("whoami");
  });

  test("every package src/ imports at runtime is a production dependency (the image has no devDependencies)", () => {
    const pkg = JSON.parse(read("package.json"));
    const sources = (dir: string): string[] =>
      readdirSync(dir).flatMap((entry) => {
        const path = join(dir, entry);
        if (statSync(path).isDirectory()) return sources(path);
        return /\.tsx?$/.test(entry) ? [path] : [];
      });
    const missing = new Set<string>();
    for (const file of sources(at("src"))) {
      const text = readFileSync(file, "utf8");
      for (const m of text.matchAll(
        /^\s*(import|export)(?!\s+type\b)[^"';]*?from\s+"([^"]+)"|import\(\s*"([^"]+)"\s*\)/gm,
      )) {
        const spec = m[2] ?? m[3]!;
        if (spec.startsWith(".") || spec.startsWith("/") || /^(node|bun):/.test(spec) || spec === "bun")
          continue;
        const name = spec.startsWith("@") ? spec.split("/").slice(0, 2).join("/") : spec.split("/")[0]!;
        if (!(name in pkg.dependencies)) missing.add(`${name} (${relative(ROOT, file)})`);
      }
    }
    expect([...missing]).toEqual([]);
  });

  test("Dockerfile: bun base image, frozen production install, non-root, bun src/main.ts", () => {
    expect(dockerfile).toMatch(/^FROM oven\/bun:/m);
    expect(dockerfile).toContain("bun install --frozen-lockfile --production");
    expect(dockerfile).toMatch(/^CMD \["bun", "src\/main\.ts"\]$/m);
    const ignore = read(".dockerignore").split("\n");
    for (const entry of ["node_modules", ".git", ".env"]) expect(ignore).toContain(entry);
  });

  test("Vigil's runtime env (src/runtime-tuning.ts) is set by `bun start`, `bun run dev` and the image", () => {
    const pkg = JSON.parse(read("package.json")) as { scripts: Record<string, string> };
    // The Dockerfile's ENV block: `ENV A=1 \ B=2 …` up to the first line without a continuation.
    const envBlock = /^ENV ((?:.*\\\n)*.*)$/m.exec(dockerfile)?.[1] ?? "";
    const imageEnv = new Set(envBlock.split(/[\s\\]+/).filter(Boolean));
    expect(Object.keys(RUNTIME_ENV).length).toBeGreaterThan(0);
    for (const [name, value] of Object.entries(RUNTIME_ENV)) {
      expect(pkg.scripts.start).toMatch(new RegExp(`^(?:\\S+=\\S+ )*${name}=${value} .*bun src/main\\.ts$`));
      expect(pkg.scripts.dev).toMatch(new RegExp(`^(?:\\S+=\\S+ )*${name}=${value} .*src/main\\.ts$`));
      expect(imageEnv.has(`${name}=${value}`)).toBe(true);
    }
  });
});
