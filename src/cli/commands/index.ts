/**
 * The CLI's command table. Adding a command = a file in this folder + one line here.
 * (`explain` — why a request would be allowed or denied — is added here by its own module.)
 */
import type { Command } from "../command.ts";
import { check } from "./check.ts";
import { deletePasskey } from "./delete-passkey.ts";
import { enroll } from "./enroll.ts";
import { explain } from "./explain.ts";
import { groups } from "./groups.ts";
import { migrateKeys } from "./migrate-keys.ts";
import { passkeys } from "./passkeys.ts";
import { resume } from "./resume.ts";
import { revoke } from "./revoke.ts";
import { sessions } from "./sessions.ts";
import { suspend } from "./suspend.ts";
import { users } from "./users.ts";

export const COMMANDS: readonly Command[] = [
  enroll,
  revoke,
  suspend,
  resume,
  groups,
  sessions,
  users,
  passkeys,
  deletePasskey,
  check,
  explain,
  migrateKeys,
];
