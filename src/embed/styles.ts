// The element's stylesheet, scoped by its shadow root. Hosts theme it through the --qwen-*
// custom properties (they inherit into the shadow tree) and the `theme` attribute.
import { ATTACHMENT_STYLES } from './attachment-styles.ts';

const LIGHT = `
  --bg: #ffffff; --bg-soft: #f7f7f9; --bg-sunken: #efeff4; --bg-raised: #ffffff;
  --line: #e3e3ea; --line-strong: #cfcfda;
  --text: #18181d; --text-soft: #575766; --text-faint: #8a8a98;
  --user: #efedff; --code-bg: #f4f4f8; --link: var(--accent);
  --danger: #c0362c; --danger-soft: #fdf0ee; --warn: #8a5a00; --warn-soft: #fff7e0; --ok: #1e8a4f;
  --shadow: 0 1px 2px rgb(20 20 40 / 6%), 0 8px 24px rgb(20 20 40 / 8%);
`;

const DARK = `
  --bg: #141418; --bg-soft: #1b1b21; --bg-sunken: #101014; --bg-raised: #202028;
  --line: #2c2c36; --line-strong: #3a3a47;
  --text: #ececf1; --text-soft: #a9a9b8; --text-faint: #777786;
  --user: #2a2748; --code-bg: #1d1d25; --link: color-mix(in srgb, var(--accent) 60%, #fff);
  --danger: #ff7b6e; --danger-soft: #3a1f1d; --warn: #f0c267; --warn-soft: #3a3019; --ok: #5ad08e;
  --shadow: 0 1px 2px rgb(0 0 0 / 30%), 0 8px 28px rgb(0 0 0 / 40%);
`;

