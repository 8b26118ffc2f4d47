import { IpListLoader } from "../../adapters/files/ip-list-loader.ts";
import { PolicySource } from "../../adapters/files/policy-source.ts";
import { type Command, parseCommandArgs, splitList } from "../command.ts";
import { CliError } from "../context.ts";
import { ExplainError, explainRequest, formatExplainReport } from "../explain.ts";

const USAGE =
  "--url <url> --ip <ip> [--user <id>] [--groups a,b] [--anonymous] [--method GET] [--ua <user agent>] " +
  "[--browser] [--session-country XX] [--session-ua <user agent>] [--requests N] [--address /auth?stepup=300] [--json]";

/** Why /auth would allow, challenge or deny a request: rule, each risk signal, score, decision, HTTP answer. */
export const explain: Command = {
  name: "explain",
  summary: "show the matched rule, each risk signal, the score and the decision /auth would make",
  usage: USAGE,
  async run(args, ctx) {
    const { values } = parseCommandArgs(this, args, [], {
      url: { type: "string" },
      ip: { type: "string" },
      user: { type: "string" },
      groups: { type: "string" },
      anonymous: { type: "boolean" },
      method: { type: "string" },
      ua: { type: "string" },
      browser: { type: "boolean" },
      "session-country": { type: "string" },
      "session-ua": { type: "string" },
      requests: { type: "string" },
      address: { type: "string" },
      json: { type: "boolean" },
    });
    if (!values.url || !values.ip)
      throw new CliError(2, `--url and --ip are required\nusage: vigil explain ${USAGE}`);
    if (values.anonymous && (values.user || values.groups)) {
      throw new CliError(2, "--anonymous cannot be combined with --user or --groups");
    }
    const requests = values.requests === undefined ? undefined : Number(values.requests);
    if (requests !== undefined && !(Number.isInteger(requests) && requests >= 1)) {
      throw new CliError(2, "--requests: a whole number of requests, at least 1");
    }
    const country = values["session-country"];
    if (country !== undefined && !/^[A-Za-z]{2}$/.test(country)) {
      throw new CliError(2, "--session-country: a two-letter country code, e.g. DE");
    }

    const config = ctx.config();
    const defaultMaxAgeMs = config.stepup.default_max_age;
    const policy = new PolicySource(config.policy_path, { defaultMaxAgeMs }, { onReload: () => {} });
    let lists: IpListLoader;
    try {
      lists = new IpListLoader(config.risk.ip_lists, { watch: false });
    } catch (error) {
      throw new CliError(2, (error as Error).message);
    }
    // The store is read (never written) when there is one: the user's status and groups, the
    // address's dynamic reputation.
    const stores = config.redis.url ? await ctx.stores() : undefined;
    // geoip-lite loads its whole database on import: only when a command needs it.
    const { lookupGeo } = await import("../../adapters/geo/geoip.ts");
    try {
      const report = await explainRequest(
        {
          url: values.url,
          ip: values.ip,
          method: values.method,
          userAgent: values.ua,
          browser: values.browser,
          user: values.user,
          groups: values.groups === undefined ? undefined : splitList(values.groups),
          anonymous: values.anonymous,
          sessionCountry: country,
          sessionUserAgent: values["session-ua"],
          requests,
          address: values.address,
        },
        {
          config,
          policy: policy.current(),
          policySource: config.policy_path ?? "built-in sample",
          lists: lists.current(),
          geo: lookupGeo,
          now: ctx.clock(),
          stores,
        },
      );
      ctx.out(values.json ? JSON.stringify(report, null, 2) : formatExplainReport(report));
      return 0;
    } catch (error) {
      if (error instanceof ExplainError) throw new CliError(2, error.message);
      throw error;
    } finally {
      lists.close();
    }
  },
};
