/**
 * The portal's browser half, bundled by Vigil (assets.ts) and served same-origin. It runs one
 * ceremony, named by the page: data-ceremony = enroll | login | stepup | add-passkey. The server decides where
 * to go afterwards (it validates rd); this script only follows the answer's `redirect`.
 */
import { browserSupportsWebAuthn, startAuthentication, startRegistration } from "@simplewebauthn/browser";

const root = document.querySelector<HTMLElement>("[data-ceremony]");
const button = document.querySelector<HTMLButtonElement>("#start");
const status = document.querySelector<HTMLElement>("#status");

function say(text: string, kind: "info" | "error" | "ok" = "info"): void {
  if (!status) return;
  status.textContent = text;
  status.dataset.kind = kind;
}

async function post(path: string, body: unknown): Promise<Record<string, unknown>> {
  const answer = await fetch(path, {
    method: "POST",
    credentials: "same-origin",
    headers: { "content-type": "application/json", accept: "application/json" },
    body: JSON.stringify(body),
  });
  const data = (await answer.json().catch(() => ({}))) as Record<string, unknown>;
  if (!answer.ok) {
    throw new Error(
      typeof data.message === "string" ? data.message : `The server refused (${answer.status}).`,
    );
  }
  return data;
}

function explain(error: unknown): string {
  const name = error instanceof Error ? error.name : "";
  if (name === "NotAllowedError" || name === "AbortError") {
    return "No passkey was used (the request was cancelled or timed out, or this device has no passkey for this site). Try again, or ask an administrator for a new enrollment link.";
  }
  if (name === "InvalidStateError") return "This authenticator already holds a passkey for this account.";
  return error instanceof Error && error.message ? error.message : "Something went wrong. Try again.";
}

async function run(ceremony: string, data: DOMStringMap): Promise<void> {
  const rd = data.rd ?? "";
  let result: Record<string, unknown>;
  if (ceremony === "add-passkey") {
    const optionsJSON = (await post("/account/passkeys/options", {})) as never;
    const response = await startRegistration({ optionsJSON });
    say("Checking…");
    result = await post("/account/passkeys/verify", { response });
  } else if (ceremony === "enroll") {
    const token = data.token ?? "";
    const optionsJSON = (await post("/webauthn/register/options", { token })) as never;
    const response = await startRegistration({ optionsJSON });
    say("Checking…");
    result = await post("/webauthn/register/verify", { token, response, rd });
  } else {
    const base = ceremony === "stepup" ? "/webauthn/stepup" : "/webauthn/login";
    const optionsJSON = (await post(`${base}/options`, {})) as never;
    const response = await startAuthentication({ optionsJSON });
    say("Checking…");
    result = await post(`${base}/verify`, { response, rd });
  }
  say("Done. Taking you back…", "ok");
  window.location.assign(typeof result.redirect === "string" ? result.redirect : "/");
}

if (root && button) {
  if (!browserSupportsWebAuthn()) {
    say("This browser does not support passkeys. Use a current browser on a device with a passkey.", "error");
    button.disabled = true;
  } else {
    button.addEventListener("click", () => {
      button.disabled = true;
      say("Waiting for your passkey…");
      run(root.dataset.ceremony ?? "", root.dataset).catch((error: unknown) => {
        say(explain(error), "error");
        button.disabled = false;
        button.focus();
      });
    });
    button.disabled = false;
  }
}
