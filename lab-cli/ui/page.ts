// The page `lab ui` serves: plain HTML and CSS, no framework and nothing from a CDN (works offline).
// Sized for a projector: 1280×720 shows every panel, text at 15 px.
import { hosts } from '../../services/common/topology.js';
import { topologySvg } from './topology-svg.js';

const CSS = `
*{box-sizing:border-box}
html,body{margin:0;height:100%}
body{font:15px/1.35 system-ui,sans-serif;color:#1b1f24;background:#f6f8fa;display:flex;flex-direction:column}
header{display:flex;gap:10px;align-items:center;padding:8px 12px;background:#0b3d91;color:#fff}
header h1{font-size:17px;margin:0 6px 0 0;white-space:nowrap}
#omnibox{flex:1;font:16px ui-monospace,monospace;padding:6px 10px;border-radius:16px;border:0}
header select,header button,header label{font-size:14px}
#live{white-space:nowrap;font-size:13px}#live.on::before{content:"● ";color:#4ae168}#live.off::before{content:"● ";color:#ff8182}
#controls{display:flex;flex-wrap:wrap;gap:6px 14px;align-items:center;padding:6px 12px;background:#fff;border-bottom:1px solid #d0d7de;font-size:14px}
#controls input{width:150px;font-size:14px}#controls select{font-size:14px}
#controls .done{color:#1a7f37}#controls .bad{color:#cf222e}
main{flex:1;display:grid;grid-template-columns:540px 1fr;grid-template-rows:auto 1fr 1fr;gap:8px;padding:8px;min-height:0}
section{background:#fff;border:1px solid #d0d7de;border-radius:6px;padding:6px 10px;overflow:auto;min-height:0}
section h2{position:sticky;top:0;background:#fff;font-size:14px;margin:0 0 4px;color:#57606a;text-transform:uppercase;letter-spacing:.04em}
#topology{grid-column:1;grid-row:1}#page{grid-column:1;grid-row:2}#scenarios{grid-column:1;grid-row:3}
#ladder{grid-column:2;grid-row:1/3;display:flex;flex-direction:column;padding:0}#ladder h2{padding:6px 10px 0}
#ladder iframe{flex:1;border:0;width:100%}
#timeline{grid-column:2;grid-row:3}
#topology svg{width:100%;height:auto;display:block}
.host rect{fill:#d0d7de;stroke:#57606a}.host text{font:600 15px system-ui,sans-serif;fill:#1b1f24}.host .state{font-weight:400;font-size:13px}
.host.running rect{fill:#dafbe1;stroke:#1a7f37}.host.dead rect,.host.stopped rect{fill:#ffebe9;stroke:#cf222e}
.host.off rect{fill:#eaeef2;stroke:#8c959f;stroke-dasharray:4 3}.host.starting rect{fill:#fff8c5;stroke:#9a6700}
.host.busy rect{stroke-width:3}
.host .link{stroke:#57606a}.net line{stroke-width:4}.net-home line{stroke:#bf8700}.net-internet line{stroke:#0969da}.net-backend line{stroke:#8250df}
.net text{font:14px system-ui,sans-serif;fill:#57606a}
pre{margin:0;font:13px/1.35 ui-monospace,monospace;white-space:pre-wrap}
#status-line.err{color:#cf222e;font-weight:600}#status-line.ok{color:#1a7f37;font-weight:600}
#filters{display:flex;gap:8px;padding-bottom:4px;position:sticky;top:22px;background:#fff}#filters input,#filters select{font-size:13px}
#events{list-style:none;margin:0;padding:0;font:13px/1.3 ui-monospace,monospace}
#events li{padding:1px 0;border-bottom:1px solid #f0f2f4}#events .h{display:inline-block;width:92px;color:#0b3d91;font-weight:600}
#events .k{display:inline-block;width:150px;color:#8250df;overflow:hidden;text-overflow:ellipsis;white-space:nowrap;vertical-align:top}
.scenario{border-bottom:1px solid #eaeef2;padding:4px 0}.scenario summary{cursor:pointer}
.scenario .title{font-weight:600}.scenario button{margin-left:8px}
.verdict{font-weight:700;margin-left:6px}.verdict.passed{color:#1a7f37}.verdict.failed{color:#cf222e}.verdict.skipped{color:#9a6700}
.scenario .links a{margin-right:10px}.scenario ol{margin:2px 0 2px 18px;padding:0}
#runlog{max-height:9em;overflow:auto;background:#f6f8fa}
`;

export function uiPage(token: string): string {
  const options = hosts.map((h) => `<option>${h.name}</option>`).join('');
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width">
<title>enterlab: the lab, live</title><style>${CSS}</style></head>
<body data-token="${token}">
<header>
  <h1>enterlab</h1>
  <form id="address"><input id="omnibox" name="text" autocomplete="off" spellcheck="false"
    placeholder="type a URL or words and press Enter (lab browse)" aria-label="address bar"></form>
  <label>DNS <select id="dns" title="how the lab browser resolves: plain UDP, or encrypted to the resolver">
    <option value="udp">udp</option><option value="dot">DoT</option><option value="doh">DoH</option></select></label>
  <label><input type="checkbox" id="nocache"> no cache</label>
  <span id="live" class="off">connecting</span>
</header>
<div id="controls">
  <span><input id="revoke-name" value="www.example.test" aria-label="certificate to revoke"><button data-control="ca.revoke">Revoke</button></span>
  <span><input id="block-rule" value="sni blocked.test" aria-label="censor rule"><button data-control="block.add">Block</button><button data-control="block.clear">Unblock all</button></span>
  <span><input id="purge-url" value="https://www.example.test/" aria-label="URL to purge"><button data-control="cache.purge">Purge</button></span>
  <button data-control="dns.flush">Flush DNS</button>
  <span><select id="host-name" aria-label="host">${options}</select><button data-control="host.stop">Stop</button><button data-control="host.start">Start</button></span>
  <span id="control-result" role="status"></span>
</div>
<main>
  <section id="topology"><h2>hosts</h2>${topologySvg()}</section>
  <section id="page"><h2>the page, as painted</h2><div id="status-line">nothing browsed yet</div><pre id="painted"></pre>
    <h2>waterfall</h2><pre id="waterfall"></pre><div id="browse-files"></div></section>
  <section id="scenarios"><h2>scenarios</h2><div id="scenario-list">loading…</div><pre id="runlog"></pre></section>
  <section id="ladder"><h2>ladder <span id="ladder-count"></span></h2><iframe id="ladder-frame" title="ladder" sandbox="allow-scripts allow-same-origin"></iframe></section>
  <section id="timeline"><h2>events</h2>
    <div id="filters"><select id="filter-host" aria-label="filter by host"><option value="">every host</option>${options}<option>lab</option></select>
      <input id="filter-kind" placeholder="kind, e.g. dns. or tls" aria-label="filter by kind"><span id="event-count"></span></div>
    <ul id="events"></ul></section>
</main>
<script type="module" src="/app.js?token=${token}"></script>
</body></html>
`;
}
