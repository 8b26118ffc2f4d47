/**
 * The one stylesheet every page a browser sees shares (portal, account, console, error pages).
 * Colours come from two palettes (light, dark) chosen by prefers-color-scheme; every text/background
 * pair in them passes WCAG AA (4.5:1), which test/http/ui/stylesheet.test.ts computes.
 *
 * Portal-host pages link it under a content-hashed path; error pages that Traefik relays on an
 * application's host embed the same text under the response's CSP nonce (a link there would be a
 * cross-origin fetch that the portal's resource policy refuses).
 */
import { createHash } from "node:crypto";

export interface Palette {
  background: string;
  surface: string;
  text: string;
  muted: string;
  accent: string;
  /** Text on an accent-coloured button. */
  onAccent: string;
  danger: string;
  ok: string;
  border: string;
}

export const LIGHT: Palette = {
  background: "#ffffff",
  surface: "#f3f4f6",
  text: "#111827",
  muted: "#4b5563",
  accent: "#1d4ed8",
  onAccent: "#ffffff",
  danger: "#b91c1c",
  ok: "#166534",
  border: "#6b7280",
};

export const DARK: Palette = {
  background: "#111827",
  surface: "#1f2937",
  text: "#f3f4f6",
  muted: "#d1d5db",
  accent: "#93c5fd",
  onAccent: "#111827",
  danger: "#fca5a5",
  ok: "#86efac",
  border: "#9ca3af",
};

const variables = (palette: Palette) =>
  Object.entries(palette)
    .map(([name, value]) => `--${name.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)}:${value}`)
    .join(";");

export const STYLESHEET = `
:root{${variables(LIGHT)};color-scheme:light dark;font-family:system-ui,sans-serif;line-height:1.5}
@media (prefers-color-scheme:dark){:root{${variables(DARK)}}}
*{box-sizing:border-box}
body{margin:0;background:var(--background);color:var(--text)}
a{color:var(--accent)}
a:focus-visible,button:focus-visible,input:focus-visible,select:focus-visible{outline:3px solid var(--accent);outline-offset:2px}
header.brand{display:flex;align-items:center;gap:.6rem;padding:.8rem 1rem;border-bottom:1px solid var(--border);background:var(--surface)}
header.brand img{height:2rem;width:auto}
header.brand .product{font-weight:600;color:var(--text);text-decoration:none}
header.brand nav{margin-left:auto;display:flex;gap:1rem;align-items:center}
main{max-width:40rem;margin:2rem auto;padding:0 1rem}
main.wide{max-width:64rem}
h1{font-size:1.5rem;margin:0 0 .5rem}
h2{font-size:1.2rem;margin:2rem 0 .5rem}
p.lead{font-size:1.05rem}
.muted,.help{color:var(--muted)}
.help{margin-top:2rem;font-size:.9rem}
code{font-size:.9em}
button,.button{font:inherit;padding:.5rem 1rem;border-radius:.4rem;border:1px solid var(--border);background:var(--background);color:var(--text);cursor:pointer;text-decoration:none;display:inline-block}
button.primary,.button.primary{background:var(--accent);color:var(--on-accent);border-color:var(--accent)}
button.danger{color:var(--danger);border-color:var(--danger)}
button:disabled{opacity:.6;cursor:progress}
input,select{font:inherit;padding:.4rem .5rem;border:1px solid var(--border);border-radius:.3rem;background:var(--background);color:var(--text)}
label{display:block;margin:.5rem 0 .2rem}
form.inline{display:inline}
ul.providers{list-style:none;padding:0;margin:1rem 0}
ul.providers li{margin:.5rem 0}
table{border-collapse:collapse;width:100%;margin:.5rem 0}
th,td{text-align:left;padding:.4rem .5rem;border-bottom:1px solid var(--border);vertical-align:top}
th{font-weight:600}
.badge{display:inline-block;padding:0 .4rem;border:1px solid var(--border);border-radius:.3rem;font-size:.85rem}
.notice{padding:.6rem .8rem;border-left:4px solid var(--accent);background:var(--surface)}
.error,#status[data-kind=error]{color:var(--danger)}
.ok,#status[data-kind=ok]{color:var(--ok)}
#status{min-height:1.5rem;margin-top:1rem}
.actions{display:flex;flex-wrap:wrap;gap:.5rem;margin:1rem 0}
.visually-hidden{position:absolute;width:1px;height:1px;overflow:hidden;clip:rect(0 0 0 0);white-space:nowrap}
.notice.ok{border-left-color:var(--ok)}
.notice.error{border-left-color:var(--danger)}
svg.chart{max-width:100%;height:auto;color:var(--text)}
svg.chart text{fill:var(--text);font-size:12px}
svg.chart .axis{stroke:var(--border)}
svg.chart .line{fill:none;stroke-width:2}
svg.chart .point{fill:var(--background);stroke-width:2}
svg.chart .bar{fill:var(--accent)}
.swatch{display:inline-block;width:1.5rem;border-top-width:3px;border-top-style:solid;vertical-align:middle;margin-right:.3rem}
.line-allow,.swatch-allow{stroke:var(--ok);border-color:var(--ok)}
.line-deny,.swatch-deny{stroke:var(--danger);border-color:var(--danger)}
.line-login,.swatch-login{stroke:var(--accent);border-color:var(--accent)}
.line-stepup,.swatch-stepup{stroke:var(--text);stroke-dasharray:6 3;border-color:var(--text);border-top-style:dashed}
.line-rate_limited,.line-unavailable,.line-bad_request,.swatch-rate_limited,.swatch-unavailable,.swatch-bad_request{stroke:var(--muted);stroke-dasharray:2 3;border-color:var(--muted);border-top-style:dotted}
ul.legend{list-style:none;padding:0;display:flex;flex-wrap:wrap;gap:1rem}
.grid{display:grid;grid-template-columns:repeat(auto-fit,minmax(18rem,1fr));gap:1.5rem}
.figure{font-size:1.6rem;font-weight:600}
.qr{background:#fff;padding:.5rem;display:inline-block;width:14rem}
.qr svg{width:100%;height:auto;display:block}
.link-once{word-break:break-all}
`;

const hash = createHash("sha256").update(STYLESHEET).digest("hex").slice(0, 16);

/** Where portal-host pages link the stylesheet (content-hashed, so it can be cached forever). */
export const STYLESHEET_PATH = `/assets/vigil.${hash}.css`;
