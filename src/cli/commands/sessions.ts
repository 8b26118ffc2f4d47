import { type Command, parseCommandArgs, table } from "../command.ts";

export const sessions: Command = {
  name: "sessions",
  summary: "list a user's sessions (handle, created, last seen, IP, country, acr)",
  usage: "<user> [--json]",
  async run(args, ctx) {
    const { positionals, values } = parseCommandArgs(this, args, ["user"], { json: { type: "boolean" } });
    const list = await (await ctx.ops()).listSessions(positionals[0]!);
    if (values.json) {
      ctx.out(JSON.stringify(list, null, 2));
      return 0;
    }
    if (list.length === 0) {
      ctx.out(`${positionals[0]} has no sessions`);
      return 0;
    }
    ctx.out(
      table(
        ["SESSION", "CREATED", "LAST SEEN", "IP", "COUNTRY", "ACR", "AMR", "STEP-UP"],
        list.map((s) => [
          s.id,
          s.created_at,
          s.last_seen_at,
          s.ip,
          s.country || "-",
          s.acr,
          s.amr.join(","),
          s.step_up_at ?? "-",
        ]),
      ),
    );
    return 0;
  },
};
