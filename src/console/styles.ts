/**
 * The console's stylesheet, served from `/agent/assets/console.css`. System fonts, no external assets.
 * Colours keep at least 4.5:1 contrast for text (checked against WCAG AA); focus is always visible.
 * One column up to 880 px (a 400 px softphone side panel), feed + lookup side by side above it.
 */
export const STYLES = `
:root {
  --ink: #1a1d23; --muted: #4a5261; --line: #d5d9e0; --bg: #f4f5f7; --card: #ffffff;
  --accent: #0b5cad; --accent-ink: #ffffff;
  --good-bg: #e3f4e8; --good-ink: #14532d; --warn-bg: #fff3d6; --warn-ink: #6b4500;
  --bad-bg: #fde4e4; --bad-ink: #8a1313; --neutral-bg: #eceef2; --neutral-ink: #353b46;
  font-family: system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial, sans-serif;
  color: var(--ink); background: var(--bg); line-height: 1.45;
}
* { box-sizing: border-box; }
body { margin: 0; font-size: 15px; }
a { color: var(--accent); }
a:focus-visible, button:focus-visible, input:focus-visible, select:focus-visible, [tabindex]:focus-visible {
  outline: 3px solid #f0a500; outline-offset: 2px;
}
.skip { position: absolute; left: -999px; top: 0; background: var(--card); padding: 8px; z-index: 10; }
.skip:focus { left: 8px; }
.topbar { display: flex; align-items: center; gap: 12px; padding: 10px 20px; background: #15294a; color: #fff; flex-wrap: wrap; }
.topbar h1 { font-size: 18px; margin: 0; letter-spacing: .2px; }
.topbar h1 a { color: #fff; text-decoration: none; }
.topbar .who { margin-left: auto; font-size: 14px; color: #dfe6f2; min-width: 0; overflow: hidden; text-overflow: ellipsis; white-space: nowrap; }
.topbar form { margin: 0; }
.topbar button { background: transparent; color: #fff; border: 1px solid #8fa3c4; border-radius: 6px; padding: 4px 10px; font: inherit; font-size: 14px; cursor: pointer; }
.live { font-size: 13px; padding: 2px 10px; border-radius: 999px; font-weight: 600; }
.live.good { background: var(--good-bg); color: var(--good-ink); }
.live.warn { background: var(--warn-bg); color: var(--warn-ink); }
.live.bad { background: var(--bad-bg); color: var(--bad-ink); }
main { padding: 16px 20px 40px; max-width: 1400px; margin: 0 auto; }
.layout { display: grid; grid-template-columns: minmax(0, 1fr) 360px; gap: 20px; align-items: start; }
/* The lookup comes first in the document (keyboard order) but sits on the right at desk widths. */
.layout > aside { grid-column: 2; grid-row: 1; }
.layout > section { grid-column: 1; grid-row: 1; }
.layout > section > h2, .layout > aside h2 { font-size: 15px; text-transform: uppercase; letter-spacing: .6px; color: var(--muted); margin: 4px 0 10px; }
aside .panel { background: var(--card); border: 1px solid var(--line); border-radius: 10px; padding: 14px 16px; position: sticky; top: 16px; }
#feed { display: grid; gap: 12px; }
.card { background: var(--card); border: 1px solid var(--line); border-left: 5px solid var(--accent); border-radius: 10px; padding: 12px 16px; }
.card.sms { border-left-color: #6b46c1; }
.card.withheld { border-left-color: #8a5a00; }
.card.new { animation: flash 1.2s ease-out 1; }
@keyframes flash { from { box-shadow: 0 0 0 4px #f0a50080; } to { box-shadow: 0 0 0 0 transparent; } }
@media (prefers-reduced-motion: reduce) { .card.new { animation: none; } }
.caller { font-size: 19px; margin: 0 0 2px; font-weight: 650; }
h1.caller { font-size: 22px; }
.channel { display: inline-block; font-size: 12px; text-transform: uppercase; letter-spacing: .6px; background: var(--neutral-bg); color: var(--neutral-ink); border-radius: 4px; padding: 1px 6px; vertical-align: 3px; }
.number { font-variant-numeric: tabular-nums; white-space: nowrap; }
.meta { margin: 0 0 8px; color: var(--muted); font-size: 14px; }
.status { font-weight: 600; color: var(--ink); }
.status-ringing, .status-queued { color: #8a4b00; }
.status-in-progress { color: var(--good-ink); }
.trust { list-style: none; margin: 0 0 8px; padding: 0; display: flex; flex-wrap: wrap; gap: 6px; }
.badge { display: inline-block; font-size: 13px; border-radius: 6px; padding: 2px 8px; font-weight: 500; }
.badge.good, .notice.good { background: var(--good-bg); color: var(--good-ink); }
.badge.warn, .notice.warn { background: var(--warn-bg); color: var(--warn-ink); }
.badge.bad, .notice.bad { background: var(--bad-bg); color: var(--bad-ink); }
.badge.neutral, .notice.neutral { background: var(--neutral-bg); color: var(--neutral-ink); }
.notice { border-radius: 8px; padding: 6px 10px; margin: 6px 0; font-size: 14px; }
.matches { list-style: none; padding: 0; margin: 8px 0 0; display: grid; gap: 8px; grid-template-columns: repeat(auto-fill, minmax(300px, 1fr)); }
.match { border: 1px solid var(--line); border-radius: 8px; padding: 8px 12px; background: #fbfcfd; }
.match.blocked { background: #fff7f7; border-color: #f0b9b9; }
.match-head { display: flex; align-items: baseline; gap: 8px; flex-wrap: wrap; }
.rank { font-weight: 700; color: var(--muted); font-variant-numeric: tabular-nums; }
.name { font-size: 16px; }
.badges { display: inline-flex; gap: 4px; margin-left: auto; }
.facts { display: grid; grid-template-columns: max-content minmax(0, 1fr); gap: 2px 10px; margin: 6px 0; font-size: 14px; }
.facts dt { color: var(--muted); }
.facts dd { margin: 0; overflow-wrap: anywhere; }
code { font-family: ui-monospace, "SFMono-Regular", Menlo, Consolas, monospace; font-size: 13px; }
.dash { font-size: 14px; }
.pop-link { display: inline-block; margin-top: 8px; font-size: 14px; }
.empty { color: var(--muted); background: var(--card); border: 1px dashed var(--line); border-radius: 10px; padding: 18px; }
label { display: block; font-weight: 600; margin: 0 0 4px; }
.hint { color: var(--muted); font-size: 13px; margin: 2px 0 8px; }
.field-row { display: flex; gap: 8px; }
input[type=text], input[type=tel], input[type=password], select { font: inherit; padding: 7px 9px; border: 1px solid #8d96a5; border-radius: 6px; min-width: 0; background: #fff; color: var(--ink); }
input[type=tel] { flex: 1; }
.btn { font: inherit; font-weight: 600; background: var(--accent); color: var(--accent-ink); border: 0; border-radius: 6px; padding: 8px 14px; cursor: pointer; text-decoration: none; display: inline-block; }
#lookup-results { margin-top: 12px; }
#lookup-results .matches { grid-template-columns: 1fr; }
.lookup-number { font-size: 17px; margin: 0 0 4px; }
.center { max-width: 440px; margin: 10vh auto; background: var(--card); border: 1px solid var(--line); border-radius: 12px; padding: 24px; }
.center h1 { margin-top: 0; font-size: 22px; }
.sr-only { position: absolute; width: 1px; height: 1px; overflow: hidden; clip: rect(0 0 0 0); white-space: nowrap; }
.pop main { padding: 12px; }
@media (max-width: 880px) {
  .layout { grid-template-columns: minmax(0, 1fr); }
  .who-label { display: none; }
  .layout > aside, .layout > section { grid-column: 1; grid-row: auto; }
  aside .panel { position: static; }
  main { padding: 10px; }
  .topbar { padding: 8px 10px; }
  .matches { grid-template-columns: 1fr; }
  .card { padding: 10px 12px; }
}
`;
