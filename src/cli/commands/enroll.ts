import { type Command, parseCommandArgs, splitList } from "../command.ts";

/** Prints a one-time enrollment link (a secret: to stdout only, never to a log). */
export const enroll: Command = {
  name: "enroll",
  summary: "mint a one-time passkey enrollment link (creates the user if missing)",
  usage: '<user> [--groups a,b] [--name "Display Name"]',
  async run(args, ctx) {
    const { positionals, values } = parseCommandArgs(this, args, ["user"], {
      groups: { type: "string" },
      name: { type: "string" },
    });
    const ops = await ctx.ops();
    const result = await ops.mintEnrollment(positionals[0]!, {
      groups: values.groups !== undefined ? splitList(values.groups) : undefined,
      displayName: values.name,
    });
    ctx.out(result.url);
    ctx.err(
      `one-time link for ${result.user.id} (groups: ${result.user.groups.join(",") || "none"}), ` +
        `valid until ${result.expires_at}`,
    );
    return 0;
  },
};
