/**
 * The page's own style sheet and script, inlined into every report (no file, font or script is
 * fetched: the report opens offline). Colours keep text at WCAG AA contrast or better on its
 * background; focus is a thick outline and a highlighted row. The script only opens the details
 * a ladder row points to, scrolls to its packet and moves focus there; without it every row is
 * still a link into them (a browser opens the details around a link's target).
 */
export const REPORT_CSS = `
:root { color-scheme: light; --ink: #1b1f24; --muted: #4a525c; --line: #59636e; --accent: #0b57d0; --focus: #b3261e; }
body { font: 15px/1.45 system-ui, -apple-system, "Segoe UI", "DejaVu Sans", sans-serif; color: var(--ink); background: #fff; margin: 0 1.5rem 3rem; }
h1 { font-size: 1.6rem; margin: 1.2rem 0 .3rem; } h2 { font-size: 1.3rem; margin-top: 2rem; border-bottom: 1px solid #c9d1d9; } h3 { font-size: 1.05rem; }
nav ul { list-style: none; padding: 0; display: flex; gap: 1.2rem; flex-wrap: wrap; }
a { color: var(--accent); }
a:focus-visible, summary:focus-visible { outline: 3px solid var(--focus); outline-offset: 2px; }
.scroll { overflow: auto; border: 1px solid #c9d1d9; max-height: 80vh; }
svg text { font: 12px ui-monospace, "DejaVu Sans Mono", "Liberation Mono", monospace; fill: var(--ink); }
svg .host rect { fill: #f3f6fa; stroke: var(--line); stroke-width: 1.2; }
svg .host-pod rect { fill: #eaf4ea; } svg .host-node rect { fill: #eef2fb; } svg .host-external rect { fill: #fbf1e6; } svg .host-switch rect { fill: #f1f1f1; }
svg .host-name { font-weight: 700; font-size: 13px; }
svg .if-detail { fill: var(--muted); }
svg .cable { stroke: var(--ink); stroke-width: 2; }
svg .tunnel { stroke: #8a3ffc; stroke-width: 2.5; stroke-dasharray: 7 4; }
svg .tunnel-label { fill: #6929c4; font-weight: 700; }
svg .lane-line { stroke: #8c959f; stroke-dasharray: 3 3; }
svg .lane-name { font-weight: 700; } svg .lane-kind, svg .col-head { fill: var(--muted); }
svg .row-bg { fill: #fff; } svg .row-bg.odd { fill: #f4f6f8; }
svg .arrow { stroke: var(--ink); stroke-width: 1.6; fill: none; } svg .arrow.vxlan { stroke: #6929c4; } svg .arrow.lost { stroke: var(--focus); stroke-dasharray: 4 3; }
svg .arrowhead { fill: var(--ink); } svg .lost-mark { fill: var(--focus); font-weight: 700; }
svg .pkt { fill: var(--accent); text-decoration: underline; }
svg a.hop { cursor: pointer; outline: none; }
svg a.hop:hover .row-bg { fill: #e3ecfa; }
svg a.hop:focus .row-bg, svg a.hop.current .row-bg { fill: #ffe9a8; stroke: var(--focus); stroke-width: 3; }
details.packet { border: 1px solid #c9d1d9; border-radius: 4px; margin: .4rem 0; padding: .2rem .6rem; }
details.packet > summary { cursor: pointer; font-family: ui-monospace, "DejaVu Sans Mono", monospace; font-size: 13px; }
details.frame { margin: .5rem 0 .5rem 1rem; } details.frame > summary { cursor: pointer; font-weight: 600; }
.pkt-no { font-weight: 700; } .outcome-short, .why, .hex-note { color: var(--muted); }
table { border-collapse: collapse; margin: .6rem 0; font-size: 13px; }
caption { text-align: left; font-weight: 700; padding: .2rem 0; }
th, td { border: 1px solid #d0d7de; padding: .15rem .45rem; vertical-align: top; text-align: left; }
thead th { background: #eef1f4; }
td.num { text-align: right; font-variant-numeric: tabular-nums; }
td.raw, td.summary, table.layer th[scope=row] { font-family: ui-monospace, "DejaVu Sans Mono", monospace; white-space: nowrap; }
table.layer th[scope=row] { font-weight: 400; }
table.depth-1 { margin-left: 1.5rem; } table.depth-2 { margin-left: 3rem; } table.depth-3 { margin-left: 4.5rem; }
table.journey ul { margin: 0; padding-left: 1rem; }
.problem { color: var(--focus); font-weight: 600; }
pre { font: 12.5px/1.35 ui-monospace, "DejaVu Sans Mono", monospace; background: #f6f8fa; border: 1px solid #d0d7de; padding: .5rem; overflow: auto; }
.note { background: #fff4ce; border-left: 4px solid #9a6700; padding: .4rem .7rem; }
`;

export const REPORT_JS = `
(function () {
  'use strict';
  function reveal(id, focus) {
    var target = document.getElementById(id);
    if (!target) return;
    var packet = target;
    for (var el = target; el; el = el.parentElement) if (el.tagName === 'DETAILS') { el.open = true; packet = el; }
    // The packet's journey comes first, the frame's anatomy (now open) under it: show the packet from
    // its top, and put the focus where the eye is, on its summary.
    packet.scrollIntoView({ block: 'start' });
    var summary = packet.querySelector(':scope > summary');
    if (focus && summary) summary.focus({ preventScroll: true });
  }
  document.addEventListener('click', function (e) {
    var row = e.target && e.target.closest ? e.target.closest('a.hop') : null;
    if (!row) return;
    e.preventDefault();
    var old = document.querySelectorAll('a.hop.current');
    for (var i = 0; i < old.length; i++) old[i].classList.remove('current');
    row.classList.add('current');
    var id = row.getAttribute('href').slice(1);
    history.replaceState(null, '', '#' + id);
    reveal(id, true);
  });
  function fromHash() { if (location.hash.length > 1) reveal(decodeURIComponent(location.hash.slice(1)), false); }
  window.addEventListener('hashchange', fromHash);
  fromHash();
})();
`;