export const STYLES = `
:host {
  display: block; position: relative; height: 620px; min-height: 360px;
  --accent: var(--qwen-accent, #6550f0);
  --accent-soft: color-mix(in srgb, var(--accent) 12%, transparent);
  --on-accent: #fff;
  --radius: var(--qwen-radius, 16px);
  --font: var(--qwen-font, ui-sans-serif, system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial, sans-serif);
  --mono: ui-monospace, SFMono-Regular, "SF Mono", Menlo, Consolas, "Liberation Mono", monospace;
  ${LIGHT}
  color: var(--text); font: 15px/1.55 var(--font); color-scheme: light;
}
@media (prefers-color-scheme: dark) { :host(:not([theme=light])) { ${DARK} color-scheme: dark; } }
:host([theme=dark]) { ${DARK} color-scheme: dark; }
:host([hidden]) { display: none; }
* { box-sizing: border-box; }
[hidden] { display: none !important; }
button, input, textarea, select { font: inherit; color: inherit; }
button { cursor: pointer; }
button:disabled { cursor: default; }
:focus-visible { outline: 2px solid var(--accent); outline-offset: 2px; }
.icon { flex: none; display: block; }
.visually-hidden { position: absolute; width: 1px; height: 1px; overflow: hidden; clip-path: inset(50%); white-space: nowrap; }

.app { container-type: inline-size; display: flex; flex-direction: column; height: 100%; background: var(--bg);
  border: 1px solid var(--line); border-radius: var(--radius); overflow: hidden; }
:host([full]) .app { border: 0; border-radius: 0; }

/* Header */
.bar { display: flex; align-items: center; gap: 8px; padding: 10px 14px; border-bottom: 1px solid var(--line);
  background: color-mix(in srgb, var(--bg) 88%, transparent); backdrop-filter: blur(8px); min-height: 56px; }
.spacer { flex: 1; }
.model-button { display: inline-flex; align-items: center; gap: 8px; min-width: 0; padding: 6px 10px 6px 8px;
  border: 1px solid transparent; border-radius: 10px; background: none; font-weight: 600; }
.model-button:not(:disabled):hover { background: var(--bg-soft); border-color: var(--line); }
.model-button .name { overflow: hidden; text-overflow: ellipsis; white-space: nowrap; }
.model-button .chevron { color: var(--text-faint); }
.status { display: inline-flex; align-items: center; gap: 6px; padding: 3px 10px; border-radius: 999px;
  background: var(--bg-soft); color: var(--text-soft); font-size: 12.5px; white-space: nowrap; }
.status::before { content: ""; width: 7px; height: 7px; border-radius: 50%; background: var(--text-faint); }
.status[data-state=ready]::before { background: var(--ok); }
.status[data-state=busy]::before { background: var(--accent); animation: pulse 1.2s ease-in-out infinite; }
.status[data-state=error]::before { background: var(--danger); }
.icon-button { display: inline-grid; place-items: center; width: 36px; height: 36px; border: 0; border-radius: 10px;
  background: none; color: var(--text-soft); }
.icon-button:not(:disabled):hover { background: var(--bg-soft); color: var(--text); }
.icon-button:disabled { opacity: .4; }
@keyframes pulse { 50% { opacity: .35; } }

.notice { display: flex; gap: 10px; align-items: flex-start; margin: 0; padding: 10px 16px; font-size: 13.5px;
  background: var(--warn-soft); color: var(--warn); border-bottom: 1px solid var(--line); }
.notice p { margin: 0; flex: 1; }
.notice button { border: 0; background: none; color: inherit; padding: 2px; }

/* Scrolling column */
.scroller { flex: 1; overflow-y: auto; overscroll-behavior: contain; scroll-behavior: smooth; }
.column { max-width: 780px; margin: 0 auto; padding: 24px 20px 12px; display: flex; flex-direction: column; gap: 22px; }

/* Model card */
.card { align-self: center; width: min(100%, 520px); margin-top: 4vh; padding: 22px; border: 1px solid var(--line);
  border-radius: calc(var(--radius) + 2px); background: var(--bg-raised); box-shadow: var(--shadow);
  display: flex; flex-direction: column; gap: 16px; }
.card-head { display: flex; align-items: center; gap: 14px; }
.card-head h2 { margin: 0; font-size: 18px; line-height: 1.3; }
.card-head p { margin: 2px 0 0; color: var(--text-faint); font-size: 13px; word-break: break-all; }
.logo { flex: none; display: grid; place-items: center; width: 44px; height: 44px; border-radius: 13px; color: var(--on-accent);
  background: linear-gradient(135deg, var(--accent), color-mix(in srgb, var(--accent) 55%, #19b8d6)); }
.logo svg { width: 62%; height: 62%; }
.logo.small { width: 30px; height: 30px; border-radius: 9px; }
.facts { list-style: none; margin: 0; padding: 0; display: flex; flex-direction: column; gap: 9px; font-size: 14px; color: var(--text-soft); }
.facts li { display: flex; gap: 10px; align-items: flex-start; }
.facts li .icon { margin-top: 2px; color: var(--text-faint); }
.facts li[data-tone=ok] .icon { color: var(--ok); }
.facts li[data-tone=bad] { color: var(--danger); }
.facts li[data-tone=bad] .icon, .facts li[data-tone=warn] .icon { color: currentColor; }
.facts li[data-tone=warn] { color: var(--warn); }
.facts ul { margin: 4px 0 0; padding-left: 18px; }
/* Weight format choice: a segmented radio group */
.weights { display: grid; grid-template-columns: repeat(3, minmax(0, 1fr)); gap: 6px; margin: 0; padding: 0; border: 0; min-width: 0; }
.weights legend { grid-column: 1 / -1; padding: 0; margin-bottom: 6px; font-size: 12px; text-transform: uppercase; letter-spacing: .06em; color: var(--text-faint); }
.weight { position: relative; display: flex; flex-direction: column; gap: 2px; padding: 9px 11px; border: 1px solid var(--line); border-radius: 12px;
  background: var(--bg); cursor: pointer; }
.weight:hover { border-color: var(--line-strong); background: var(--bg-soft); }
.weight:has(input:checked) { border-color: var(--accent); background: var(--accent-soft); }
.weight:has(input:focus-visible) { outline: 2px solid var(--accent); outline-offset: 2px; }
.weights:disabled .weight { cursor: default; opacity: .7; }
.weight input { position: absolute; opacity: 0; pointer-events: none; }
.weight-name { font-weight: 700; font-family: var(--mono); font-size: 14px; }
.weight-about { font-size: 12.5px; color: var(--text-soft); line-height: 1.35; }
.weight-need { display: block; margin-top: 3px; color: var(--text); font-variant-numeric: tabular-nums; }
.weight[data-fits=false] .weight-need { color: var(--danger); }
.alternative { display: inline-flex; flex-wrap: wrap; align-items: center; gap: 6px 10px; color: var(--text); }
.secondary.small { padding: 4px 10px; border-radius: 8px; font-size: 13px; }
.model-quant { flex: none; font-weight: 500; color: var(--text-soft); font-family: var(--mono); font-size: 13px; }
.skeleton { height: 12px; border-radius: 6px; background: linear-gradient(90deg, var(--bg-sunken), var(--bg-soft), var(--bg-sunken));
  background-size: 200% 100%; animation: shimmer 1.3s linear infinite; }
@keyframes shimmer { to { background-position: -200% 0; } }
.actions { display: flex; flex-wrap: wrap; gap: 10px; }
.primary, .secondary { display: inline-flex; align-items: center; justify-content: center; gap: 8px; padding: 10px 16px;
  border-radius: 11px; font-weight: 600; border: 1px solid transparent; }
.primary { background: var(--accent); color: var(--on-accent); }
.primary:not(:disabled):hover { background: color-mix(in srgb, var(--accent) 88%, #000); }
.primary:disabled { opacity: .5; }
.secondary { background: var(--bg); border-color: var(--line-strong); }
.secondary:hover { background: var(--bg-soft); }

.progress { display: flex; flex-direction: column; gap: 8px; }
.track { height: 8px; border-radius: 99px; background: var(--bg-sunken); overflow: hidden; }
.fill { height: 100%; width: 0; border-radius: inherit; background: linear-gradient(90deg, var(--accent), color-mix(in srgb, var(--accent) 60%, #19b8d6));
  transition: width .25s ease; }
.progress-text { display: flex; justify-content: space-between; gap: 12px; font-size: 13px; color: var(--text-soft); font-variant-numeric: tabular-nums; }
.files { font-size: 12.5px; color: var(--text-soft); }
.files summary { cursor: pointer; color: var(--text-faint); width: max-content; }
.files ul { list-style: none; margin: 8px 0 0; padding: 0; display: grid; gap: 6px; }
.files li { display: grid; grid-template-columns: minmax(0, 1fr) 90px auto; gap: 10px; align-items: center; }
.files .file-name { overflow: hidden; text-overflow: ellipsis; white-space: nowrap; font-family: var(--mono); font-size: 12px; }
.files .track { height: 5px; }
.files .file-size { font-variant-numeric: tabular-nums; text-align: right; min-width: 70px; }

.alert { display: flex; gap: 10px; padding: 12px 14px; border-radius: 12px; background: var(--danger-soft); color: var(--danger); font-size: 14px; }
.alert .icon { margin-top: 2px; }
.alert strong { display: block; margin-bottom: 2px; }
.alert p { margin: 0; color: var(--text); opacity: .85; overflow-wrap: anywhere; }

/* Welcome */
.welcome { text-align: center; margin-top: 6vh; display: flex; flex-direction: column; align-items: center; gap: 10px; }
.welcome h2 { margin: 8px 0 0; font-size: 22px; letter-spacing: -.01em; }
.welcome p { margin: 0; color: var(--text-soft); }
.suggestions { display: grid; grid-template-columns: repeat(2, minmax(0, 1fr)); gap: 10px; margin-top: 14px; width: min(100%, 560px); }
.suggestion { text-align: left; padding: 12px 14px; border: 1px solid var(--line); border-radius: 12px; background: var(--bg); color: var(--text-soft); font-size: 14px; }
.suggestion strong { display: block; color: var(--text); font-weight: 600; }
.suggestion:hover { background: var(--bg-soft); border-color: var(--line-strong); }

/* Messages */
.log { display: flex; flex-direction: column; gap: 22px; }
.log:empty { display: none; }
.msg { display: flex; gap: 12px; min-width: 0; }
.msg.user { justify-content: flex-end; }
.msg.user .bubble { max-width: min(85%, 600px); padding: 10px 15px; border-radius: 18px 18px 6px 18px; background: var(--user);
  white-space: pre-wrap; overflow-wrap: anywhere; }
.msg.user > div { display: flex; flex-direction: column; align-items: flex-end; min-width: 0; }
.msg.assistant .body { flex: 1; min-width: 0; display: flex; flex-direction: column; gap: 8px; padding-top: 3px; }
.meta { display: flex; flex-wrap: wrap; align-items: center; gap: 2px 12px; min-height: 22px; font-size: 12.5px; color: var(--text-faint); font-variant-numeric: tabular-nums; }
.meta .stats { display: inline-flex; flex-wrap: wrap; gap: 0 8px; }
.meta .stat + .stat::before { content: "·"; margin-right: 8px; color: var(--text-faint); }
.meta .finish { color: var(--warn); }
.meta button { display: inline-flex; align-items: center; gap: 4px; padding: 3px 6px; border: 0; border-radius: 7px; background: none; color: inherit; }
.meta button:hover { background: var(--bg-soft); color: var(--text); }
.cursor::after { content: ""; display: inline-block; width: 8px; height: 1.05em; margin-left: 2px; vertical-align: -2px;
  border-radius: 2px; background: var(--accent); animation: pulse 1s ease-in-out infinite; }
.pending { display: flex; gap: 5px; padding: 8px 0; }
.pending span { width: 7px; height: 7px; border-radius: 50%; background: var(--text-faint); animation: pulse 1.1s infinite; }
.pending span:nth-child(2) { animation-delay: .18s; } .pending span:nth-child(3) { animation-delay: .36s; }
.msg.error { padding-left: 42px; }
.msg.error .alert { flex: 1; }

.thinking { border: 1px solid var(--line); border-radius: 12px; background: var(--bg-soft); font-size: 14px; }
.thinking summary { display: flex; align-items: center; gap: 8px; padding: 8px 12px; cursor: pointer; color: var(--text-soft); list-style: none; }
.thinking summary::-webkit-details-marker { display: none; }
.thinking summary .chevron { margin-left: auto; transition: transform .15s; color: var(--text-faint); }
.thinking[open] summary .chevron { transform: rotate(180deg); }
.thinking .label { font-weight: 600; white-space: nowrap; }
.thinking .preview { min-width: 0; overflow: hidden; text-overflow: ellipsis; white-space: nowrap; color: var(--text-faint); }
.thinking[open] .preview { display: none; }
.thinking .thinking-text { padding: 0 14px 12px; color: var(--text-soft); white-space: pre-wrap; overflow-wrap: anywhere; border-top: 1px solid var(--line); padding-top: 10px; }
.thinking[data-live] .label { background: linear-gradient(90deg, var(--text-soft), var(--accent), var(--text-soft)); background-size: 200% 100%;
  -webkit-background-clip: text; background-clip: text; color: transparent; animation: shimmer 1.6s linear infinite; }

/* Rendered answers */
.markdown { overflow-wrap: anywhere; }
.markdown > :first-child { margin-top: 0; } .markdown > :last-child { margin-bottom: 0; }
.markdown p, .markdown ul, .markdown ol, .markdown blockquote, .markdown .code, .markdown .table-scroll { margin: 0 0 .8em; }
.markdown h3, .markdown h4, .markdown h5, .markdown h6 { margin: 1.1em 0 .45em; line-height: 1.3; }
.markdown h3 { font-size: 1.2em; } .markdown h4 { font-size: 1.08em; } .markdown h5, .markdown h6 { font-size: 1em; }
.markdown ul, .markdown ol { padding-left: 1.4em; } .markdown li + li { margin-top: .25em; } .markdown li > ul, .markdown li > ol { margin: .25em 0 0; }
.markdown a { color: var(--link); text-underline-offset: 2px; }
.markdown blockquote { padding: 2px 0 2px 14px; border-left: 3px solid var(--line-strong); color: var(--text-soft); }
.markdown hr { border: 0; border-top: 1px solid var(--line); margin: 1.2em 0; }
.markdown :not(pre) > code { font-family: var(--mono); font-size: .88em; padding: .1em .35em; border-radius: 6px; background: var(--code-bg); border: 1px solid var(--line); }
.markdown .code { border: 1px solid var(--line); border-radius: 12px; overflow: hidden; background: var(--code-bg); }
.code-head { display: flex; align-items: center; justify-content: space-between; padding: 5px 8px 5px 14px; font-size: 12px; color: var(--text-faint); border-bottom: 1px solid var(--line); }
.code-copy { display: inline-flex; align-items: center; gap: 5px; padding: 3px 7px; border: 0; border-radius: 7px; background: none; color: inherit; font-size: 12px; }
.code-copy:hover { background: var(--bg-sunken); color: var(--text); }
.markdown pre { margin: 0; padding: 12px 14px; overflow-x: auto; font: 13px/1.55 var(--mono); }
.table-scroll { overflow-x: auto; }
.markdown table { border-collapse: collapse; font-size: 14px; }
.markdown th, .markdown td { padding: 6px 12px; border: 1px solid var(--line); }
.markdown th { background: var(--bg-soft); font-weight: 600; }

/* Composer */
.composer-wrap { padding: 8px 16px 12px; }
.composer { max-width: 780px; margin: 0 auto; border: 1px solid var(--line-strong); border-radius: 20px; background: var(--bg-raised);
  box-shadow: var(--shadow); padding: 8px 8px 8px 14px; display: flex; flex-direction: column; gap: 4px; transition: border-color .15s; }
.composer:focus-within { border-color: color-mix(in srgb, var(--accent) 55%, var(--line-strong)); }
.composer textarea { border: 0; outline: 0; resize: none; background: none; padding: 6px 4px 2px 0; max-height: 220px; min-height: 28px; line-height: 1.5; }
.composer textarea::placeholder { color: var(--text-faint); }
.composer-row { display: flex; align-items: center; gap: 4px; }
.toggle { display: inline-flex; align-items: center; gap: 6px; height: 34px; padding: 0 12px; border: 1px solid var(--line); border-radius: 999px;
  background: none; color: var(--text-soft); font-size: 13.5px; }
.toggle:hover { background: var(--bg-soft); }
.toggle[aria-pressed=true] { background: var(--accent-soft); border-color: color-mix(in srgb, var(--accent) 45%, transparent); color: var(--link); }
.send { display: grid; place-items: center; width: 36px; height: 36px; border: 0; border-radius: 50%; background: var(--accent); color: var(--on-accent); }
.send:disabled { background: var(--bg-sunken); color: var(--text-faint); }
.send[data-mode=stop] { background: var(--text); color: var(--bg); }
.fineprint { max-width: 780px; margin: 8px auto 0; text-align: center; font-size: 12px; color: var(--text-faint); }

/* Dialogs */
dialog { border: 1px solid var(--line); border-radius: 18px; padding: 0; background: var(--bg-raised); color: var(--text);
  box-shadow: 0 24px 60px rgb(0 0 0 / 25%); width: min(560px, calc(100vw - 24px)); max-height: min(720px, calc(100dvh - 24px)); }
dialog::backdrop { background: rgb(10 10 20 / 40%); backdrop-filter: blur(2px); }
.dialog-head { display: flex; align-items: center; justify-content: space-between; padding: 16px 18px 8px; }
.dialog-head h2 { margin: 0; font-size: 17px; }
.dialog-body { padding: 4px 18px 18px; display: flex; flex-direction: column; gap: 16px; }
.group h3 { margin: 4px 0 8px; font-size: 12px; text-transform: uppercase; letter-spacing: .06em; color: var(--text-faint); }
.options { display: grid; gap: 6px; }
.option { display: flex; align-items: center; gap: 12px; width: 100%; padding: 10px 12px; border: 1px solid var(--line); border-radius: 12px;
  background: var(--bg); text-align: left; }
.option:hover { border-color: var(--line-strong); background: var(--bg-soft); }
.option[aria-current=true] { border-color: var(--accent); background: var(--accent-soft); }
.option .text { flex: 1; min-width: 0; }
.option .title { font-weight: 600; }
.option .blurb { display: block; font-size: 13px; color: var(--text-soft); }
.tags { display: flex; gap: 4px; flex-wrap: wrap; justify-content: flex-end; }
.tag { padding: 1px 7px; border-radius: 99px; background: var(--bg-sunken); color: var(--text-soft); font-size: 11.5px; white-space: nowrap; }
.custom { display: flex; gap: 8px; }
.field { display: flex; flex-direction: column; gap: 6px; font-size: 14px; }
.field > span { font-weight: 600; }
.field small { color: var(--text-faint); font-size: 12.5px; }
.field input[type=text], .field input[type=number], .field textarea, .custom input { width: 100%; padding: 9px 11px; border: 1px solid var(--line-strong);
  border-radius: 10px; background: var(--bg); }
.field input[type=range] { accent-color: var(--accent); }
.range-row { display: flex; align-items: center; gap: 10px; }
.range-row input { flex: 1; }
.range-row output { min-width: 56px; text-align: right; font-variant-numeric: tabular-nums; color: var(--text-soft); }

/* Narrow containers: phones, and narrow embeds on wide pages */
@container (max-width: 560px) {
  .bar { padding: 8px 8px 8px 10px; gap: 4px; min-height: 52px; }
  .status .status-text { display: none; }
  .status { padding: 6px; }
  .column { padding: 16px 14px 8px; gap: 18px; }
  .card { padding: 18px; margin-top: 0; }
  .weight { padding: 8px 9px; }
  .suggestions { grid-template-columns: minmax(0, 1fr); }
  .suggestion:nth-child(n+3) { display: none; }
  .msg.assistant .logo { display: none; }
  .msg.error { padding-left: 0; }
  .msg.user .bubble { max-width: 92%; }
  .composer-wrap { padding: 6px 8px 8px; }
  .fineprint { display: none; }
  .toggle .toggle-text { display: none; }
  .toggle { padding: 0 9px; }
}
@media (max-width: 560px) {
  dialog { width: calc(100vw - 16px); max-height: calc(100dvh - 16px); border-radius: 16px; }
  .option { flex-wrap: wrap; gap: 6px 12px; }
  .tags { justify-content: flex-start; width: 100%; }
}
${ATTACHMENT_STYLES}
@media (prefers-reduced-motion: reduce) { *, *::before, *::after { animation: none !important; transition: none !important; scroll-behavior: auto !important; } }
`;
